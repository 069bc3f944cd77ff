//! photon-metrics' own health metrics.

use crate::catalog::FamilyId;
use crate::family::Family;
use crate::labels::{ClosedLabel, OpenLabel};
use metrics::Counter;

static LABEL_OVERFLOW: Family<Counter> = Family::new(FamilyId::LabelOverflow);

/// Counts one value of `label` folded into `__overflow__`.
pub(crate) fn record_label_overflow(label: OpenLabel) {
    LABEL_OVERFLOW.with([label.slot()], |c| c.increment(1));
}
