//! Every label by name (`photon_label_*`), table-driven from the registered
//! families as [`families`](crate::families) is: a label added to the
//! catalog, or declared by the Rust application this library is part of,
//! gets values, caps and retirement from C without a function of its own.
//! A value is the `uint32_t` the `photon_family_*` records take.
//!
//! ```c
//! uint32_t tenant;
//! photon_label_value("tenant", 6, "acme", 4, &tenant);
//! photon_family_add(requests, &tenant, 1, 1);
//! photon_label_retire("tenant", 6, tenant, NULL);
//! ```

use crate::error::{guard, label_text, put, Failure, PhotonCode};
use crate::error::{PHOTON_ERR_INVALID_CONFIG, PHOTON_ERR_INVALID_LABEL};
use photon_metrics::families::DynamicLabel;
use photon_metrics::labels::{OpenLabel, MAX_VALUE_LEN};
use std::ffi::c_char;
use std::time::Duration;

/// The longest label name accepted.
const MAX_LABEL_NAME_LEN: usize = 256;

/// The label called `name` (`len` bytes), or the failure that says none is.
///
/// # Safety
/// `name` points to `len` readable bytes.
unsafe fn label(name: *const c_char, len: usize) -> Result<DynamicLabel, Failure> {
    // SAFETY: the caller promises `len` readable bytes at `name`, more than
    // `label_text` asks (it reads nothing when `name` is NULL or `len` is
    // over the limit).
    let name = unsafe { label_text(name, len, MAX_LABEL_NAME_LEN, "the label name") }?;
    DynamicLabel::lookup(name).ok_or_else(|| {
        Failure::new(
            PHOTON_ERR_INVALID_LABEL,
            format!("no registered family has a label called `{name}`"),
        )
    })
}

/// The open label called `name` (`len` bytes).
///
/// # Safety
/// `name` points to `len` readable bytes.
unsafe fn open(name: *const c_char, len: usize) -> Result<(DynamicLabel, OpenLabel), Failure> {
    // SAFETY: the caller's promise, passed on.
    let found = unsafe { label(name, len) }?;
    match found.open() {
        Some(open) => Ok((found, open)),
        None => Err(Failure::new(
            PHOTON_ERR_INVALID_LABEL,
            format!("`{}` is a closed label", found.name()),
        )),
    }
}

/// Writes to `out` the value of label `label` (`label_len` bytes) whose
/// text is `value` (`len` bytes, not NUL-terminated): a closed label's
/// index of that value, or an open label's handle, validated and interned
/// under its cap (past the cap, `__overflow__`'s handle, 0, and the call
/// succeeds). `PHOTON_ERR_INVALID_LABEL` for a label no registered family
/// has, an empty value or one over 128 bytes; `PHOTON_ERR_INVALID_ENUM`
/// for a text no closed value has.
///
/// # Safety
/// `label` points to `label_len` readable bytes, `value` to `len`; `out`
/// to a writable `uint32_t`.
#[no_mangle]
pub unsafe extern "C" fn photon_label_value(
    label: *const c_char,
    label_len: usize,
    value: *const c_char,
    len: usize,
    out: *mut u32,
) -> PhotonCode {
    guard(|| {
        // SAFETY: the caller promises `label_len` readable bytes at `label`.
        let found = unsafe { self::label(label, label_len) }?;
        // SAFETY: the caller promises `len` readable bytes at `value`.
        let text = unsafe { label_text(value, len, MAX_VALUE_LEN, "the label value") }?;
        let raw = found.value(text).map_err(|e| {
            let code = match e {
                photon_metrics::labels::LabelError::UnknownVariant { .. } => {
                    crate::error::PHOTON_ERR_INVALID_ENUM
                }
                _ => PHOTON_ERR_INVALID_LABEL,
            };
            Failure::new(code, e.to_string())
        })?;
        // SAFETY: the caller promises `out` is NULL or writable; `put`
        // refuses NULL.
        unsafe { put(out, raw, "out") }
    })
}

/// Retires the open value `value` of label `label` (`label_len` bytes), as
/// its type's `retire()` does in Rust: its series leave every family after
/// the next scrape shows their final values. Writes to `retired` (when not
/// NULL) 1 if it was live, 0 if there was nothing to retire.
///
/// # Safety
/// `label` points to `label_len` readable bytes; `retired` is NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn photon_label_retire(
    label: *const c_char,
    label_len: usize,
    value: u32,
    retired: *mut i32,
) -> PhotonCode {
    guard(|| {
        // SAFETY: the caller promises `label_len` readable bytes at `label`.
        let (found, _) = unsafe { open(label, label_len) }?;
        let done = found.retire(value);
        if !retired.is_null() {
            // SAFETY: not NULL, and the caller promises it is writable then.
            unsafe { put(retired, i32::from(done), "retired") }?;
        }
        Ok(())
    })
}

/// Sets the cap of the open label `label` (`label_len` bytes), any
/// registered family's, as `photon_set_label_cap` does for the catalog's
/// by number: 1..=4096, before the label's first value.
///
/// # Safety
/// `label` points to `label_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn photon_label_set_cap(
    label: *const c_char,
    label_len: usize,
    cap: usize,
) -> PhotonCode {
    guard(|| {
        // SAFETY: the caller promises `label_len` readable bytes at `label`.
        let (_, found) = unsafe { open(label, label_len) }?;
        photon_metrics::labels::set_cap(found, cap)
            .map_err(|e| Failure::new(PHOTON_ERR_INVALID_CONFIG, e.to_string()))
    })
}

/// Sets the idle expiry of the open label `label` (`label_len` bytes), in
/// milliseconds (0: never), as `photon_set_label_idle_expiry` does for the
/// catalog's by number.
///
/// # Safety
/// `label` points to `label_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn photon_label_set_idle_expiry(
    label: *const c_char,
    label_len: usize,
    millis: u64,
) -> PhotonCode {
    guard(|| {
        // SAFETY: the caller promises `label_len` readable bytes at `label`.
        let (_, found) = unsafe { open(label, label_len) }?;
        let expiry = (millis != 0).then(|| Duration::from_millis(millis));
        photon_metrics::labels::set_idle_expiry(found, expiry);
        Ok(())
    })
}
