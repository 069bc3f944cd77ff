//! The series of a service's processes added up into one view, which the
//! encoders serve like a store ([`Families`]).
//!
//! Counters and histograms (classic and native buckets, sums) add up over
//! every saved store given, live or exited; a series' start time is the
//! earliest; each exemplar slot keeps the newest exemplar. A gauge is
//! combined as its family's [`Merge`] says, over live processes only: an
//! exited process's gauge values leave with it.

use super::cell::{Cell, CounterCell, GaugeCell, HistogramCell};
use super::escape;
use super::saved::{self, Header, Malformed, SavedSeries};
use super::table::{push_label, shape, Series};
use super::view::{Families, Source, Tables};
use crate::catalog::{FamilySpec, Kind, Merge};
use std::collections::HashMap;

/// The merged series, family by family in registry order.
pub(crate) struct Merged {
    families: Vec<(&'static FamilySpec, Option<Family>)>,
}

enum Family {
    Counter(Vec<(Series, CounterCell)>),
    Gauge(Vec<(Series, GaugeCell)>),
    Histogram(Vec<(Series, HistogramCell)>),
}

impl Families for Merged {
    fn for_each_family(&self, f: &mut dyn FnMut(&'static FamilySpec, Tables<'_>)) {
        for (spec, family) in &self.families {
            let tables = match (spec.kind, family) {
                (_, Some(Family::Counter(s))) => Tables::Counter(Some(Source::Merged(s))),
                (_, Some(Family::Gauge(s))) => Tables::Gauge(Some(Source::Merged(s))),
                (_, Some(Family::Histogram(s))) => Tables::Histogram(Some(Source::Merged(s))),
                (Kind::Counter, None) => Tables::Counter(None),
                (Kind::Gauge, None) => Tables::Gauge(None),
                (Kind::Histogram, None) => Tables::Histogram(None),
            };
            f(spec, tables);
        }
    }
}

/// One family's series being merged, found by their label text.
struct Part<C> {
    keys: HashMap<Box<str>, usize>,
    series: Vec<(Series, C)>,
}

impl<C: Cell> Part<C> {
    fn new() -> Self {
        Part {
            keys: HashMap::new(),
            series: Vec::new(),
        }
    }

    /// The series with `text`, made (with a zeroed cell) if new; its start
    /// time is the earliest seen.
    fn series(&mut self, spec: &FamilySpec, text: &str, pairs: &[u8], created_ns: u64) -> usize {
        let at = match self.keys.get(text) {
            Some(&at) => at,
            None => {
                let at = self.series.len();
                self.keys.insert(text.into(), at);
                let series = Series {
                    text: text.into(),
                    pairs: pairs.into(),
                    created_ns,
                };
                self.series.push((series, C::new(shape(spec))));
                at
            }
        };
        let created = &mut self.series[at].0.created_ns;
        *created = (*created).min(created_ns);
        at
    }

    fn finish(mut self) -> Vec<(Series, C)> {
        self.series.sort_by(|a, b| a.0.text.cmp(&b.0.text));
        self.series
    }
}

/// A live process's value of a gauge series, and when it last changed.
struct Seen {
    value: f64,
    changed_ns: u64,
}

enum Building {
    Counter(Part<CounterCell>),
    Gauge(Part<GaugeCell>, Vec<Vec<Seen>>),
    Histogram(Part<HistogramCell>),
}

/// Adds saved stores up into a [`Merged`].
pub(crate) struct Merger {
    specs: Vec<&'static FamilySpec>,
    by_name: HashMap<&'static str, usize>,
    building: Vec<Option<Building>>,
    /// Saved series no family of this program has (another version of the
    /// program saved them): skipped.
    pub(crate) unknown: usize,
}

impl Default for Merger {
    fn default() -> Self {
        Self::new()
    }
}

impl Merger {
    /// An empty merge over every registered family.
    pub(crate) fn new() -> Self {
        let specs = crate::registry::specs();
        let by_name = specs.iter().enumerate().map(|(i, s)| (s.name, i)).collect();
        let building = specs.iter().map(|_| None).collect();
        Merger {
            specs,
            by_name,
            building,
            unknown: 0,
        }
    }

    /// Adds a saved store. Gauges count only when `live` (the process
    /// still runs). A malformed store adds nothing.
    pub(crate) fn add(&mut self, buf: &[u8], live: bool) -> Result<Header, Malformed> {
        self.add_except(buf, live, &|_| false)
    }

