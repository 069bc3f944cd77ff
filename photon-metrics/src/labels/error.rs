//! [`LabelError`]: why a label value, or a label's setting, was refused.

/// Why a label value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LabelError {
    /// The value was the empty string, which Prometheus treats as "label absent".
    #[error(
        "label `{label}` must not be empty (Prometheus reads an empty value as a missing label)"
    )]
    Empty {
        /// The label name.
        label: &'static str,
    },
    /// The value is longer than [`MAX_VALUE_LEN`](super::MAX_VALUE_LEN) bytes.
    #[error("label `{label}` value is {len} bytes long; the limit is {max} bytes")]
    TooLong {
        /// The label name.
        label: &'static str,
        /// The value's length in bytes.
        len: usize,
        /// The limit, [`MAX_VALUE_LEN`](super::MAX_VALUE_LEN).
        max: usize,
    },
    /// A closed-set label was parsed from text that names no variant.
    #[error("`{value}` is not a valid `{label}`; expected one of: {expected}")]
    UnknownVariant {
        /// The label name.
        label: &'static str,
        /// The text given.
        value: String,
        /// The accepted values, comma-separated.
        expected: String,
    },
    /// [`set_cap`](super::set_cap) was called after the label's first value was interned.
    #[error("the cardinality cap of `{label}` is fixed once its first value is created; set it at start-up")]
    CapFrozen {
        /// The label name.
        label: &'static str,
    },
    /// [`set_cap`](super::set_cap) was given zero or more than the hard ceiling.
    #[error("cardinality cap {requested} for `{label}` is out of range 1..={max}")]
    CapOutOfRange {
        /// The label name.
        label: &'static str,
        /// The cap asked for.
        requested: usize,
        /// The hard ceiling.
        max: usize,
    },
}
