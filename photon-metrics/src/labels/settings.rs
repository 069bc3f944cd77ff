//! What an application sets and reads about its open labels: caps, idle
//! expiry, the reuse delay, and the counts the self-monitoring families
//! export.

use super::open::{interner, REUSE_DELAY_MS};
use super::{LabelError, OpenLabel, MAX_CAP};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Sets the cardinality cap of an open label. Call it at start-up, before the
/// first value of that label is created; afterwards the cap is fixed (the
/// record tables are sized from it) and this returns
/// [`LabelError::CapFrozen`].
///
/// ```
/// use photon_metrics::labels::{set_cap, cap, Location};
/// set_cap(Location::LABEL, 8).unwrap();
/// assert_eq!(cap(Location::LABEL), 8);
/// let _ = Location::new("rack-1").unwrap();
/// assert!(set_cap(Location::LABEL, 16).is_err());
/// ```
pub fn set_cap(label: OpenLabel, cap: usize) -> Result<(), LabelError> {
    if cap == 0 || cap > MAX_CAP {
        return Err(LabelError::CapOutOfRange {
            label: label.as_str(),
            requested: cap,
            max: MAX_CAP,
        });
    }
    let i = interner(label);
    if i.state.get().is_some() {
        return Err(LabelError::CapFrozen {
            label: label.as_str(),
        });
    }
    i.requested_cap.store(cap, Ordering::Release);
    Ok(())
}

/// The cap in force for an open label (the default until [`set_cap`]).
pub fn cap(label: OpenLabel) -> usize {
    let i = interner(label);
    match i.state.get() {
        Some(state) => state.cap,
        None => match i.requested_cap.load(Ordering::Acquire) {
            0 => label.default_cap(),
            n => n,
        },
    }
}

/// How many values of an open label are live now (interned and not
/// retired; `__overflow__` not counted): what
/// `photon_metrics_label_values{label}` exports.
///
/// ```
/// use photon_metrics::labels::{live_values, ErrorKind};
/// let before = live_values(ErrorKind::LABEL);
/// let kind = ErrorKind::new("live-values-doc").unwrap();
/// assert_eq!(live_values(ErrorKind::LABEL), before + 1);
/// kind.retire();
/// assert_eq!(live_values(ErrorKind::LABEL), before);
/// ```
pub fn live_values(label: OpenLabel) -> usize {
    interner(label)
        .state
        .get()
        .map_or(0, |state| state.inner().ids.len())
}

/// Records dropped so far because the handle they were made with belongs
/// to a retired value (see [`DeviceId::retire`](super::DeviceId::retire)): what
/// `photon_metrics_stale_records_total{label}` exports.
pub fn stale_records(label: OpenLabel) -> u64 {
    interner(label).stale.load(Ordering::Relaxed)
}

/// Values of `label` folded into `__overflow__` so far, because the label
/// was at its cap: what `photon_metrics_label_overflow_total{label}`
/// exports. Every `new()` (or facade record) that asked for a value that
/// did not fit counts once.
pub fn overflow_records(label: OpenLabel) -> u64 {
    interner(label).overflowed.load(Ordering::Relaxed)
}

/// Sets how long a value of `label` may go without a record before it is
/// retired by itself (`None`: never). See [`OpenLabel::default_idle_expiry`]
/// for the defaults. Takes effect at the next scrape: expiry is checked
/// when the store is rendered, so it needs no thread of its own.
///
/// ```
/// use std::time::Duration;
/// use photon_metrics::labels::{idle_expiry, set_idle_expiry, Location, ModelType};
/// assert_eq!(idle_expiry(ModelType::LABEL), Some(Duration::from_secs(86_400)));
/// set_idle_expiry(Location::LABEL, Some(Duration::from_secs(3_600)));
/// assert_eq!(idle_expiry(Location::LABEL), Some(Duration::from_secs(3_600)));
/// ```
pub fn set_idle_expiry(label: OpenLabel, expiry: Option<Duration>) {
    let ms = match expiry {
        None => u64::MAX,
        Some(d) => (d.as_millis() as u64).clamp(1, u64::MAX - 1),
    };
    interner(label).expiry_ms.store(ms, Ordering::Relaxed);
}

/// The idle expiry in force for `label` (see [`set_idle_expiry`]).
pub fn idle_expiry(label: OpenLabel) -> Option<Duration> {
    match interner(label).expiry_ms.load(Ordering::Relaxed) {
        0 => label.default_idle_expiry(),
        u64::MAX => None,
        ms => Some(Duration::from_millis(ms)),
    }
}

/// Sets how long a retired value's slot rests before a new value may take
/// it (default [`DEFAULT_REUSE_DELAY`](super::DEFAULT_REUSE_DELAY), for every open label).
///
/// Why the rest: a record checks that its series belongs to its handle's
/// value and then writes the series' atomic, two instructions apart. A
/// thread that is descheduled between the two (a CFS quota can stall a
/// container's threads for up to its 100 ms period) and wakes after the
/// slot went to another value would write into that value's series. A
/// delay longer than any such stall closes the window without a single
/// extra instruction on the record path. Values interned while every free
/// slot is still resting fold into `__overflow__`, so a label can take at
/// most `cap − live` new values per delay.
pub fn set_reuse_delay(delay: Duration) {
    REUSE_DELAY_MS.store(
        (delay.as_millis() as u64).min(u64::MAX - 1),
        Ordering::Relaxed,
    );
}
