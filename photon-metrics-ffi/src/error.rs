//! Return codes, the thread's last error message, and the guard that keeps
//! panics on the Rust side of the boundary.

use std::cell::RefCell;
use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// What every `photon_*` call returns: [`PHOTON_OK`] or an error code. On an
/// error, [`photon_last_error_message`] says what went wrong.
pub type PhotonCode = i32;

/// Success.
pub const PHOTON_OK: PhotonCode = 0;
/// A required pointer argument was NULL.
pub const PHOTON_ERR_NULL_ARGUMENT: PhotonCode = 1;
/// A string argument was not UTF-8.
pub const PHOTON_ERR_INVALID_UTF8: PhotonCode = 2;
/// A label value was empty or longer than the limit (128 bytes).
pub const PHOTON_ERR_INVALID_LABEL: PhotonCode = 3;
/// A label handle that no `photon_*_new` call returned in this process.
pub const PHOTON_ERR_INVALID_HANDLE: PhotonCode = 4;
/// An enum argument (status, device type, memory statistic) out of range.
pub const PHOTON_ERR_INVALID_ENUM: PhotonCode = 5;
/// The exporter configuration is invalid (address, label name).
pub const PHOTON_ERR_INVALID_CONFIG: PhotonCode = 6;
/// The listen address is in use or not local.
pub const PHOTON_ERR_BIND: PhotonCode = 7;
/// An exporter (or another `metrics` recorder) is already installed.
pub const PHOTON_ERR_ALREADY_INSTALLED: PhotonCode = 8;
/// Trace export could not be set up or flushed.
pub const PHOTON_ERR_TRACES: PhotonCode = 9;
/// A bug: photon-metrics panicked. The panic stayed on the Rust side; the
/// message says where.
pub const PHOTON_ERR_PANIC: PhotonCode = 10;
/// No family has the name given to `photon_family_lookup`: a typo, or a
/// family of the Rust side that this process does not link.
pub const PHOTON_ERR_UNKNOWN_FAMILY: PhotonCode = 11;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// An error to hand across the boundary: a code and its message.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: PhotonCode,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(code: PhotonCode, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }
}

/// What [`photon_last_error_message`] returns on a thread whose
/// thread-locals are being destroyed (a C++ `thread_local` object's
/// destructor calling us at thread exit): the message is gone by then.
const NO_MESSAGE_AT_THREAD_EXIT: &[u8] =
    b"photon-metrics: no error message (this thread is exiting and its last error is gone)\0";

fn set_last_error(message: &str) {
    // Interior NULs cannot cross as a C string; they never come from our
    // messages, but a label value quoted in one could carry one.
    let text = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    // `try_with`: during thread-local teardown `with` panics, and a panic
    // here is outside `guard`'s catch_unwind, so it would abort the process.
    // The code still tells the caller what happened.
    let _ = LAST_ERROR.try_with(|last| *last.borrow_mut() = text);
}

/// Runs `body`, turning its error or panic into a code and the thread's
/// last error message. Every exported function goes through here.
pub(crate) fn guard(body: impl FnOnce() -> Result<(), Failure>) -> PhotonCode {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => PHOTON_OK,
        Ok(Err(failure)) => {
            set_last_error(&failure.message);
            failure.code
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_last_error(&format!("photon-metrics panicked: {what}"));
            PHOTON_ERR_PANIC
        }
    }
}

/// The message of the last failed `photon_*` call on this thread (empty if
/// none failed). The pointer stays valid until the next failing call on the
/// same thread; copy it to keep it. Called while the thread's
/// thread-locals are being destroyed (from a C++ `thread_local`'s
/// destructor), it returns a static message saying so instead.
#[no_mangle]
pub extern "C" fn photon_last_error_message() -> *const c_char {
    LAST_ERROR
        .try_with(|last| last.borrow().as_ptr())
        .unwrap_or(NO_MESSAGE_AT_THREAD_EXIT.as_ptr().cast())
}

/// A static, human-readable name for a code (`"PHOTON_ERR_BIND"`).
#[no_mangle]
pub extern "C" fn photon_code_name(code: PhotonCode) -> *const c_char {
    let name: &'static [u8] = match code {
        PHOTON_OK => b"PHOTON_OK\0",
        PHOTON_ERR_NULL_ARGUMENT => b"PHOTON_ERR_NULL_ARGUMENT\0",
        PHOTON_ERR_INVALID_UTF8 => b"PHOTON_ERR_INVALID_UTF8\0",
        PHOTON_ERR_INVALID_LABEL => b"PHOTON_ERR_INVALID_LABEL\0",
        PHOTON_ERR_INVALID_HANDLE => b"PHOTON_ERR_INVALID_HANDLE\0",
        PHOTON_ERR_INVALID_ENUM => b"PHOTON_ERR_INVALID_ENUM\0",
        PHOTON_ERR_INVALID_CONFIG => b"PHOTON_ERR_INVALID_CONFIG\0",
        PHOTON_ERR_BIND => b"PHOTON_ERR_BIND\0",
        PHOTON_ERR_ALREADY_INSTALLED => b"PHOTON_ERR_ALREADY_INSTALLED\0",
        PHOTON_ERR_TRACES => b"PHOTON_ERR_TRACES\0",
        PHOTON_ERR_PANIC => b"PHOTON_ERR_PANIC\0",
        PHOTON_ERR_UNKNOWN_FAMILY => b"PHOTON_ERR_UNKNOWN_FAMILY\0",
        _ => b"PHOTON_ERR_UNKNOWN\0",
    };
    name.as_ptr().cast()
}

