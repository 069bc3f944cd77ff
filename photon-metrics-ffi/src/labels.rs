//! Label values across the boundary: open labels as interned handles,
//! closed labels as checked integers.
//!
//! An open value is validated and interned once (`photon_target_new`) and
//! then recorded by handle, as Rust records by its `Copy` newtype: no string
//! crosses the boundary on the hot path. The same caps apply: past a label's
//! cap a new value's handle is the `__overflow__` one (not an error).

use crate::error::{
    label_text, put, Failure, PhotonCode, PHOTON_ERR_INVALID_ENUM, PHOTON_ERR_INVALID_HANDLE,
    PHOTON_ERR_INVALID_LABEL,
};
use photon_metrics::labels::{
    DeviceId, DeviceType, ErrorKind, Location, MemoryStat, ModelType, OpenLabel, Pass, Status,
    Target, MAX_VALUE_LEN,
};
use std::ffi::c_char;

/// Interns `len` bytes at `value` as `label` and writes the handle.
///
/// # Safety
/// As the `photon_*_new` functions: `value` points to `len` readable bytes
/// (or is NULL); `out` is NULL or points to a writable `H`.
unsafe fn intern<L, H>(
    value: *const c_char,
    len: usize,
    out: *mut H,
    label: &str,
    new: impl FnOnce(&str) -> Result<L, photon_metrics::labels::LabelError>,
    handle: impl FnOnce(L) -> H,
) -> PhotonCode {
    crate::error::guard(|| {
        let what = format!("the {label} value");
        // SAFETY: this function's caller promises `len` readable bytes at
        // `value`, more than `label_text` asks (it reads nothing when
        // `value` is NULL or `len` is over the limit).
        let value = unsafe { label_text(value, len, MAX_VALUE_LEN, &what) }?;
        let interned =
            new(value).map_err(|e| Failure::new(PHOTON_ERR_INVALID_LABEL, e.to_string()))?;
        // SAFETY: this function's caller promises `out` is NULL or a
        // writable handle; `put` refuses NULL.
        unsafe { put(out, handle(interned), "out") }
    })
}

fn unknown_handle(label: &str, slot: u32) -> Failure {
    Failure::new(
        PHOTON_ERR_INVALID_HANDLE,
        format!("no {label} value has handle {slot}"),
    )
}

/// A `target` value (the compile target).
///
/// Made by [`photon_target_new`]; only meaningful in this process.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotonTarget {
    /// The interned slot (0 is `__overflow__`).
    pub slot: u32,
}

impl PhotonTarget {
    #[inline]
    pub(crate) fn get(self) -> Result<Target, Failure> {
        Target::from_raw(self.slot).ok_or_else(|| unknown_handle("target", self.slot))
    }
}

/// Validates and interns a `target` value (`len` bytes of UTF-8 at `value`,
/// not NUL-terminated) and writes its handle to `out`.
/// `PHOTON_ERR_INVALID_LABEL` for an empty value or one over 128 bytes; past
/// the label's cap the handle is `__overflow__`'s and the call succeeds.
///
/// # Safety
/// `value` points to `len` readable bytes; `out` to a writable handle.
#[no_mangle]
pub unsafe extern "C" fn photon_target_new(
    value: *const c_char,
    len: usize,
    out: *mut PhotonTarget,
) -> PhotonCode {
    // SAFETY: the caller promises `len` readable bytes at `value` and a
    // writable handle at `out`, which is `intern`'s contract.
    unsafe {
        intern(value, len, out, "target", Target::new, |v| PhotonTarget {
            slot: v.to_raw(),
        })
    }
}

/// A `model_type` value (the model architecture, never a model id).
///
/// Made by [`photon_model_type_new`]; only meaningful in this process.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotonModelType {
    /// The interned slot (0 is `__overflow__`).
    pub slot: u32,
}

impl PhotonModelType {
    #[inline]
    pub(crate) fn get(self) -> Result<ModelType, Failure> {
        ModelType::from_raw(self.slot).ok_or_else(|| unknown_handle("model_type", self.slot))
    }
}

