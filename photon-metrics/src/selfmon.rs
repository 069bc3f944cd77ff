//! photon-metrics' own health metrics.

use crate::catalog::FamilyId;
use crate::family::Family;
#[cfg(feature = "otlp")]
use crate::labels::DropReason;
use crate::labels::{ClosedLabel, OpenLabel};
use metrics::Counter;

static LABEL_OVERFLOW: Family<Counter> = Family::new(FamilyId::LabelOverflow);

/// Counts one value of `label` folded into `__overflow__`.
pub(crate) fn record_label_overflow(label: OpenLabel) {
    LABEL_OVERFLOW.with([label.slot()], |c| c.increment(1));
}

#[cfg(feature = "otlp")]
static SPANS_DROPPED: Family<Counter> = Family::new(FamilyId::SpansDropped);

/// Counts `n` spans that will never reach the collector.
#[cfg(feature = "otlp")]
pub(crate) fn record_spans_dropped(reason: DropReason, n: u64) {
    SPANS_DROPPED.with([reason.slot()], |c| c.increment(n));
}
