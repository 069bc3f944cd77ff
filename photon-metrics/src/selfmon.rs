//! photon-metrics' own health metrics recorded as they happen (the label
//! interner's counts are plain atomics the exporter publishes at each
//! render instead, see `lifecycle`): spans the OTLP export dropped.

use crate::catalog::declared;
use crate::engine::Engine;
use crate::labels::DropReason;
use crate::store::cell::CounterCell;

static SPANS_DROPPED: &Engine<CounterCell, (DropReason,)> = &declared::SPANS_DROPPED.0;

/// Counts `n` spans that will never reach the collector.
pub(crate) fn record_spans_dropped(reason: DropReason, n: u64) {
    SPANS_DROPPED.add((reason,), n);
}