/// Validates and interns a `model_type` value (`len` bytes of UTF-8 at `value`,
/// not NUL-terminated) and writes its handle to `out`.
/// `PHOTON_ERR_INVALID_LABEL` for an empty value or one over 128 bytes; past
/// the label's cap the handle is `__overflow__`'s and the call succeeds.
///
/// # Safety
/// `value` points to `len` readable bytes; `out` to a writable handle.
#[no_mangle]
pub unsafe extern "C" fn photon_model_type_new(
    value: *const c_char,
    len: usize,
    out: *mut PhotonModelType,
) -> PhotonCode {
    // SAFETY: the caller promises `len` readable bytes at `value` and a
    // writable handle at `out`, which is `intern`'s contract.
    unsafe {
        intern(value, len, out, "model_type", ModelType::new, |v| {
            PhotonModelType { slot: v.to_raw() }
        })
    }
}

/// An `error_kind` value (a bounded error classification).
///
/// Made by [`photon_error_kind_new`]; only meaningful in this process.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotonErrorKind {
    /// The interned slot (0 is `__overflow__`).
    pub slot: u32,
}

impl PhotonErrorKind {
    #[inline]
    pub(crate) fn get(self) -> Result<ErrorKind, Failure> {
        ErrorKind::from_raw(self.slot).ok_or_else(|| unknown_handle("error_kind", self.slot))
    }
}

/// Validates and interns a `error_kind` value (`len` bytes of UTF-8 at `value`,
/// not NUL-terminated) and writes its handle to `out`.
/// `PHOTON_ERR_INVALID_LABEL` for an empty value or one over 128 bytes; past
/// the label's cap the handle is `__overflow__`'s and the call succeeds.
///
/// # Safety
/// `value` points to `len` readable bytes; `out` to a writable handle.
#[no_mangle]
pub unsafe extern "C" fn photon_error_kind_new(
    value: *const c_char,
    len: usize,
    out: *mut PhotonErrorKind,
) -> PhotonCode {
    // SAFETY: the caller promises `len` readable bytes at `value` and a
    // writable handle at `out`, which is `intern`'s contract.
    unsafe {
        intern(value, len, out, "error_kind", ErrorKind::new, |v| {
            PhotonErrorKind { slot: v.to_raw() }
        })
    }
}

/// A `device_id` value.
///
/// Made by [`photon_device_id_new`]; only meaningful in this process.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotonDeviceId {
    /// The interned slot (0 is `__overflow__`).
    pub slot: u32,
}

impl PhotonDeviceId {
    #[inline]
    pub(crate) fn get(self) -> Result<DeviceId, Failure> {
        DeviceId::from_raw(self.slot).ok_or_else(|| unknown_handle("device_id", self.slot))
    }
}

/// Validates and interns a `device_id` value (`len` bytes of UTF-8 at `value`,
/// not NUL-terminated) and writes its handle to `out`.
/// `PHOTON_ERR_INVALID_LABEL` for an empty value or one over 128 bytes; past
/// the label's cap the handle is `__overflow__`'s and the call succeeds.
///
/// # Safety
/// `value` points to `len` readable bytes; `out` to a writable handle.
#[no_mangle]
pub unsafe extern "C" fn photon_device_id_new(
    value: *const c_char,
    len: usize,
    out: *mut PhotonDeviceId,
) -> PhotonCode {
    // SAFETY: the caller promises `len` readable bytes at `value` and a
    // writable handle at `out`, which is `intern`'s contract.
    unsafe {
        intern(value, len, out, "device_id", DeviceId::new, |v| {
            PhotonDeviceId { slot: v.to_raw() }
        })
    }
}

/// A `location` value.
///
/// Made by [`photon_location_new`]; only meaningful in this process.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotonLocation {
    /// The interned slot (0 is `__overflow__`).
    pub slot: u32,
}

impl PhotonLocation {
    #[inline]
    pub(crate) fn get(self) -> Result<Location, Failure> {
        Location::from_raw(self.slot).ok_or_else(|| unknown_handle("location", self.slot))
    }
}

