//! photon-metrics' own health metrics.

use crate::catalog::FamilyId;
use crate::family::Family;
#[cfg(feature = "otlp")]
use crate::labels::DropReason;
use crate::labels::OpenLabel;
use crate::store::cell::CounterCell;

static LABEL_OVERFLOW: Family<CounterCell, (OpenLabel,)> = Family::new(FamilyId::LabelOverflow);

/// Counts one value of `label` folded into `__overflow__`.
pub(crate) fn record_label_overflow(label: OpenLabel) {
    LABEL_OVERFLOW.add((label,), 1);
}

#[cfg(feature = "otlp")]
static SPANS_DROPPED: Family<CounterCell, (DropReason,)> = Family::new(FamilyId::SpansDropped);

/// Counts `n` spans that will never reach the collector.
#[cfg(feature = "otlp")]
pub(crate) fn record_spans_dropped(reason: DropReason, n: u64) {
    SPANS_DROPPED.add((reason,), n);
}
