//! Every family by name, from the catalog at run time: one table-driven
//! set of functions instead of one function per family, so a family added
//! to the catalog (or declared by the Rust application this library is part
//! of) is recordable from C, C++ and Python without a binding of its own.
//!
//! A label value is one `uint32_t`: a closed label's value index (the
//! `PHOTON_STATUS_*`-style constants are exactly that), an open label's
//! handle (`PhotonTarget.slot` and siblings). All zeros is always valid:
//! every closed label's first value, every open label's `__overflow__`.
//!
//! ```c
//! PhotonFamily passes;
//! photon_family_lookup("photon_pass_duration_seconds", 28, &passes);
//! uint32_t labels[2] = { pass.slot, target.slot };
//! photon_family_observe(passes, labels, 2, 0.002);
//! ```

use crate::error::{guard, label_text, put, Failure, PhotonCode};
use crate::error::{PHOTON_ERR_INVALID_ENUM, PHOTON_ERR_INVALID_HANDLE, PHOTON_ERR_NULL_ARGUMENT};
use photon_metrics::catalog::Kind;
use photon_metrics::families::{Dynamic, DynamicError};
use std::ffi::c_char;

/// A family found by [`photon_family_lookup`] or [`photon_family_at`].
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotonFamily {
    /// Its position among all families (the catalog's first), stable for
    /// the process.
    pub index: u32,
}

/// A family's kind: one of the `PHOTON_KIND_*`.
pub type PhotonKind = u32;
/// A counter (record with [`photon_family_add`]).
pub const PHOTON_KIND_COUNTER: PhotonKind = 0;
/// A gauge (record with [`photon_family_set`] or [`photon_family_gauge_add`]).
pub const PHOTON_KIND_GAUGE: PhotonKind = 1;
/// A histogram (record with [`photon_family_observe`]).
pub const PHOTON_KIND_HISTOGRAM: PhotonKind = 2;

/// The longest family name accepted by [`photon_family_lookup`].
const MAX_NAME_LEN: usize = 256;

fn family(f: PhotonFamily) -> Result<Dynamic, Failure> {
    Dynamic::at(f.index as usize).ok_or_else(|| {
        Failure::new(
            PHOTON_ERR_INVALID_HANDLE,
            format!("no family has index {}", f.index),
        )
    })
}

fn refused(e: DynamicError) -> Failure {
    let code = match e {
        DynamicError::WrongKind { .. } => PHOTON_ERR_INVALID_ENUM,
        DynamicError::LabelCount { .. } | DynamicError::UnknownValue { .. } => {
            PHOTON_ERR_INVALID_HANDLE
        }
        // A refusal newer than this code: the label values did not do; the
        // message says why.
        _ => PHOTON_ERR_INVALID_HANDLE,
    };
    Failure::new(code, e.to_string())
}

/// Writes a static text as its pointer (not NUL-terminated) and length.
///
/// # Safety
/// `name` and `len` are NULL or valid for a write.
unsafe fn put_text(
    name: *mut *const c_char,
    len: *mut usize,
    text: &'static str,
) -> Result<(), Failure> {
    // SAFETY: the caller promises `name` is NULL or writable; `put` refuses
    // NULL. The pointer written is to a `'static` text, valid forever.
    unsafe { put(name, text.as_ptr().cast(), "name") }?;
    // SAFETY: the caller promises `len` is NULL or writable.
    unsafe { put(len, text.len(), "len") }
}

