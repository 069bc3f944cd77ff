//! Records made inside a C timer carry its span's exemplar: the timer's own
//! records (the count and duration at finish, the errors of a failure) and,
//! between `photon_compile_enter` and `photon_compile_exit`, the C code's.
//!
//! One process-wide set-up (traces, exporter), so one test in its own binary.

use photon_metrics::export::encode::Format;
use photon_metrics_ffi::error::*;
use photon_metrics_ffi::exporter::*;
use photon_metrics_ffi::labels::*;
use photon_metrics_ffi::record::*;
use photon_metrics_ffi::timers::*;
use photon_metrics_ffi::traces::*;
use std::ffi::{CStr, CString};
use std::ptr;

fn last() -> String {
    // SAFETY: `photon_last_error_message` returns this thread's last message
    // (alive until the next failing call on this thread, and none runs before
    // it is copied here) or a static text, both NUL-terminated.
    unsafe { CStr::from_ptr(photon_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

/// The exemplar `{trace_id, span_id}` of the OpenMetrics sample starting
/// with `series` (an exact series, labels included), if it has one.
fn exemplar(om: &str, series: &str) -> Option<(String, String)> {
    let line = om
        .lines()
        .find(|l| l.strip_prefix(series).is_some_and(|r| r.starts_with(' ')))
        .unwrap_or_else(|| panic!("no sample {series} in\n{om}"));
    let ids = line.split_once(" # {")?.1;
    let field = |name: &str| {
        let start = ids.find(&format!("{name}=\""))? + name.len() + 2;
        Some(ids[start..].split('"').next()?.to_string())
    };
    Some((field("trace_id")?, field("span_id")?))
}

#[test]
fn records_inside_a_c_timer_carry_its_exemplar() {
    // Spans are sampled and exported (to a collector that is not there:
    // dropped and counted, which is not an error).
    let endpoint = CString::new("http://127.0.0.1:1").unwrap();
    assert_eq!(
        // SAFETY: a NULL service name is allowed; `endpoint` is
        // NUL-terminated and alive during the call.
        unsafe { photon_traces_init(ptr::null(), endpoint.as_ptr()) },
        PHOTON_OK,
        "{}",
        last()
    );
    let no_listener = CString::new("").unwrap();
    assert_eq!(
        // SAFETY: `no_listener` is NUL-terminated and alive during the call;
        // no labels (NULL with a count of 0).
        unsafe { photon_exporter_install(no_listener.as_ptr(), ptr::null(), 0) },
        PHOTON_OK,
        "{}",
        last()
    );
    let new = |value: &str| {
        let mut out = PhotonTarget { slot: 0 };
        assert_eq!(
            // SAFETY: `value.len()` readable bytes at `value.as_ptr()`; `out`
            // is a writable local.
            unsafe { photon_target_new(value.as_ptr().cast(), value.len(), &mut out) },
            PHOTON_OK
        );
        out
    };
    let (ok_target, failing_target) = (new("mzi-ok"), new("mzi-failing"));
    let mut model = PhotonModelType { slot: 0 };
    assert_eq!(
        // SAFETY: 4 readable bytes of a static text; `model` is a writable
        // local.
        unsafe { photon_model_type_new("bert".as_ptr().cast(), 4, &mut model) },
        PHOTON_OK
    );
    let mut kind = PhotonErrorKind { slot: 0 };
    assert_eq!(
        // SAFETY: 13 readable bytes of a static text; `kind` is a writable
        // local.
        unsafe { photon_error_kind_new("UnsupportedOp".as_ptr().cast(), 13, &mut kind) },
        PHOTON_OK
    );

    // A compilation whose C code records a cache hit inside its span.
    let mut timer: *mut PhotonCompileTimer = ptr::null_mut();
    assert_eq!(
        // SAFETY: a NULL name is allowed (the default); `timer` is a writable
        // local.
        unsafe { photon_compile_start(ptr::null(), ok_target, model, 10, &mut timer) },
        PHOTON_OK
    );
    // SAFETY: `timer` was just started, is not finished, and only this thread
    // uses it.
    assert_eq!(unsafe { photon_compile_enter(timer) }, PHOTON_OK);
    assert_eq!(photon_record_cache_hit(ok_target), PHOTON_OK);
    // SAFETY: the same live timer, exited on the thread that entered it.
    assert_eq!(unsafe { photon_compile_exit(timer) }, PHOTON_OK);
    // Outside the span again: no exemplar.
    assert_eq!(photon_record_cache_miss(ok_target), PHOTON_OK);
    assert_eq!(
        // SAFETY: the same live timer, finished here once.
        unsafe { photon_compile_finish(timer, PHOTON_STATUS_SUCCESS) },
        PHOTON_OK
    );

    // A compilation that fails, never entered by its C code.
    assert_eq!(
        // SAFETY: a NULL name is allowed (the default); `timer` is a writable
        // local.
        unsafe { photon_compile_start(ptr::null(), failing_target, model, 10, &mut timer) },
        PHOTON_OK
    );
    // SAFETY: `timer` was just started, is not finished, and only this thread
    // uses it.
    assert_eq!(unsafe { photon_compile_fail(timer, kind) }, PHOTON_OK);
    assert_eq!(
        // SAFETY: the same live timer, finished here once.
        unsafe { photon_compile_finish(timer, PHOTON_STATUS_ERROR) },
        PHOTON_OK
    );

    // An inference call.
    let mut call: *mut PhotonInferenceTimer = ptr::null_mut();
    assert_eq!(
        // SAFETY: a NULL name is allowed (the default); `call` is a writable
        // local.
        unsafe { photon_inference_start(ptr::null(), PHOTON_DEVICE_TYPE_PCM, 5, &mut call) },
        PHOTON_OK
    );
    // SAFETY: `call` was just started, and is finished here once.
    assert_eq!(unsafe { photon_inference_finish(call, true) }, PHOTON_OK);

    let om = installed()
        .expect("installed above")
        .render_as(Format::OpenMetrics);
    let compiled = exemplar(
        &om,
        r#"photon_compilations_total{target="mzi-ok",status="success",model_type="bert"}"#,
    )
    .expect("the timer's own count carries its span");
    let hit = exemplar(&om, r#"photon_cache_hits_total{target="mzi-ok"}"#)
        .expect("a record between enter and exit carries the span");
    assert_eq!(hit, compiled, "the same span");
    assert_eq!(
        exemplar(&om, r#"photon_cache_misses_total{target="mzi-ok"}"#),
        None,
        "after exit the span is no longer current"
    );
    let failed = exemplar(
        &om,
        r#"photon_compilation_errors_total{target="mzi-failing",error_kind="UnsupportedOp"}"#,
    )
    .expect("the failure's error count carries its span");
    assert_ne!(failed.1, compiled.1, "another span");
    assert!(
        exemplar(
            &om,
            r#"photon_compilations_total{target="mzi-failing",status="error",model_type="bert"}"#
        )
        .is_some_and(|e| e == failed),
        "{om}"
    );
    assert!(
        exemplar(&om, r#"photon_inference_ops_total{device_type="pcm"}"#).is_some(),
        "the inference's ops count carries its span\n{om}"
    );
    assert_eq!(photon_traces_shutdown(), PHOTON_OK);
}
