//! Classifying errors into the bounded `error_kind` label.

use crate::labels::{ErrorKind, MAX_VALUE_LEN};

/// An error that knows its bounded `error_kind`: an enum variant name, never
/// `Display` text (which may carry unbounded data such as file paths).
///
/// Derive it for an error enum with
/// [`#[derive(ErrorClass)]`](macro@crate::ErrorClass).
///
/// # Errors without `ErrorClass`
///
/// `#[instrument_compile]` and `#[instrument_inference]` classify any other
/// error type by its path as [`std::any::type_name`] spells it, generics left
/// out: the module where the type is *defined*, which may be a private one.
/// So errors that share a name stay apart:
///
/// | error type | `error_kind` |
/// |---|---|
/// | `std::io::Error` | `std::io::error::Error` |
/// | `serde_json::Error` | `serde_json::error::Error` |
/// | `anyhow::Error` | `anyhow::Error` |
/// | `std::num::ParseIntError` | `core::num::error::ParseIntError` |
/// | `my_app::Wrapper<T>` | `my_app::Wrapper` |
///
/// A path longer than the label's 128 bytes loses its leading segments until
/// it fits. `type_name` is the compiler's description and may change between
/// Rust releases; for `error_kind` values that dashboards and alerts can rely
/// on, derive `ErrorClass`.
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

/// The fallback `error_kind` of an error type without [`ErrorClass`]: its
/// type path as [`ErrorClass`] documents it (bounded by the number of error types in the program).
pub fn type_error_kind<E: ?Sized>() -> ErrorKind {
    ErrorKind::new(type_path(std::any::type_name::<E>())).unwrap_or(ErrorKind::OVERFLOW)
}

/// `a::b::Type<…>` → `a::b::Type`; the whole path, not its last segment, so
/// `std::io::Error` and `serde_json::Error` differ. Leading segments go first
/// when it is too long for a label value: the type's own name is kept.
fn type_path(full: &str) -> &str {
    let mut path = full.split('<').next().unwrap_or(full);
    while path.len() > MAX_VALUE_LEN {
        match path.split_once("::") {
            Some((_, rest)) => path = rest,
            None => break,
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::type_path;
    use crate::labels::MAX_VALUE_LEN;

    #[test]
    fn generics_are_left_out_and_the_path_kept() {
        assert_eq!(
            type_path("my_app::Wrapper<std::io::error::Error>"),
            "my_app::Wrapper"
        );
        assert_eq!(type_path("anyhow::Error"), "anyhow::Error");
        assert_eq!(type_path("&str"), "&str");
    }

    #[test]
    fn a_path_too_long_for_a_label_keeps_its_last_segments() {
        let long = format!("{}::inner::ShapeError", "deep".repeat(40));
        let cut = type_path(&long);
        assert_eq!(cut, "inner::ShapeError");
        assert!(cut.len() <= MAX_VALUE_LEN);
        let many = format!("{}Leaf", "m::".repeat(60));
        let cut = type_path(&many);
        assert!(
            cut.len() <= MAX_VALUE_LEN && cut.ends_with("::m::Leaf"),
            "{cut}"
        );
    }
}