/// `n` label values at `labels` (NULL is fine when `n` is 0).
///
/// # Safety
/// `labels` points to `n` readable values when `n` is at most
/// [`MAX_LABELS`](photon_metrics::labels::MAX_LABELS).
unsafe fn values<'a>(labels: *const u32, n: usize) -> Result<&'a [u32], Failure> {
    if n == 0 {
        return Ok(&[]);
    }
    if labels.is_null() {
        return Err(Failure::new(PHOTON_ERR_NULL_ARGUMENT, "labels is NULL"));
    }
    if n > photon_metrics::labels::MAX_LABELS {
        return Err(Failure::new(
            PHOTON_ERR_INVALID_HANDLE,
            format!(
                "{n} label values; no family has more than {}",
                photon_metrics::labels::MAX_LABELS
            ),
        ));
    }
    // SAFETY: `labels` is not NULL and `n` is at most `MAX_LABELS` (both
    // checked above), which is when the caller promises `n` readable,
    // aligned values there; the slice is read only during this call.
    Ok(unsafe { std::slice::from_raw_parts(labels, n) })
}

/// How many families there are: the catalog's, and every family the Rust
/// side of the process registered. Their indexes are `0..count`.
#[no_mangle]
pub extern "C" fn photon_family_count() -> u32 {
    Dynamic::count() as u32
}

/// Finds the family called `name` (`len` bytes of UTF-8, not
/// NUL-terminated) and writes it to `out`. `PHOTON_ERR_UNKNOWN_FAMILY` when
/// no family has that name (`PHOTON_ERR_INVALID_LABEL` when the name is
/// longer than any family's could be).
///
/// # Safety
/// `name` points to `len` readable bytes; `out` to a writable `PhotonFamily`.
#[no_mangle]
pub unsafe extern "C" fn photon_family_lookup(
    name: *const c_char,
    len: usize,
    out: *mut PhotonFamily,
) -> PhotonCode {
    guard(|| {
        // SAFETY: the caller promises `len` readable bytes at `name`, more
        // than `label_text` asks (it reads nothing when `name` is NULL or
        // `len` is over the limit).
        let name = unsafe { label_text(name, len, MAX_NAME_LEN, "the family name") }?;
        let found = Dynamic::lookup(name).ok_or_else(|| {
            Failure::new(
                crate::error::PHOTON_ERR_UNKNOWN_FAMILY,
                format!("no family is called `{name}`"),
            )
        })?;
        // SAFETY: the caller promises `out` is writable; `put` refuses NULL.
        unsafe {
            put(
                out,
                PhotonFamily {
                    index: found.index() as u32,
                },
                "out",
            )
        }
    })
}

/// Writes the family at `index` (`0..photon_family_count()`) to `out`.
///
/// # Safety
/// `out` points to a writable `PhotonFamily`.
#[no_mangle]
pub unsafe extern "C" fn photon_family_at(index: u32, out: *mut PhotonFamily) -> PhotonCode {
    guard(|| {
        let f = PhotonFamily { index };
        family(f)?;
        // SAFETY: the caller promises `out` is writable; `put` refuses NULL.
        unsafe { put(out, f, "out") }
    })
}

/// Writes the family's name (static, not NUL-terminated) and its length.
///
/// # Safety
/// `name` and `len` point to writable values.
#[no_mangle]
pub unsafe extern "C" fn photon_family_name(
    f: PhotonFamily,
    name: *mut *const c_char,
    len: *mut usize,
) -> PhotonCode {
    guard(|| {
        let text = family(f)?.spec().name;
        // SAFETY: the caller promises `name` and `len` are writable; `put`
        // refuses NULL.
        unsafe { put_text(name, len, text) }
    })
}

/// Writes the family's kind (`PHOTON_KIND_*`) and number of labels.
///
/// # Safety
/// `kind` and `labels` point to writable values.
#[no_mangle]
pub unsafe extern "C" fn photon_family_shape(
    f: PhotonFamily,
    kind: *mut PhotonKind,
    labels: *mut usize,
) -> PhotonCode {
    guard(|| {
        let spec = family(f)?.spec();
        let k = match spec.kind {
            Kind::Counter => PHOTON_KIND_COUNTER,
            Kind::Gauge => PHOTON_KIND_GAUGE,
            Kind::Histogram => PHOTON_KIND_HISTOGRAM,
            // A kind newer than this C ABI: no PHOTON_KIND_ names it, so
            // nothing is written rather than a code C cannot read.
            other => {
                return Err(Failure::new(
                    PHOTON_ERR_INVALID_ENUM,
                    format!(
                        "`{}` is a {} family, a kind this C ABI has no PHOTON_KIND_ for",
                        spec.name,
                        other.as_str()
                    ),
                ))
            }
        };
        // SAFETY: the caller promises `kind` is writable; `put` refuses NULL.
        unsafe { put(kind, k, "kind") }?;
        // SAFETY: the caller promises `labels` is writable.
        unsafe { put(labels, spec.labels.len(), "labels") }
    })
}

