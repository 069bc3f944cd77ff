//! A gauge's cell: `f64` bits, or an `i64` for an integer family.

use super::{add_f64, Cell, Shape};
use std::sync::atomic::{AtomicU64, Ordering};

/// A value that goes up and down: `f64` bits, or for an integer family
/// ([`FamilySpec::integer`](crate::catalog::FamilySpec::integer)) an `i64`.
///
/// The mode is fixed when the cell is made. The `f64` methods serve both
/// (rounding for an integer cell), for the facade and the helpers; the
/// handles, which know their family's mode when they are made, use the
/// `raw_` methods that skip the mode check.
#[derive(Debug, Default)]
pub(crate) struct GaugeCell {
    bits: AtomicU64,
    integer: bool,
}

impl Cell for GaugeCell {
    fn new(shape: Shape) -> Self {
        GaugeCell {
            bits: AtomicU64::new(0),
            integer: shape.integer,
        }
    }
    fn reset(&self) {
        self.bits.store(0, Ordering::Relaxed);
    }
    fn add_from(&self, other: &Self) {
        // Same family, so the same mode: the bits are the value.
        self.bits
            .store(other.bits.load(Ordering::Relaxed), Ordering::Relaxed);
    }
    fn save(&self, out: &mut Vec<u64>) {
        out.push(self.bits.load(Ordering::Relaxed));
    }
    fn add_saved(&self, words: &mut std::slice::Iter<'_, u64>) -> Option<()> {
        let value = Self::saved_value(*words.next()?, self.integer);
        self.add(value);
        Some(())
    }
}

/// The nearest `i64` to `value` (saturating; NaN is 0).
#[inline(always)]
fn nearest(value: f64) -> i64 {
    value.round() as i64
}

impl GaugeCell {
    #[inline(always)]
    pub(crate) fn set(&self, value: f64) {
        if self.integer {
            self.raw_set_int(nearest(value));
        } else {
            self.raw_set_f64(value);
        }
    }

    #[inline(always)]
    pub(crate) fn add(&self, delta: f64) {
        if self.integer {
            self.raw_add_int(nearest(delta));
        } else {
            self.raw_add_f64(delta);
        }
    }

    /// Sets a whole value (converted for an `f64` cell).
    #[inline(always)]
    pub(crate) fn set_int(&self, value: i64) {
        if self.integer {
            self.raw_set_int(value);
        } else {
            self.raw_set_f64(value as f64);
        }
    }

    /// An integer cell's value, exactly (`None` for an `f64` cell).
    pub(crate) fn whole(&self) -> Option<i64> {
        self.integer
            .then(|| self.bits.load(Ordering::Relaxed) as i64)
    }

    /// `set` of an `f64` cell: one store.
    #[inline(always)]
    pub(crate) fn raw_set_f64(&self, value: f64) {
        debug_assert!(!self.integer);
        self.bits.store(value.to_bits(), Ordering::Relaxed);
    }

    /// `add` of an `f64` cell: a compare-and-swap loop.
    #[inline(always)]
    pub(crate) fn raw_add_f64(&self, delta: f64) {
        debug_assert!(!self.integer);
        add_f64(&self.bits, delta, Ordering::Relaxed);
    }

    /// `set` of an integer cell: one store.
    #[inline(always)]
    pub(crate) fn raw_set_int(&self, value: i64) {
        debug_assert!(self.integer);
        self.bits.store(value as u64, Ordering::Relaxed);
    }

    /// `add` of an integer cell: one atomic add (two's complement, so the
    /// `u64` add is the `i64` one; it wraps only past ±2⁶³).
    #[inline(always)]
    pub(crate) fn raw_add_int(&self, delta: i64) {
        debug_assert!(self.integer);
        self.bits.fetch_add(delta as u64, Ordering::Relaxed);
    }

    /// The value a cell of this mode [`save`](Cell::save)d as `word`.
    pub(crate) fn saved_value(word: u64, integer: bool) -> f64 {
        if integer {
            word as i64 as f64
        } else {
            f64::from_bits(word)
        }
    }

    /// The value (an integer cell's as `f64`: exact up to 2⁵³).
    pub(crate) fn get(&self) -> f64 {
        let bits = self.bits.load(Ordering::Relaxed);
        if self.integer {
            bits as i64 as f64
        } else {
            f64::from_bits(bits)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauges_add_and_set() {
        let g = GaugeCell::new(Shape::classic(&[]));
        g.add(1.5);
        g.add(-0.5);
        assert_eq!(g.get(), 1.0);
        g.set(-3.0);
        assert_eq!(g.get(), -3.0);
    }

    #[test]
    fn integer_gauges_hold_whole_numbers() {
        let g = GaugeCell::new(Shape {
            integer: true,
            ..Shape::classic(&[])
        });
        g.raw_add_int(3);
        g.raw_add_int(-5);
        assert_eq!(g.get(), -2.0);
        // An f64 from the facade rounds to the nearest whole number.
        g.add(1.4);
        assert_eq!(g.get(), -1.0);
        g.set(7.6);
        assert_eq!(g.get(), 8.0);
        g.set_int(i64::MAX);
        assert_eq!(g.get(), i64::MAX as f64);
        g.reset();
        assert_eq!(g.get(), 0.0);
        // An f64 cell takes whole numbers as f64.
        let f = GaugeCell::new(Shape::classic(&[]));
        f.set_int(-4);
        assert_eq!(f.get(), -4.0);
    }
}