    /// [`add`](Self::add), skipping the series whose label text `skip`
    /// says (those of retired values).
    pub(crate) fn add_except(
        &mut self,
        buf: &[u8],
        live: bool,
        skip: &dyn Fn(&str) -> bool,
    ) -> Result<Header, Malformed> {
        let mut bad = false;
        let mut pid = 0;
        if let Ok(h) = saved::header(buf) {
            pid = h.pid;
        }
        let header = saved::read(buf, |name, kind, s| {
            if skip(s.text) {
                return;
            }
            if !self.one(name, kind, s, live, pid) {
                bad = true;
            }
        })?;
        if bad {
            tracing::warn!(
                pid = header.pid,
                "a saved store of pid {} holds series that do not fit this program's families; they were skipped",
                header.pid
            );
        }
        Ok(header)
    }

    /// Adds one saved series; false if its words do not fit its family.
    fn one(&mut self, name: &str, kind: Kind, s: SavedSeries<'_>, live: bool, pid: u32) -> bool {
        let Some(&index) = self.by_name.get(name) else {
            self.unknown += 1;
            return true;
        };
        let spec = self.specs[index];
        if spec.kind != kind {
            self.unknown += 1;
            return true;
        }
        let building = self.building[index].get_or_insert_with(|| match kind {
            Kind::Counter => Building::Counter(Part::new()),
            Kind::Gauge => Building::Gauge(Part::new(), Vec::new()),
            Kind::Histogram => Building::Histogram(Part::new()),
        });
        let mut words = s.words.iter();
        match building {
            Building::Counter(part) => {
                let at = part.series(spec, s.text, s.pairs, s.created_ns);
                part.series[at].1.add_saved(&mut words).is_some()
            }
            Building::Histogram(part) => {
                let at = part.series(spec, s.text, s.pairs, s.created_ns);
                part.series[at].1.add_saved(&mut words).is_some()
            }
            Building::Gauge(part, seen) => {
                if !live {
                    return true;
                }
                let Some(&word) = s.words.first() else {
                    return false;
                };
                let value = GaugeCell::saved_value(word, spec.integer());
                let at = if spec.merge == Merge::PerProcess {
                    let pid = pid.to_string();
                    let mut text = String::from(s.text);
                    push_label(&mut text, "pid", &pid);
                    let mut pairs = s.pairs.to_vec();
                    escape::label_pair(&mut pairs, "pid", &pid);
                    part.series(spec, &text, &pairs, s.created_ns)
                } else {
                    part.series(spec, s.text, s.pairs, s.created_ns)
                };
                if seen.len() <= at {
                    seen.resize_with(at + 1, Vec::new);
                }
                seen[at].push(Seen {
                    value,
                    changed_ns: s.changed_ns,
                });
                true
            }
        }
    }

    /// The merged view: each gauge combined as its family says.
    pub(crate) fn finish(self) -> Merged {
        let families = self
            .specs
            .iter()
            .zip(self.building)
            .map(|(spec, building)| {
                let family = building.map(|b| match b {
                    Building::Counter(part) => Family::Counter(part.finish()),
                    Building::Histogram(part) => Family::Histogram(part.finish()),
                    Building::Gauge(part, seen) => {
                        for ((_, cell), seen) in part.series.iter().zip(&seen) {
                            cell.set(combine(spec.merge, seen));
                        }
                        Family::Gauge(part.finish())
                    }
                });
                (*spec, family)
            })
            .collect();
        Merged { families }
    }
}

/// One gauge series' value over the live processes that have it.
fn combine(merge: Merge, seen: &[Seen]) -> f64 {
    let values = seen.iter().map(|s| s.value);
    match merge {
        Merge::Max => values.fold(f64::NEG_INFINITY, f64::max),
        Merge::Min => values.fold(f64::INFINITY, f64::min),
        Merge::Last => seen
            .iter()
            .max_by_key(|s| s.changed_ns)
            .map_or(0.0, |s| s.value),
        // One process per series, so its value.
        Merge::Sum | Merge::PerProcess => values.sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(v: &[(f64, u64)]) -> Vec<Seen> {
        v.iter()
            .map(|&(value, changed_ns)| Seen { value, changed_ns })
            .collect()
    }

    #[test]
    fn gauges_combine_as_their_family_says() {
        let s = seen(&[(3.0, 10), (7.0, 5), (-1.0, 20)]);
        assert_eq!(combine(Merge::Sum, &s), 9.0);
        assert_eq!(combine(Merge::Max, &s), 7.0);
        assert_eq!(combine(Merge::Min, &s), -1.0);
        assert_eq!(combine(Merge::Last, &s), -1.0);
    }
}