/// Reads a `(pointer, length)` label value of at most `max_len` bytes.
///
/// The length is checked before the slice is made: a caller's `SIZE_MAX`
/// (a `strlen` gone wrong, a negative length cast) must be an error code,
/// and `slice::from_raw_parts` with it is undefined behaviour.
///
/// # Safety
/// `ptr` must point to `len` readable bytes (or be NULL) when `len <= max_len`.
pub(crate) unsafe fn label_text<'a>(
    ptr: *const c_char,
    len: usize,
    max_len: usize,
    what: &str,
) -> Result<&'a str, Failure> {
    if ptr.is_null() {
        return Err(Failure::new(
            PHOTON_ERR_NULL_ARGUMENT,
            format!("{what} is NULL"),
        ));
    }
    if len > max_len {
        return Err(Failure::new(
            PHOTON_ERR_INVALID_LABEL,
            format!("{what} is {len} bytes long; the limit is {max_len}"),
        ));
    }
    // SAFETY: `ptr` is not NULL and `len <= max_len` (both checked above),
    // which is when the caller promises `len` readable bytes at `ptr`; bytes
    // need no alignment, and `len` (a few hundred at most) is far below
    // `isize::MAX`. The caller uses the text only during its `photon_*` call,
    // while C keeps the buffer alive and unchanged.
    let bytes = unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) };
    std::str::from_utf8(bytes)
        .map_err(|e| Failure::new(PHOTON_ERR_INVALID_UTF8, format!("{what} is not UTF-8: {e}")))
}

/// Reads a NUL-terminated string argument; NULL gives `None`.
///
/// # Safety
/// `ptr` must be NULL or a NUL-terminated string.
pub(crate) unsafe fn c_text<'a>(
    ptr: *const c_char,
    what: &str,
) -> Result<Option<&'a str>, Failure> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: `ptr` is not NULL (checked above), and the caller promises a
    // NUL-terminated string then, alive and unchanged for as long as the
    // text is used: during the `photon_*` call, which copies what it keeps.
    unsafe { std::ffi::CStr::from_ptr(ptr) }
        .to_str()
        .map(Some)
        .map_err(|e| Failure::new(PHOTON_ERR_INVALID_UTF8, format!("{what} is not UTF-8: {e}")))
}

/// Writes `value` through an out pointer.
///
/// # Safety
/// `out` must be NULL or valid for a write of `T`.
pub(crate) unsafe fn put<T>(out: *mut T, value: T, what: &str) -> Result<(), Failure> {
    if out.is_null() {
        return Err(Failure::new(
            PHOTON_ERR_NULL_ARGUMENT,
            format!("{what} is NULL"),
        ));
    }
    // SAFETY: `out` is not NULL (checked above), and the caller promises it
    // is then valid and aligned for a write of `T`. `write` drops nothing:
    // what `out` points to may be uninitialised, as C out-parameters are.
    unsafe { out.write(value) };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn last() -> String {
        // SAFETY: the pointer is this thread's last message (a `CString`
        // that only the next failing call on this thread replaces, and none
        // runs before it is copied here) or a static NUL-terminated text.
        unsafe { CStr::from_ptr(photon_last_error_message()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn a_panic_stays_on_the_rust_side_as_a_code_and_a_message() {
        let code = guard(|| panic!("boom at the boundary"));
        assert_eq!(code, PHOTON_ERR_PANIC);
        assert_eq!(last(), "photon-metrics panicked: boom at the boundary");
        // SAFETY: `photon_code_name` returns a static NUL-terminated text.
        let name = unsafe { CStr::from_ptr(photon_code_name(code)) };
        assert_eq!(name.to_str().unwrap(), "PHOTON_ERR_PANIC");
    }

    #[test]
    fn the_last_error_is_per_thread() {
        assert_eq!(
            guard(|| Err(Failure::new(PHOTON_ERR_BIND, "here"))),
            PHOTON_ERR_BIND
        );
        let other = std::thread::spawn(last).join().unwrap();
        assert_eq!(other, "");
        assert_eq!(last(), "here");
    }
}
