//! How much the facade's series may take: the caps on all of them and on
//! one name's, and the longest name kept.

/// The default cap on all foreign series together.
pub(crate) const DEFAULT_SERIES_CAP: usize = 10_000;
/// The default cap on the series of one foreign family.
pub(crate) const DEFAULT_FAMILY_SERIES_CAP: usize = 1_000;
/// The longest metric name kept: a longer one's records are dropped, so no
/// family (its name, and the sample names it claims) is larger.
pub(crate) const MAX_NAME_BYTES: usize = 256;

/// The cardinality caps of foreign series.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// All foreign series together, `__overflow__` series included.
    pub(crate) series: usize,
    /// The series of one family, its `__overflow__` series not included.
    pub(crate) per_family: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            series: DEFAULT_SERIES_CAP,
            per_family: DEFAULT_FAMILY_SERIES_CAP,
        }
    }
}