/// Validates and interns a `location` value (`len` bytes of UTF-8 at `value`,
/// not NUL-terminated) and writes its handle to `out`.
/// `PHOTON_ERR_INVALID_LABEL` for an empty value or one over 128 bytes; past
/// the label's cap the handle is `__overflow__`'s and the call succeeds.
///
/// # Safety
/// `value` points to `len` readable bytes; `out` to a writable handle.
#[no_mangle]
pub unsafe extern "C" fn photon_location_new(
    value: *const c_char,
    len: usize,
    out: *mut PhotonLocation,
) -> PhotonCode {
    // SAFETY: the caller promises `len` readable bytes at `value` and a
    // writable handle at `out`, which is `intern`'s contract.
    unsafe {
        intern(value, len, out, "location", Location::new, |v| {
            PhotonLocation { slot: v.to_raw() }
        })
    }
}

/// A `pass` value (one compiler pass, e.g. `canonicalize`).
///
/// Made by [`photon_pass_new`]; only meaningful in this process.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotonPass {
    /// The interned slot (0 is `__overflow__`).
    pub slot: u32,
}

impl PhotonPass {
    #[inline]
    pub(crate) fn get(self) -> Result<Pass, Failure> {
        Pass::from_raw(self.slot).ok_or_else(|| unknown_handle("pass", self.slot))
    }
}

/// Validates and interns a `pass` value (`len` bytes of UTF-8 at `value`,
/// not NUL-terminated) and writes its handle to `out`, as
/// [`photon_location_new`] does (default cap 256).
///
/// # Safety
/// `value` points to `len` readable bytes; `out` to a writable handle.
#[no_mangle]
pub unsafe extern "C" fn photon_pass_new(
    value: *const c_char,
    len: usize,
    out: *mut PhotonPass,
) -> PhotonCode {
    // SAFETY: the caller promises `len` readable bytes at `value` and a
    // writable handle at `out`, which is `intern`'s contract.
    unsafe {
        intern(value, len, out, "pass", Pass::new, |v| PhotonPass {
            slot: v.to_raw(),
        })
    }
}

/// A compilation's outcome (`status` label): one of the `PHOTON_STATUS_*`.
pub type PhotonStatus = u32;
/// `status="success"`.
pub const PHOTON_STATUS_SUCCESS: PhotonStatus = 0;
/// `status="error"`.
pub const PHOTON_STATUS_ERROR: PhotonStatus = 1;
/// `status="panic"` (a crash; from C++, an exception nobody expected).
pub const PHOTON_STATUS_PANIC: PhotonStatus = 2;
/// `status="cancelled"`.
pub const PHOTON_STATUS_CANCELLED: PhotonStatus = 3;

/// A device technology (`device_type` label): one of the `PHOTON_DEVICE_TYPE_*`.
pub type PhotonDeviceType = u32;
/// `device_type="mzi"`.
pub const PHOTON_DEVICE_TYPE_MZI: PhotonDeviceType = 0;
/// `device_type="microring"`.
pub const PHOTON_DEVICE_TYPE_MICRORING: PhotonDeviceType = 1;
/// `device_type="pcm"`.
pub const PHOTON_DEVICE_TYPE_PCM: PhotonDeviceType = 2;
/// `device_type="hybrid"`.
pub const PHOTON_DEVICE_TYPE_HYBRID: PhotonDeviceType = 3;
/// `device_type="simulator"`.
pub const PHOTON_DEVICE_TYPE_SIMULATOR: PhotonDeviceType = 4;

/// Which memory figure (`memory` label): one of the `PHOTON_MEMORY_*`.
pub type PhotonMemoryStat = u32;
/// `memory="current"`: resident now.
pub const PHOTON_MEMORY_CURRENT: PhotonMemoryStat = 0;
/// `memory="peak"`: the high-water mark.
pub const PHOTON_MEMORY_PEAK: PhotonMemoryStat = 1;

