//! Labels by name from C (`photon_label_*`), as a careless or hostile C
//! caller uses them: unknown and closed labels where an open one is
//! needed, texts no value has, NULL and oversized names, a cap set too
//! late; each is a code with a message, and a good call succeeds after them.

use photon_metrics::labels::{self, Location, ModelType};
use photon_metrics_ffi::error::*;
use photon_metrics_ffi::label_values::*;
use std::ffi::CStr;
use std::ptr;
use std::time::Duration;

fn last() -> String {
    // SAFETY: `photon_last_error_message` returns this thread's last message
    // (alive until the next failing call on this thread) or a static text,
    // both NUL-terminated; it is copied at once.
    unsafe { CStr::from_ptr(photon_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

fn value(label: &str, text: &str) -> Result<u32, (PhotonCode, String)> {
    let mut out = u32::MAX;
    // SAFETY: both texts are readable for their lengths; `out` is a local.
    let code = unsafe {
        photon_label_value(
            label.as_ptr().cast(),
            label.len(),
            text.as_ptr().cast(),
            text.len(),
            &mut out,
        )
    };
    match code {
        PHOTON_OK => Ok(out),
        code => Err((code, last())),
    }
}

fn retire(label: &str, raw: u32) -> Result<i32, PhotonCode> {
    let mut retired = -1;
    // SAFETY: `label` is readable for its length; `retired` is a local.
    match unsafe { photon_label_retire(label.as_ptr().cast(), label.len(), raw, &mut retired) } {
        PHOTON_OK => Ok(retired),
        code => Err(code),
    }
}

fn set_cap(label: &str, cap: usize) -> PhotonCode {
    // SAFETY: `label` is readable for its length.
    unsafe { photon_label_set_cap(label.as_ptr().cast(), label.len(), cap) }
}

#[test]
fn any_label_by_name_with_every_wrong_call_refused() {
    // A cap set by name before the label's first value holds.
    assert_eq!(set_cap("location", 5), PHOTON_OK, "{}", last());
    assert_eq!(labels::cap(Location::LABEL), 5);
    // An open value, interned under that cap, and its retirement.
    let rack = value("location", "rack-by-name").unwrap();
    assert_eq!(Location::from_raw(rack).unwrap().as_str(), "rack-by-name");
    assert_eq!(value("location", "rack-by-name"), Ok(rack), "interned once");
    assert_eq!(retire("location", rack), Ok(1));
    assert_eq!(retire("location", rack), Ok(0), "retired already");
    // Too late now: the cap is fixed with the first value.
    assert_eq!(set_cap("location", 9), PHOTON_ERR_INVALID_CONFIG);
    assert!(last().contains("location"), "{}", last());
    // Past the cap, `__overflow__` (0), and no error.
    let folded: Vec<u32> = (0..8)
        .map(|i| value("location", &format!("rack-{i}")).unwrap())
        .collect();
    assert!(folded.contains(&0), "{folded:?}");
    // A closed label's value is its index; a text it lacks is refused.
    assert_eq!(value("status", "cancelled"), Ok(3));
    let (code, message) = value("status", "exploded").unwrap_err();
    assert_eq!(code, PHOTON_ERR_INVALID_ENUM);
    assert!(message.contains("exploded"), "{message}");
    // Open values' own rules.
    assert_eq!(
        value("model_type", "").unwrap_err().0,
        PHOTON_ERR_INVALID_LABEL
    );
    let long = "x".repeat(labels::MAX_VALUE_LEN + 1);
    assert_eq!(
        value("model_type", &long).unwrap_err().0,
        PHOTON_ERR_INVALID_LABEL
    );
    // Labels no family has, and closed labels where an open one is needed.
    let (code, message) = value("no_such_label", "x").unwrap_err();
    assert_eq!(code, PHOTON_ERR_INVALID_LABEL);
    assert!(message.contains("no_such_label"), "{message}");
    assert_eq!(retire("status", 0), Err(PHOTON_ERR_INVALID_LABEL));
    assert_eq!(set_cap("status", 4), PHOTON_ERR_INVALID_LABEL);
    assert!(last().contains("closed"), "{}", last());
    // NULL and absurd lengths: refused before anything is read.
    let mut out = 0u32;
    // SAFETY: NULL pointers are what is under test; the callee reads
    // nothing through them.
    let code = unsafe { photon_label_value(ptr::null(), 8, ptr::null(), 0, &mut out) };
    assert_eq!(code, PHOTON_ERR_NULL_ARGUMENT);
    // SAFETY: the length is over the limit, so the callee reads nothing.
    let code = unsafe { photon_label_set_cap("pass".as_ptr().cast(), usize::MAX, 4) };
    assert_ne!(code, PHOTON_OK);
    // SAFETY: `retired` may be NULL; the label is readable.
    let code =
        unsafe { photon_label_retire("location".as_ptr().cast(), 8, 12345, ptr::null_mut()) };
    assert_eq!(code, PHOTON_OK, "a handle never made retires nothing");
    // Idle expiry by name, and back to never.
    // SAFETY: the label is readable for its length.
    let code = unsafe { photon_label_set_idle_expiry("model_type".as_ptr().cast(), 10, 5_000) };
    assert_eq!(code, PHOTON_OK);
    assert_eq!(
        labels::idle_expiry(ModelType::LABEL),
        Some(Duration::from_secs(5))
    );
    // SAFETY: as above.
    let code = unsafe { photon_label_set_idle_expiry("model_type".as_ptr().cast(), 10, 0) };
    assert_eq!(code, PHOTON_OK);
    assert_eq!(labels::idle_expiry(ModelType::LABEL), None);
    // A good call after all of them.
    assert!(value("model_type", "after-the-errors").unwrap() > 0);
}
