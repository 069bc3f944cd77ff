//! Families looked up by name at run time, with label values as raw
//! handles: what the C ABI, the C++ wrapper and the Python module are
//! generated from, so that a family added to the catalog (or declared by an
//! application) is reachable from every language without a binding of its
//! own.
//!
//! A label value is one `u32`: a closed label's value is its index in the
//! label's value list (`labels[i].closed_values()`), an open label's is its
//! handle (`Target::to_raw()` and siblings; 0 is `__overflow__` for every
//! open label, and index 0 is every closed label's first value, so all
//! zeros is always a valid label set).

use crate::catalog::FamilySpec;
use crate::engine::describe;
use crate::labels::{stamp, LabelName, LabelText, OpenValue, MAX_LABELS, RETIRED_VALUE};
use crate::store::cell::{CounterCell, GaugeCell, HistogramCell};
use crate::store::{global, Registered, TableCell};
use metrics::{Key, Metadata, Recorder};

static METADATA: Metadata<'static> =
    Metadata::new("photon_metrics", metrics::Level::INFO, Some(module_path!()));

/// A family found by name: the catalog's, or an application's registered
/// one. `Copy`; look it up once and keep it.
///
/// ```
/// use photon_metrics::families::Dynamic;
/// use photon_metrics::labels::{Pass, Target};
///
/// let passes = Dynamic::lookup("photon_pass_duration_seconds").unwrap();
/// let (pass, target) = (Pass::new("cse")?, Target::new("mzi-64x64")?);
/// passes.observe(&[pass.to_raw(), target.to_raw()], 0.002)?;
/// assert!(passes.observe(&[pass.to_raw()], 0.002).is_err()); // two labels, not one
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Dynamic {
    /// Its registry index is its position in [`Dynamic::all`]: the
    /// catalog's, then the applications' in registration order.
    family: Registered,
}

/// Why a dynamic record was refused (nothing is recorded).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DynamicError {
    /// The record is for another kind of family.
    #[error("`{family}` is a {kind}; this record is for a {wanted}")]
    WrongKind {
        /// The family.
        family: &'static str,
        /// Its kind.
        kind: &'static str,
        /// The kind the record is for.
        wanted: &'static str,
    },
    /// Too many or too few label values.
    #[error("`{family}` takes {expected} label values ({names}), not {given}")]
    LabelCount {
        /// The family.
        family: &'static str,
        /// How many it takes.
        expected: usize,
        /// Their names, comma-separated.
        names: String,
        /// How many were given.
        given: usize,
    },
    /// A value that is no value of its label: a closed index out of range,
    /// or an open handle this process never made.
    #[error("label `{label}` of `{family}` has no value {raw}")]
    UnknownValue {
        /// The family.
        family: &'static str,
        /// The label.
        label: &'static str,
        /// The raw value given.
        raw: u32,
    },
}

impl Dynamic {
    /// The family called `name`, if the catalog has it or an application
    /// registered it.
    pub fn lookup(name: &str) -> Option<Self> {
        Registered::named(name).map(|family| Dynamic { family })
    }

    /// The family in position `index` of [`all`](Self::all).
    pub fn at(index: usize) -> Option<Self> {
        let spec = crate::registry::at(index)?;
        Some(Dynamic {
            family: Registered { index, spec },
        })
    }

    /// How many families there are now: the catalog's and every
    /// registered application family.
    pub fn count() -> usize {
        crate::registry::specs().len()
    }

    /// Every family, the catalog's first, in a fixed order (an
    /// application family keeps its position once registered).
    pub fn all() -> Vec<Self> {
        crate::registry::specs()
            .into_iter()
            .enumerate()
            .map(|(index, spec)| Dynamic {
                family: Registered { index, spec },
            })
            .collect()
    }

    /// Its position in [`all`](Self::all) (stable for the process).
    pub fn index(&self) -> usize {
        self.family.index
    }

