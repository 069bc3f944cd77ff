//! The names a facade family takes in the exposition: the sample names
//! each kind claims in every format, who holds each one, and the help text
//! of a name nobody described.

use crate::catalog::Kind;
use std::collections::HashMap;

/// The help text of a family nobody described.
pub(crate) const DEFAULT_HELP: &str = "Recorded through the metrics facade without a description (describe_counter!, describe_gauge! or describe_histogram! gives one).";

/// Which family (catalog or foreign, by its key) uses each sample name.
pub(crate) struct Claims<'a>(pub(super) &'a HashMap<String, String>);

impl Claims<'_> {
    /// The family that uses sample name `sample`, if any.
    pub(crate) fn owner(&self, sample: &str) -> Option<&str> {
        self.0.get(sample).map(String::as_str)
    }
}

/// The names a family's exposition uses in any format: its samples (with
/// OpenMetrics' `_created`), and for a counter the family name OpenMetrics
/// gives it (without `_total`).
pub(crate) fn claims(name: &str, kind: Kind) -> Vec<String> {
    match kind {
        Kind::Counter => {
            let base = name.strip_suffix("_total").unwrap_or(name);
            vec![
                base.to_string(),
                format!("{base}_total"),
                format!("{base}_created"),
            ]
        }
        Kind::Gauge => vec![name.to_string()],
        Kind::Histogram => ["", "_bucket", "_sum", "_count", "_created"]
            .iter()
            .map(|s| format!("{name}{s}"))
            .collect(),
    }
}
