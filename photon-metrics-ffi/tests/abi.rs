//! The C ABI as a C caller sees it: every failure is a code with a message,
//! nothing is recorded by a failed call, and the records land in the
//! exporter's `/metrics`-ready exposition.

use photon_metrics_ffi::error::*;
use photon_metrics_ffi::exporter::*;
use photon_metrics_ffi::labels::*;
use photon_metrics_ffi::record::*;
use photon_metrics_ffi::timers::*;
use std::ffi::{c_char, CStr, CString};
use std::ptr;

fn last() -> String {
    // SAFETY: `photon_last_error_message` returns this thread's last message
    // (alive until the next failing call on this thread, and none runs before
    // it is copied here) or a static text, both NUL-terminated.
    unsafe { CStr::from_ptr(photon_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

fn target(value: &str) -> Result<PhotonTarget, (PhotonCode, String)> {
    let mut out = PhotonTarget { slot: u32::MAX };
    // SAFETY: `value.len()` readable bytes at `value.as_ptr()` and a writable
    // `out`, as `photon_target_new` asks.
    match unsafe { photon_target_new(value.as_ptr().cast(), value.len(), &mut out) } {
        PHOTON_OK => Ok(out),
        code => Err((code, last())),
    }
}

fn render() -> String {
    let mut needed = 0usize;
    assert_eq!(
        // SAFETY: a NULL buffer with capacity 0 is allowed (nothing is
        // written to it); `needed` is a writable local.
        unsafe { photon_exporter_render(ptr::null_mut(), 0, &mut needed) },
        PHOTON_OK
    );
    let mut buffer = vec![0u8; needed];
    let mut again = 0usize;
    // SAFETY: `buffer` is writable for `buffer.len()` bytes; `again` is a
    // writable local.
    let code =
        unsafe { photon_exporter_render(buffer.as_mut_ptr().cast(), buffer.len(), &mut again) };
    assert_eq!(code, PHOTON_OK);
    assert!(again <= buffer.len(), "grew between the two calls");
    CStr::from_bytes_until_nul(&buffer)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string()
}

fn line(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().unwrap())
}

#[test]
fn the_c_abi_end_to_end() {
    // Bad configurations are refused with a code and a message; nothing is installed.
    let bad = CString::new("not-an-address").unwrap();
    assert_eq!(
        // SAFETY: a NUL-terminated address that outlives the call; no labels
        // (NULL with a count of 0).
        unsafe { photon_exporter_install(bad.as_ptr(), ptr::null(), 0) },
        PHOTON_ERR_INVALID_CONFIG
    );
    assert!(last().contains("not-an-address"), "{}", last());
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_addr = CString::new(busy.local_addr().unwrap().to_string()).unwrap();
    assert_eq!(
        // SAFETY: a NUL-terminated address that outlives the call; no labels
        // (NULL with a count of 0).
        unsafe { photon_exporter_install(busy_addr.as_ptr(), ptr::null(), 0) },
        PHOTON_ERR_BIND
    );
    let (name, value) = (
        CString::new("bad name").unwrap(),
        CString::new("x").unwrap(),
    );
    let pair = PhotonLabelPair {
        name: name.as_ptr(),
        value: value.as_ptr(),
    };
    let any = CString::new("127.0.0.1:0").unwrap();
    assert_eq!(
        // SAFETY: a NUL-terminated address and one pair of NUL-terminated
        // strings, all alive during the call.
        unsafe { photon_exporter_install(any.as_ptr(), &pair, 1) },
        PHOTON_ERR_INVALID_CONFIG
    );
    assert_eq!(
        // SAFETY: breaks the contract on purpose (NULL for 2 pairs): NULL is
        // refused before anything is read, which is what this checks.
        unsafe { photon_exporter_install(any.as_ptr(), ptr::null(), 2) },
        PHOTON_ERR_NULL_ARGUMENT
    );
    // A count no array can have (a negative count cast to size_t) is refused
    // before any pair is read.
    assert_eq!(
        // SAFETY: breaks the contract on purpose (one pair, a count of
        // `usize::MAX`): a count no array can have is refused before any pair
        // is read, which is what this checks.
        unsafe { photon_exporter_install(any.as_ptr(), &pair, usize::MAX) },
        PHOTON_ERR_INVALID_CONFIG
    );
    assert!(last().contains("label_count"), "{}", last());
    let mut port = 0u16;
    assert_eq!(
        // SAFETY: `port` is a writable local.
        unsafe { photon_exporter_port(&mut port) },
        PHOTON_ERR_INVALID_CONFIG
    );

    // A good install, then a second is refused.
    let (name, value) = (
        CString::new("service").unwrap(),
        CString::new("abi-test").unwrap(),
    );
    let pair = PhotonLabelPair {
        name: name.as_ptr(),
        value: value.as_ptr(),
    };
    assert_eq!(
        // SAFETY: a NUL-terminated address and one pair of NUL-terminated
        // strings, all alive during the call.
        unsafe { photon_exporter_install(any.as_ptr(), &pair, 1) },
        PHOTON_OK,
        "{}",
        last()
    );
    // SAFETY: `port` is a writable local.
    assert_eq!(unsafe { photon_exporter_port(&mut port) }, PHOTON_OK);
    assert_ne!(port, 0);
    assert_eq!(
        // SAFETY: a NUL-terminated address that outlives the call; no labels
        // (NULL with a count of 0).
        unsafe { photon_exporter_install(any.as_ptr(), ptr::null(), 0) },
        PHOTON_ERR_ALREADY_INSTALLED
    );

    // Caps: set before the first value, then frozen; past the cap a value is __overflow__.
    assert_eq!(
        photon_set_label_cap(PHOTON_LABEL_LOCATION, 0),
        PHOTON_ERR_INVALID_CONFIG
    );
    assert_eq!(photon_set_label_cap(9, 2), PHOTON_ERR_INVALID_ENUM);
    assert_eq!(photon_set_label_cap(PHOTON_LABEL_LOCATION, 2), PHOTON_OK);
    let location = |v: &str| {
        let mut out = PhotonLocation { slot: u32::MAX };
        assert_eq!(
            // SAFETY: `v.len()` readable bytes at `v.as_ptr()`; `out` is a
            // writable local.
            unsafe { photon_location_new(v.as_ptr().cast(), v.len(), &mut out) },
            PHOTON_OK
        );
        out
    };
    let (a, b, c) = (location("rack-a"), location("rack-b"), location("rack-c"));
    assert!(a.slot != 0 && b.slot != 0, "within the cap");
    assert_eq!(c.slot, 0, "the third value is __overflow__");
    assert_eq!(
        photon_set_label_cap(PHOTON_LABEL_LOCATION, 8),
        PHOTON_ERR_INVALID_CONFIG
    );
    assert!(last().contains("location"), "{}", last());
    assert_eq!(
        photon_set_active_devices(PHOTON_DEVICE_TYPE_MZI, c, 3),
        PHOTON_OK
    );

    // Labels: invalid values are codes, not crashes.
    assert_eq!(target("").unwrap_err().0, PHOTON_ERR_INVALID_LABEL);
    let long = "x".repeat(129);
    let (code, message) = target(&long).unwrap_err();
    assert_eq!(code, PHOTON_ERR_INVALID_LABEL);
    assert!(message.contains("target"), "{message}");
    let invalid_utf8 = [0xffu8, 0xfe];
    let mut out = PhotonTarget { slot: 0 };
    assert_eq!(
        // SAFETY: 2 readable bytes at `invalid_utf8`; `out` is a writable
        // local.
        unsafe { photon_target_new(invalid_utf8.as_ptr().cast::<c_char>(), 2, &mut out) },
        PHOTON_ERR_INVALID_UTF8
    );
    assert_eq!(
        // SAFETY: breaks the contract on purpose (a NULL value): NULL is
        // refused before anything is read.
        unsafe { photon_target_new(ptr::null(), 3, &mut out) },
        PHOTON_ERR_NULL_ARGUMENT
    );
    assert_eq!(
        // SAFETY: 2 readable bytes; the NULL `out` breaks the contract on
        // purpose and is refused before any write.
        unsafe { photon_target_new("ok".as_ptr().cast(), 2, ptr::null_mut()) },
        PHOTON_ERR_NULL_ARGUMENT
    );
    // Hostile but valid values are kept exactly (and escaped on output).
    let hostile = target("a\"b\\c\nd").unwrap();

    // Records: a forged handle or an out-of-range enum records nothing.
    let mzi = target("mzi-64x64").unwrap();
    let mut model = PhotonModelType { slot: 0 };
    assert_eq!(
        // SAFETY: 4 readable bytes of a static text; `model` is a writable
        // local.
        unsafe { photon_model_type_new("bert".as_ptr().cast(), 4, &mut model) },
        PHOTON_OK
    );
    assert_eq!(
        photon_record_compilation(PhotonTarget { slot: 4000 }, PHOTON_STATUS_SUCCESS, model),
        PHOTON_ERR_INVALID_HANDLE
    );
    assert!(last().contains("4000"), "{}", last());
    assert_eq!(
        photon_record_compilation(mzi, 17, model),
        PHOTON_ERR_INVALID_ENUM
    );
    assert_eq!(
        photon_record_compilation(mzi, PHOTON_STATUS_SUCCESS, model),
        PHOTON_OK
    );
    assert_eq!(
        photon_record_compilation(hostile, PHOTON_STATUS_ERROR, model),
        PHOTON_OK
    );
    assert_eq!(photon_set_memory_usage(mzi, 2, 1), PHOTON_ERR_INVALID_ENUM);
    let mut device = PhotonDeviceId { slot: 0 };
    assert_eq!(
        // SAFETY: 5 readable bytes of a static text; `device` is a writable
        // local.
        unsafe { photon_device_id_new("opu-7".as_ptr().cast(), 5, &mut device) },
        PHOTON_OK
    );
    assert_eq!(
        photon_set_device_status(device, PHOTON_DEVICE_TYPE_PCM, true),
        PHOTON_OK
    );
    assert_eq!(
        photon_set_device_status(device, 5, true),
        PHOTON_ERR_INVALID_ENUM
    );
    assert_eq!(photon_set_temperature_celsius(device, 71.5), PHOTON_OK);

    // Timers: a compile that fails, one that succeeds; an inference without a kind.
    let mut kind = PhotonErrorKind { slot: 0 };
    assert_eq!(
        // SAFETY: 13 readable bytes of a static text; `kind` is a writable
        // local.
        unsafe { photon_error_kind_new("UnsupportedOp".as_ptr().cast(), 13, &mut kind) },
        PHOTON_OK
    );
    let mut timer: *mut PhotonCompileTimer = ptr::null_mut();
    assert_eq!(
        // SAFETY: a NULL name is allowed (the default); `timer` is a writable
        // local.
        unsafe { photon_compile_start(ptr::null(), mzi, model, 10, &mut timer) },
        PHOTON_OK
    );
    // SAFETY: `timer` comes from `photon_compile_start` above, is not
    // finished, and only this thread uses it.
    assert_eq!(unsafe { photon_compile_fail(timer, kind) }, PHOTON_OK);
    assert_eq!(
        // SAFETY: the same live timer; an invalid status leaves it alive,
        // which is what this checks.
        unsafe { photon_compile_finish(timer, 99) },
        PHOTON_ERR_INVALID_ENUM,
        "timer stays alive"
    );
    assert_eq!(
        // SAFETY: the same live timer, finished here once and not used again
        // before the next start.
        unsafe { photon_compile_finish(timer, PHOTON_STATUS_ERROR) },
        PHOTON_OK
    );
    assert_eq!(
        // SAFETY: a NULL name is allowed (the default); `timer` is a writable
        // local.
        unsafe { photon_compile_start(ptr::null(), mzi, model, 10, &mut timer) },
        PHOTON_OK
    );
    assert_eq!(
        // SAFETY: `timer` was just started, and is finished here once.
        unsafe { photon_compile_finish(timer, PHOTON_STATUS_SUCCESS) },
        PHOTON_OK
    );
    assert_eq!(
        // SAFETY: the NULL timer breaks the contract on purpose; it is
        // refused before anything is read.
        unsafe { photon_compile_fail(ptr::null_mut(), kind) },
        PHOTON_ERR_NULL_ARGUMENT
    );
    let mut call: *mut PhotonInferenceTimer = ptr::null_mut();
    assert_eq!(
        // SAFETY: a NULL name is allowed (the default); `call` is a writable
        // local.
        unsafe { photon_inference_start(ptr::null(), PHOTON_DEVICE_TYPE_PCM, 5, &mut call) },
        PHOTON_OK
    );
    // SAFETY: `call` comes from `photon_inference_start` above, and is
    // finished here once.
    assert_eq!(unsafe { photon_inference_finish(call, false) }, PHOTON_OK);
    assert_eq!(
        // SAFETY: a NULL name is allowed (the default); `call` is a writable
        // local.
        unsafe { photon_inference_start(ptr::null(), PHOTON_DEVICE_TYPE_PCM, 5, &mut call) },
        PHOTON_OK
    );
    // SAFETY: `call` was just started, is not finished, and only this thread
    // uses it.
    assert_eq!(unsafe { photon_inference_set_ops(call, 8) }, PHOTON_OK);
    // SAFETY: the same live timer, finished here once.
    assert_eq!(unsafe { photon_inference_finish(call, true) }, PHOTON_OK);

    let text = render();
    let s = r#"service="abi-test""#;
    assert_eq!(
        line(
            &text,
            &format!(
                r#"photon_compilations_total{{target="mzi-64x64",status="success",model_type="bert",{s}}}"#
            )
        ),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        line(
            &text,
            &format!(
                r#"photon_compilations_total{{target="mzi-64x64",status="error",model_type="bert",{s}}}"#
            )
        ),
        Some(1.0)
    );
    assert_eq!(
        line(
            &text,
            &format!(
                r#"photon_compilations_total{{target="a\"b\\c\nd",status="error",model_type="bert",{s}}}"#
            )
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        line(
            &text,
            &format!(
                r#"photon_compilation_errors_total{{target="mzi-64x64",error_kind="UnsupportedOp",{s}}}"#
            )
        ),
        Some(1.0)
    );
    assert_eq!(
        line(
            &text,
            &format!(r#"photon_device_status{{device_id="opu-7",device_type="pcm",{s}}}"#)
        ),
        Some(1.0)
    );
    assert_eq!(
        line(
            &text,
            &format!(r#"photon_runtime_errors_total{{error_kind="unknown",{s}}}"#)
        ),
        Some(1.0),
        "an inference finished as failed without a kind"
    );
    assert_eq!(
        line(
            &text,
            &format!(r#"photon_inference_ops_total{{device_type="pcm",{s}}}"#)
        ),
        Some(8.0)
    );
    // The forged handle's record went nowhere: the three series above are
    // all the family has, and no series names slot 4000. (A search for the
    // bare digits also matched process metrics whose numbers held them.)
    let compilations = text
        .lines()
        .filter(|l| l.starts_with("photon_compilations_total{"))
        .count();
    assert_eq!(compilations, 3, "{text}");
    assert!(!text.contains("=\"4000\""), "{text}");
    assert_eq!(
        line(
            &text,
            &format!(r#"photon_active_devices{{device_type="mzi",location="__overflow__",{s}}}"#)
        ),
        Some(3.0)
    );
    assert_eq!(
        line(
            &text,
            &format!(r#"photon_metrics_label_overflow_total{{label="location",{s}}}"#)
        ),
        Some(1.0),
        "{text}"
    );
}

#[test]
fn a_length_past_the_label_limit_is_refused_before_anything_is_read() {
    // What a C caller gets from a `strlen` gone wrong or `(size_t)-1`: a
    // code and a message, never a read of SIZE_MAX bytes.
    let value = *b"mzi";
    for len in [usize::MAX, isize::MAX as usize + 1, 1 << 40, 129] {
        let mut out = PhotonTarget { slot: u32::MAX };
        assert_eq!(
            // SAFETY: breaks the contract on purpose (3 readable bytes, `len`
            // claimed): a length over the 128-byte limit is refused before
            // anything is read, which is what this test checks.
            unsafe { photon_target_new(value.as_ptr().cast(), len, &mut out) },
            PHOTON_ERR_INVALID_LABEL,
            "length {len}"
        );
        assert_eq!(out.slot, u32::MAX, "nothing written for length {len}");
        let message = last();
        assert!(
            message.contains(&len.to_string()) && message.contains("128"),
            "{message}"
        );
    }
    let mut device = PhotonDeviceId { slot: u32::MAX };
    assert_eq!(
        // SAFETY: as above: `usize::MAX` claimed over 3 readable bytes,
        // refused before any read.
        unsafe { photon_device_id_new(value.as_ptr().cast(), usize::MAX, &mut device) },
        PHOTON_ERR_INVALID_LABEL
    );
    let mut kind = PhotonErrorKind { slot: u32::MAX };
    assert_eq!(
        // SAFETY: as above: `usize::MAX` claimed over 3 readable bytes,
        // refused before any read.
        unsafe { photon_error_kind_new(value.as_ptr().cast(), usize::MAX, &mut kind) },
        PHOTON_ERR_INVALID_LABEL
    );
    let mut model = PhotonModelType { slot: u32::MAX };
    assert_eq!(
        // SAFETY: as above: `usize::MAX` claimed over 3 readable bytes,
        // refused before any read.
        unsafe { photon_model_type_new(value.as_ptr().cast(), usize::MAX, &mut model) },
        PHOTON_ERR_INVALID_LABEL
    );
    let mut location = PhotonLocation { slot: u32::MAX };
    assert_eq!(
        // SAFETY: as above: `usize::MAX` claimed over 3 readable bytes,
        // refused before any read.
        unsafe { photon_location_new(value.as_ptr().cast(), usize::MAX, &mut location) },
        PHOTON_ERR_INVALID_LABEL
    );
    // The limit itself is still a valid length.
    let longest = "t".repeat(128);
    assert!(target(&longest).is_ok());
}