/// An open label (for [`photon_set_label_cap`]): one of the `PHOTON_LABEL_*`.
pub type PhotonOpenLabel = u32;
/// The `target` label.
pub const PHOTON_LABEL_TARGET: PhotonOpenLabel = 0;
/// The `model_type` label.
pub const PHOTON_LABEL_MODEL_TYPE: PhotonOpenLabel = 1;
/// The `error_kind` label.
pub const PHOTON_LABEL_ERROR_KIND: PhotonOpenLabel = 2;
/// The `device_id` label.
pub const PHOTON_LABEL_DEVICE_ID: PhotonOpenLabel = 3;
/// The `location` label.
pub const PHOTON_LABEL_LOCATION: PhotonOpenLabel = 4;
/// The `pass` label.
pub const PHOTON_LABEL_PASS: PhotonOpenLabel = 5;

/// The open labels by their `PHOTON_LABEL_*` number (the C ABI's order).
pub(crate) const OPEN_LABELS: [OpenLabel; 6] = [
    Target::LABEL,
    ModelType::LABEL,
    ErrorKind::LABEL,
    DeviceId::LABEL,
    Location::LABEL,
    Pass::LABEL,
];

/// Sets how many distinct values `label` keeps before new ones become
/// `__overflow__` (1..=4096; defaults: target 32, model_type 64,
/// error_kind 64, device_id 1024, location 64, pass 256), as `labels::set_cap` does
/// in Rust. Call it at start-up, before the first value of that label:
/// afterwards the cap is fixed and this returns `PHOTON_ERR_INVALID_CONFIG`.
#[no_mangle]
pub extern "C" fn photon_set_label_cap(label: PhotonOpenLabel, cap: usize) -> PhotonCode {
    crate::error::guard(|| {
        let label = closed(&OPEN_LABELS, label, "open label")?;
        photon_metrics::labels::set_cap(label, cap)
            .map_err(|e| Failure::new(crate::error::PHOTON_ERR_INVALID_CONFIG, e.to_string()))
    })
}

fn closed<T: Copy>(all: &[T], value: u32, label: &str) -> Result<T, Failure> {
    all.get(value as usize).copied().ok_or_else(|| {
        Failure::new(
            PHOTON_ERR_INVALID_ENUM,
            format!("{value} is not a {label} value (0..{})", all.len()),
        )
    })
}

pub(crate) fn status(value: PhotonStatus) -> Result<Status, Failure> {
    closed(Status::ALL, value, "status")
}

pub(crate) fn device_type(value: PhotonDeviceType) -> Result<DeviceType, Failure> {
    closed(DeviceType::ALL, value, "device_type")
}

pub(crate) fn memory_stat(value: PhotonMemoryStat) -> Result<MemoryStat, Failure> {
    closed(MemoryStat::ALL, value, "memory")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_c_constants_follow_the_rust_enums() {
        for (i, s) in Status::ALL.iter().enumerate() {
            assert_eq!(status(i as u32).unwrap(), *s);
        }
        assert_eq!(
            status(PHOTON_STATUS_CANCELLED).unwrap().as_str(),
            "cancelled"
        );
        assert_eq!(
            device_type(PHOTON_DEVICE_TYPE_SIMULATOR).unwrap().as_str(),
            "simulator"
        );
        assert_eq!(
            device_type(PHOTON_DEVICE_TYPE_MICRORING).unwrap().as_str(),
            "microring"
        );
        assert_eq!(memory_stat(PHOTON_MEMORY_PEAK).unwrap().as_str(), "peak");
        assert_eq!(
            DeviceType::ALL.len(),
            5,
            "a new device type needs its PHOTON_DEVICE_TYPE_ constant"
        );
        assert_eq!(Status::ALL.len(), 4);
        assert!(status(4).is_err());
        assert_eq!(
            OPEN_LABELS[PHOTON_LABEL_LOCATION as usize],
            photon_metrics::labels::Location::LABEL
        );
        assert_eq!(
            OPEN_LABELS[PHOTON_LABEL_MODEL_TYPE as usize],
            photon_metrics::labels::ModelType::LABEL
        );
        assert_eq!(
            OPEN_LABELS[PHOTON_LABEL_PASS as usize],
            photon_metrics::labels::Pass::LABEL
        );
        assert_eq!(OPEN_LABELS.len(), 6);
    }
}
