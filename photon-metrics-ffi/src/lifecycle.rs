//! Series lifecycle across the boundary: retiring open label values and
//! their idle expiry, as `DeviceId::retire` and `labels::set_idle_expiry`
//! do in Rust.
//!
//! A handle kept after its value was retired stays safe: records through it
//! succeed (`PHOTON_OK`) and record nothing, counted in
//! `photon_metrics_stale_records_total{label}`, even once the slot serves a
//! new value (the handle carries the slot's generation).

use crate::error::{put, Failure, PhotonCode, PHOTON_ERR_INVALID_ENUM};
use crate::labels::OPEN_LABELS;
use crate::labels::{
    PhotonDeviceId, PhotonErrorKind, PhotonLocation, PhotonModelType, PhotonOpenLabel, PhotonPass,
    PhotonTarget,
};
use std::time::Duration;

/// Retires through `retire` and writes whether it did to `retired` (if not NULL).
///
/// # Safety
/// `retired` is NULL or points to a writable `bool`.
unsafe fn retire(retire: impl FnOnce() -> Result<bool, Failure>, retired: *mut bool) -> PhotonCode {
    crate::error::guard(|| {
        let done = retire()?;
        if retired.is_null() {
            return Ok(());
        }
        // SAFETY: `retired` is not NULL (checked above), and this function's
        // caller promises it then points to a writable `bool`.
        unsafe { put(retired, done, "retired") }
    })
}

/// Retires a `target` value: every series carrying it leaves the next
/// scrape and its slot is freed for a new value. `retired` (may be NULL)
/// gets `true` when this call retired it, `false` when there was nothing to
/// retire (already retired, or `__overflow__`).
/// `PHOTON_ERR_INVALID_HANDLE` for a handle no value ever had.
///
/// # Safety
/// `retired` is NULL or points to a writable `bool`.
#[no_mangle]
pub unsafe extern "C" fn photon_target_retire(
    value: PhotonTarget,
    retired: *mut bool,
) -> PhotonCode {
    // SAFETY: the caller promises `retired` is NULL or a writable `bool`,
    // the whole of `retire`'s contract.
    unsafe { retire(|| Ok(value.get()?.retire()), retired) }
}

/// Retires a `model_type` value, as [`photon_target_retire`].
///
/// # Safety
/// `retired` is NULL or points to a writable `bool`.
#[no_mangle]
pub unsafe extern "C" fn photon_model_type_retire(
    value: PhotonModelType,
    retired: *mut bool,
) -> PhotonCode {
    // SAFETY: the caller promises `retired` is NULL or a writable `bool`,
    // the whole of `retire`'s contract.
    unsafe { retire(|| Ok(value.get()?.retire()), retired) }
}

/// Retires an `error_kind` value, as [`photon_target_retire`].
///
/// # Safety
/// `retired` is NULL or points to a writable `bool`.
#[no_mangle]
pub unsafe extern "C" fn photon_error_kind_retire(
    value: PhotonErrorKind,
    retired: *mut bool,
) -> PhotonCode {
    // SAFETY: the caller promises `retired` is NULL or a writable `bool`,
    // the whole of `retire`'s contract.
    unsafe { retire(|| Ok(value.get()?.retire()), retired) }
}

/// Retires a `device_id` value (a decommissioned device: its status,
/// temperature, power and drift series leave, so alerts on them resolve),
/// as [`photon_target_retire`].
///
/// # Safety
/// `retired` is NULL or points to a writable `bool`.
#[no_mangle]
pub unsafe extern "C" fn photon_device_id_retire(
    value: PhotonDeviceId,
    retired: *mut bool,
) -> PhotonCode {
    // SAFETY: the caller promises `retired` is NULL or a writable `bool`,
    // the whole of `retire`'s contract.
    unsafe { retire(|| Ok(value.get()?.retire()), retired) }
}

/// Retires a `location` value, as [`photon_target_retire`].
///
/// # Safety
/// `retired` is NULL or points to a writable `bool`.
#[no_mangle]
pub unsafe extern "C" fn photon_location_retire(
    value: PhotonLocation,
    retired: *mut bool,
) -> PhotonCode {
    // SAFETY: the caller promises `retired` is NULL or a writable `bool`,
    // the whole of `retire`'s contract.
    unsafe { retire(|| Ok(value.get()?.retire()), retired) }
}

/// Retires a `pass` value (a plugin's pass, once the plugin is unloaded),
/// as [`photon_target_retire`].
///
/// # Safety
/// `retired` is NULL or points to a writable `bool`.
#[no_mangle]
pub unsafe extern "C" fn photon_pass_retire(value: PhotonPass, retired: *mut bool) -> PhotonCode {
    // SAFETY: the caller promises `retired` is NULL or a writable `bool`,
    // the whole of `retire`'s contract.
    unsafe { retire(|| Ok(value.get()?.retire()), retired) }
}

/// Sets how long a value of `label` may go without a record before it is
/// retired by itself, in milliseconds (0: never). Defaults: 24 h for
/// `model_type`, never for the others. Checked at each scrape.
#[no_mangle]
pub extern "C" fn photon_set_label_idle_expiry(label: PhotonOpenLabel, millis: u64) -> PhotonCode {
    crate::error::guard(|| {
        let label = OPEN_LABELS.get(label as usize).copied().ok_or_else(|| {
            Failure::new(
                PHOTON_ERR_INVALID_ENUM,
                format!(
                    "{label} is not an open label value (0..{})",
                    OPEN_LABELS.len()
                ),
            )
        })?;
        let expiry = (millis != 0).then(|| Duration::from_millis(millis));
        photon_metrics::labels::set_idle_expiry(label, expiry);
        Ok(())
    })
}