    /// Its name, help, unit, kind, labels and buckets.
    pub fn spec(&self) -> &'static FamilySpec {
        self.family.spec
    }

    /// Adds `n` to a counter's series at `labels`.
    pub fn add(&self, labels: &[u32], n: u64) -> Result<(), DynamicError> {
        self.record::<CounterCell>(
            labels,
            |c| c.add(n),
            |r, key| r.register_counter(key, &METADATA).increment(n),
        )
    }

    /// Sets a gauge's series at `labels` to `value`.
    pub fn set(&self, labels: &[u32], value: f64) -> Result<(), DynamicError> {
        self.record::<GaugeCell>(
            labels,
            |g| g.set(value),
            |r, key| r.register_gauge(key, &METADATA).set(value),
        )
    }

    /// Adds `delta` (which may be negative) to a gauge's series at `labels`.
    pub fn add_to_gauge(&self, labels: &[u32], delta: f64) -> Result<(), DynamicError> {
        self.record::<GaugeCell>(
            labels,
            |g| g.add(delta),
            |r, key| r.register_gauge(key, &METADATA).increment(delta),
        )
    }

    /// Observes `value` in a histogram's series at `labels`.
    pub fn observe(&self, labels: &[u32], value: f64) -> Result<(), DynamicError> {
        self.record::<HistogramCell>(
            labels,
            |h| h.observe(value),
            |r, key| r.register_histogram(key, &METADATA).record(value),
        )
    }

    fn record<C: TableCell>(
        &self,
        labels: &[u32],
        direct: impl FnOnce(&C),
        through: impl FnOnce(&dyn Recorder, &Key),
    ) -> Result<(), DynamicError> {
        let spec = self.spec();
        if spec.kind != C::KIND {
            return Err(DynamicError::WrongKind {
                family: spec.name,
                kind: spec.kind.as_str(),
                wanted: C::KIND.as_str(),
            });
        }
        if labels.len() != spec.labels.len() {
            return Err(DynamicError::LabelCount {
                family: spec.name,
                expected: spec.labels.len(),
                names: spec
                    .labels
                    .iter()
                    .map(|l| l.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                given: labels.len(),
            });
        }
        // Each value's slot and generation, checked before anything is
        // recorded. Texts are read only for another recorder, which keys
        // series by them; photon's store needs the slots alone.
        let mut values = [(0usize, 0u32); MAX_LABELS];
        for (i, (&label, &raw)) in spec.labels.iter().zip(labels).enumerate() {
            let unknown = || DynamicError::UnknownValue {
                family: spec.name,
                label: label.as_str(),
                raw,
            };
            values[i] = match label.open() {
                Some(open) => {
                    let value = OpenValue::from_raw(open, raw).ok_or_else(unknown)?;
                    if !value.is_live(open) {
                        // A retired value records nothing, as everywhere.
                        crate::labels::count_stale(open);
                        return Ok(());
                    }
                    (value.slot(), value.generation())
                }
                None => closed(label, raw).ok_or_else(unknown)?,
            };
        }
        let values = &values[..labels.len()];
        metrics::with_recorder(|recorder| match global::store_for(recorder) {
            Some(store) => {
                let table = self.family.table::<C>(store);
                let mut index = 0;
                let mut stamp = stamp::LIVE;
                for (i, (slot, generation)) in values.iter().enumerate() {
                    index += slot * table.layout.strides[i];
                    stamp |= stamp::part(i, *generation);
                }
                if let Some(cell) = table.cell(index, stamp) {
                    direct(cell);
                }
            }
            None => {
                describe(recorder, spec);
                let labels = spec
                    .labels
                    .iter()
                    .zip(values)
                    .map(|(l, &(slot, generation))| {
                        // Retired since the check above: named as retired.
                        let text = l
                            .slot_text(slot, generation)
                            .unwrap_or(LabelText::constant(RETIRED_VALUE));
                        crate::labels::shared_label(l.as_str(), text)
                    })
                    .collect::<Vec<_>>();
                through(recorder, &Key::from_parts(spec.name, labels));
            }
        });
        Ok(())
    }
}

/// A closed label's value at index `raw`: its slot and generation 0.
fn closed(label: LabelName, raw: u32) -> Option<(usize, u32)> {
    let slot = raw as usize;
    (slot < label.value_slots()).then_some((slot, 0))
}
