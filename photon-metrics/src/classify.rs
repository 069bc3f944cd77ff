//! Classifying errors into the bounded `error_kind` label.

use crate::labels::ErrorKind;

/// An error that knows its bounded `error_kind`: an enum variant name, never
/// `Display` text (which may carry unbounded data such as file paths).
///
/// Derive it for an error enum with
/// [`#[derive(ErrorClass)]`](macro@crate::ErrorClass); errors without it are
/// classified by their type's name (e.g. `ParseIntError`).
///
/// ```
/// use photon_metrics::ErrorClass;
///
/// #[derive(Debug, ErrorClass)]
/// enum CompileError {
///     UnsupportedOp(String),
///     #[error_kind(rename = "oom")]
///     OutOfMemory { needed: u64 },
/// }
///
/// assert_eq!(CompileError::UnsupportedOp("fft".into()).error_kind().as_str(), "UnsupportedOp");
/// assert_eq!(CompileError::OutOfMemory { needed: 1 }.error_kind().as_str(), "oom");
/// ```
pub trait ErrorClass {
    /// The `error_kind` label value for this error.
    fn error_kind(&self) -> ErrorKind;
}

impl<E: ErrorClass + ?Sized> ErrorClass for &E {
    fn error_kind(&self) -> ErrorKind {
        (**self).error_kind()
    }
}

/// The fallback `error_kind` of an error type without [`ErrorClass`]: the
/// last path segment of its type name, generics stripped (bounded by the
/// number of error types in the program).
pub fn type_error_kind<E: ?Sized>() -> ErrorKind {
    let full = std::any::type_name::<E>();
    let base = full.split('<').next().unwrap_or(full);
    let short = base.rsplit("::").next().unwrap_or(base);
    ErrorKind::new(short).unwrap_or(ErrorKind::OVERFLOW)
}
