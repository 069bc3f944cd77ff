//! What the encoders and [`super::saved`] walk: a store's tables, or the
//! merged series of a service's processes ([`super::merged`]), family by
//! family.

use super::cell::{self, CounterCell, GaugeCell, HistogramCell};
use super::table::{Series, Table};
use crate::catalog::FamilySpec;

/// A family's series as the encoders see them (`None`: no series yet).
pub(crate) enum Tables<'a> {
    Counter(Option<Source<'a, CounterCell>>),
    Gauge(Option<Source<'a, GaugeCell>>),
    Histogram(Option<Source<'a, HistogramCell>>),
}

/// Where a family's series come from: this process's table, or the
/// merged series of a service's processes ([`super::merged`]).
pub(crate) enum Source<'a, C> {
    Table(&'a Table<C>),
    Merged(&'a [(Series, C)]),
}

impl<C: cell::Cell> Source<'_, C> {
    /// Every series with its cell (see [`Table::for_each`]).
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Series, &C)) {
        match self {
            Source::Table(t) => t.for_each(f),
            Source::Merged(series) => {
                for (s, c) in series.iter() {
                    f(s, c);
                }
            }
        }
    }
}

/// What the encoders and [`super::saved`] walk: a store, or a service's merged
/// series.
pub(crate) trait Families {
    /// Calls `f` for every registered family, in registry order, with
    /// its series.
    fn for_each_family(&self, f: &mut dyn FnMut(&'static FamilySpec, Tables<'_>));
}
