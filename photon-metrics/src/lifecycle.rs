//! Series lifecycle: label values leave, and their series with them.
//!
//! * **Retirement.** `DeviceId::retire` (and the same on every open label
//!   type) removes every series carrying that value, in every catalog
//!   family of every store, and gives its slot back to the label's cap.
//!   The next scrape no longer has those series, so Prometheus marks them
//!   stale and alerts on them resolve.
//! * **Idle expiry.** A value of a label with an idle expiry
//!   ([`set_idle_expiry`](crate::labels::set_idle_expiry)) that no record
//!   touched for that long is retired by itself. It is checked when a store
//!   is rendered (a scrape, a push), so it needs no thread: a record clears
//!   its series' idle mark (on the cold path, once per sweep), and each
//!   render marks every series idle again after noting which values were
//!   recorded since the last one. Precision: the expiry plus one scrape
//!   interval. Series recorded through the facade outside the catalog
//!   expire the same way, per series, when
//!   [`foreign_idle_expiry`](crate::export::prometheus::PrometheusExporterBuilder::foreign_idle_expiry)
//!   asks for it (`store::foreign`'s sweep, run here too).
//! * **Stale handles.** Label values are `Copy`; a copy made before its
//!   value's retirement records nothing and counts one
//!   `photon_metrics_stale_records_total{label}`, even after its slot went
//!   to a new value (see [`crate::labels`]' handle layout and
//!   [`crate::labels::set_reuse_delay`]).
//! * **Headroom.** Every render publishes `photon_metrics_label_values`,
//!   `photon_metrics_label_cap` and `photon_metrics_stale_records_total`
//!   for each open label, process-wide figures, into the rendered store.
//!
//! A counter that is removed and later comes back (the same device id
//! interned again) starts from 0. Prometheus' `rate()` and `increase()`
//! read a drop as a counter reset and count from the new value, so they
//! stay right; between the two lives the series is absent (Prometheus
//! writes a staleness marker at the first scrape without it), and
//! `rate()` over a window that spans the gap uses the samples of both
//! lives as one series with a reset.

use crate::catalog::declared;
use crate::labels::{self, LabelSet, MonitoredLabel, OpenLabel};
use crate::store::Store;
use std::sync::{Arc, Mutex, Weak};

/// Every store that can hold series: a retirement removes from all of them.
static STORES: Mutex<Vec<Weak<Store>>> = Mutex::new(Vec::new());

/// Serialises idle sweeps (renders of several stores may overlap).
static SWEEP: Mutex<()> = Mutex::new(());

/// Makes `store` one whose series retirements remove.
pub(crate) fn register(store: &Arc<Store>) {
    labels::on_retire(remove_from_stores);
    let mut stores = STORES.lock().unwrap_or_else(|e| e.into_inner());
    stores.retain(|s| s.strong_count() > 0);
    stores.push(Arc::downgrade(store));
}

fn stores() -> Vec<Arc<Store>> {
    let stores = STORES.lock().unwrap_or_else(|e| e.into_inner());
    stores.iter().filter_map(Weak::upgrade).collect()
}

/// Removes the series of `label`'s value in `slot` from every store: the
/// middle of a retirement ([`labels::retire`]), between the end of the
/// value's life and its slot's rest.
fn remove_from_stores(label: OpenLabel, slot: usize) {
    for store in stores() {
        store.remove_value(label, slot);
    }
}

/// What runs before every render of `store`: the idle sweep, then the
/// headroom figures.
pub(crate) fn before_render(store: &Store) {
    sweep_idle();
    store.foreign.sweep_idle();
    publish(store);
}

fn sweep_idle() {
    let expiring: Vec<(OpenLabel, u64)> = labels::all_labels()
        .into_iter()
        .filter_map(|l| labels::idle_expiry(l).map(|d| (l, d.as_millis() as u64)))
        .collect();
    if expiring.is_empty() {
        return;
    }
    // Another render is sweeping: its pass serves this one too.
    let Ok(_sweeping) = SWEEP.try_lock() else {
        return;
    };
    let now = labels::now_ms();
    let names: Vec<OpenLabel> = expiring.iter().map(|(l, _)| *l).collect();
    for store in stores() {
        store.sweep(&names, now);
    }
    for (label, expiry) in expiring {
        for raw in labels::idle_values(label, now.saturating_sub(expiry)) {
            labels::retire(label, raw);
        }
    }
}

fn publish(store: &Store) {
    let (Some(values), Some(caps), Some(stale), Some(overflow)) = (
        declared::LABEL_VALUES.0.table_in(store),
        declared::LABEL_CAP.0.table_in(store),
        declared::STALE_RECORDS.0.table_in(store),
        declared::LABEL_OVERFLOW.0.table_in(store),
    ) else {
        return;
    };
    let monitored = labels::all_labels()
        .into_iter()
        .filter(|l| *l != MonitoredLabel::LABEL);
    for label in monitored {
        // The figures of `label` go to the series of its name; past
        // `MAX_OPEN_LABELS` names, to `__overflow__`'s (the last name
        // there wins: a set, not a sum).
        let Ok(name) = MonitoredLabel::new(label.as_str()) else {
            continue;
        };
        // The four families share their one label, so its series sits at
        // the same index and stamp in each.
        let (index, stamp) = ((name,).flat(&values.layout.strides), (name,).stamp());
        if let Some(cell) = values.cell(index, stamp) {
            cell.set(labels::live_values(label) as f64);
        }
        if let Some(cell) = caps.cell(index, stamp) {
            cell.set(labels::cap(label) as f64);
        }
        if let Some(cell) = stale.cell(index, stamp) {
            cell.absolute(labels::stale_records(label));
        }
        if let Some(cell) = overflow.cell(index, stamp) {
            cell.absolute(labels::overflow_records(label));
        }
    }
}
