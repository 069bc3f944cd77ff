//! A counter's cell: one atomic count and its latest exemplar.

use super::{Cell, Shape};
use crate::store::exemplar::{Exemplar, ExemplarSlot};
use std::sync::atomic::{AtomicU64, Ordering};

/// A monotonic count with the latest exemplar.
#[derive(Debug, Default)]
pub(crate) struct CounterCell {
    value: AtomicU64,
    exemplar: ExemplarSlot,
}

impl Cell for CounterCell {
    fn new(_: Shape) -> Self {
        Self::default()
    }
    fn reset(&self) {
        self.value.store(0, Ordering::Relaxed);
        self.exemplar.clear();
    }
    fn add_from(&self, other: &Self) {
        self.value.fetch_add(other.get(), Ordering::Relaxed);
        self.exemplar.keep_newer(&other.exemplar);
    }
    fn save(&self, out: &mut Vec<u64>) {
        out.push(self.get());
        out.extend_from_slice(&self.exemplar.words());
    }
    fn add_saved(&self, words: &mut std::slice::Iter<'_, u64>) -> Option<()> {
        self.value.fetch_add(*words.next()?, Ordering::Relaxed);
        self.exemplar
            .keep_newer_words(super::exemplar_words(words)?);
        Some(())
    }
}

impl CounterCell {
    #[inline(always)]
    pub(crate) fn add(&self, n: u64) {
        self.value.fetch_add(n, Ordering::Relaxed);
        self.exemplar.offer(n as f64);
    }

    /// Sets the count outright (`metrics`' `Counter::absolute`); never lowers it.
    pub(crate) fn absolute(&self, n: u64) {
        self.value.fetch_max(n, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.value.load(Ordering::Relaxed)
    }

    pub(crate) fn exemplar(&self) -> Option<Exemplar> {
        self.exemplar.read()
    }
}
