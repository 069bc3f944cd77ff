//! What the core crate allows, mirrored here so a declaration that breaks
//! it is a compile error at the offending token: label counts, value
//! lengths, caps, and valid metric and label names.

/// The most labels a family may have (`photon_metrics::labels::MAX_LABELS`).
pub(crate) const MAX_LABELS: usize = 3;
/// The longest label value (`photon_metrics::labels::MAX_VALUE_LEN`).
pub(crate) const MAX_VALUE_LEN: usize = 128;
/// The largest cap (`photon_metrics::labels::MAX_CAP`).
pub(crate) const MAX_CAP: u64 = 4096;

/// Whether `name` is a metric name Prometheus accepts, without the colons
/// recording rules use and without the reserved `__` prefix.
pub(crate) fn valid_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with("__")
}

/// Whether `name` is a label name Prometheus accepts and does not reserve.
pub(crate) fn valid_label_name(name: &str) -> bool {
    valid_metric_name(name) && !["le", "quantile"].contains(&name)
}