/// Writes the name of the family's label in position `i` (static, not
/// NUL-terminated) and its length: what a wrapper checks its label types
/// against.
///
/// # Safety
/// `name` and `len` point to writable values.
#[no_mangle]
pub unsafe extern "C" fn photon_family_label(
    f: PhotonFamily,
    i: usize,
    name: *mut *const c_char,
    len: *mut usize,
) -> PhotonCode {
    guard(|| {
        let spec = family(f)?.spec();
        let label = spec.labels.get(i).ok_or_else(|| {
            Failure::new(
                PHOTON_ERR_INVALID_HANDLE,
                format!(
                    "`{}` has {} labels, not {}",
                    spec.name,
                    spec.labels.len(),
                    i + 1
                ),
            )
        })?;
        // SAFETY: the caller promises `name` and `len` are writable; `put`
        // refuses NULL.
        unsafe { put_text(name, len, label.as_str()) }
    })
}

/// Adds `n` to a counter family's series at the `count` label values at
/// `labels`, in the family's label order.
///
/// # Safety
/// `labels` points to `count` readable values (or is NULL for none).
#[no_mangle]
pub unsafe extern "C" fn photon_family_add(
    f: PhotonFamily,
    labels: *const u32,
    count: usize,
    n: u64,
) -> PhotonCode {
    guard(|| {
        // SAFETY: the caller promises `count` readable values at `labels`
        // (or NULL for none), more than `values` asks.
        family(f)?
            .add(unsafe { values(labels, count) }?, n)
            .map_err(refused)
    })
}

/// Sets a gauge family's series at `labels` to `value`.
///
/// # Safety
/// As [`photon_family_add`].
#[no_mangle]
pub unsafe extern "C" fn photon_family_set(
    f: PhotonFamily,
    labels: *const u32,
    count: usize,
    value: f64,
) -> PhotonCode {
    guard(|| {
        // SAFETY: the caller promises `count` readable values at `labels`
        // (or NULL for none), more than `values` asks.
        family(f)?
            .set(unsafe { values(labels, count) }?, value)
            .map_err(refused)
    })
}

/// Adds `delta` (negative to subtract) to a gauge family's series at `labels`.
///
/// # Safety
/// As [`photon_family_add`].
#[no_mangle]
pub unsafe extern "C" fn photon_family_gauge_add(
    f: PhotonFamily,
    labels: *const u32,
    count: usize,
    delta: f64,
) -> PhotonCode {
    guard(|| {
        // SAFETY: the caller promises `count` readable values at `labels`
        // (or NULL for none), more than `values` asks.
        family(f)?
            .add_to_gauge(unsafe { values(labels, count) }?, delta)
            .map_err(refused)
    })
}

/// Observes `value` in a histogram family's series at `labels`.
///
/// # Safety
/// As [`photon_family_add`].
#[no_mangle]
pub unsafe extern "C" fn photon_family_observe(
    f: PhotonFamily,
    labels: *const u32,
    count: usize,
    value: f64,
) -> PhotonCode {
    guard(|| {
        // SAFETY: the caller promises `count` readable values at `labels`
        // (or NULL for none), more than `values` asks.
        family(f)?
            .observe(unsafe { values(labels, count) }?, value)
            .map_err(refused)
    })
}
