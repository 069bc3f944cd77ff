//! A histogram's cell: fixed buckets, and native ones where the family
//! has them.
//!
//! # Why it looks like this
//!
//! A scrape must never see `_count` differ from the `+Inf` bucket, buckets
//! that are not monotone, or a count that went down; and no observation may
//! ever be lost. The Go client (and tikv's port of it) get a consistent
//! snapshot with hot/cold shards: every observation does three or four
//! atomic read-modify-writes (a shared observation counter that also holds
//! the hot index, the bucket, the sum, the shard's count), and a scrape
//! swaps the shards and waits for in-flight writers to finish.
//!
//! Here the cell stores **no count at all**: each observation adds one to
//! exactly one non-cumulative bucket (one atomic add) and adds its value to
//! the sum (one compare-and-swap). A scrape reads every bucket once and
//! accumulates them, so `_count` *is* the `+Inf` bucket, the buckets are
//! monotone by construction, and since every bucket only grows, nothing a
//! later scrape reports is smaller than what an earlier one did. That costs
//! half the atomics of hot/cold, and a scrape never waits for a writer.
//! The one thing it does not give is a `_sum` frozen at exactly the counted
//! observations: the sum is added *before* the bucket (release/acquire), so
//! a scrape's `_sum` includes every counted observation plus at most the
//! ones in flight on other threads at that instant.
//!
//! The sum and bucket counts are also striped per thread (see
//! [`HistogramCell`]), which keeps two threads on one series from sharing a
//! cache line; the scrape adds the stripes up, and the argument above holds
//! stripe by stripe.
//!
//! A histogram with native buckets ([`crate::store::native`]) counts only those
//! and derives its classic buckets from them, exactly (see `Derived`): the
//! same single bucket add per observation, so native buckets cost the
//! record path nothing but the index arithmetic, and classic and native
//! counts come from one read, so they can never disagree.

use super::{add_f64, Cell, Shape};
use crate::store::exemplar::{Exemplar, ExemplarSlot};
use crate::store::native::{self, NativeCell, NativeSnapshot};
use std::sync::atomic::{AtomicU64, Ordering};

/// Bucket lists up to this long are searched by counting (see
/// [`HistogramCell::bucket`]); longer ones by bisection.
const LINEAR_BOUNDS: usize = 32;

/// How many stripes a histogram's counts and sum are spread over.
const STRIPES: usize = 4;

/// Words per cache line.
const LINE_WORDS: usize = 8;

/// One cache line of counters, so two stripes never share a line.
#[repr(align(64))]
#[derive(Debug, Default)]
struct Line([AtomicU64; LINE_WORDS]);

thread_local! {
    /// This thread's histogram stripe, assigned round-robin on first use.
    static STRIPE: std::cell::Cell<usize> = const { std::cell::Cell::new(usize::MAX) };
}

#[inline(always)]
fn stripe() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    STRIPE
        .try_with(|s| {
            let mut stripe = s.get();
            if stripe == usize::MAX {
                stripe = NEXT.fetch_add(1, Ordering::Relaxed) % STRIPES;
                s.set(stripe);
            }
            stripe
        })
        .unwrap_or(0)
}

/// A fixed-bucket histogram; see the module docs for why it has no count.
///
/// The sum and the non-cumulative bucket counts are striped: each thread
/// adds to one of [`STRIPES`] copies, each on cache lines of its own, so two
/// threads observing the same series do not fight over one line. A scrape
/// adds the stripes up; every stripe's counts only grow, so the sums do too.
#[derive(Debug)]
pub(crate) struct HistogramCell {
    bounds: &'static [f64],
    /// Lines per stripe: word 0 is the sum's `f64` bits, words
    /// `1..=bounds.len() + 1` the buckets, the last one `+Inf`.
    stride: usize,
    lines: Box<[Line]>,
    exemplars: Box<[ExemplarSlot]>,
    /// Native buckets, for families that have them; then the classic
    /// buckets are derived from them (see [`Derived`]) and `lines` holds
    /// only the sum.
    native: Option<Box<Derived>>,
}

/// Classic buckets derived from native ones, exactly: each classic bound
/// `b` lies in one native bucket (its *straddle*); every native bucket
/// below it holds only values `<= b`, every one above only values `> b`,
/// so the cumulative count at `b` is the native buckets below the straddle
/// (and the zero bucket and negative values, all below the positive
/// bounds) plus the straddle's values `<= b`, which `split` counts. An
/// observation therefore costs one native count, and a second only when it
/// falls in a straddle at or below its bound (about one in ten): fewer
/// atomics than keeping both sets of buckets.
#[derive(Debug)]
struct Derived {
    cell: NativeCell,
    /// The native bucket of each classic bound.
    straddle: Box<[i32]>,
    /// Per classic bucket `i`: observations in bucket `i` whose native
    /// bucket is `straddle[i]`.
    split: Box<[AtomicU64]>,
    /// For each native bucket of the directory's range (from `first`): how
    /// many classic bounds lie below it. A value's classic bucket is that,
    /// plus the straddling bounds below it: one load instead of a search.
    below: &'static [u16],
    first: i32,
}

/// [`Derived::below`] tables, one per family layout, made once.
fn below_table(
    bounds: &'static [f64],
    layout: &native::Layout,
    straddle: &[i32],
) -> &'static [u16] {
    type Key = (usize, usize, i8, i32);
    static TABLES: std::sync::Mutex<Vec<(Key, &'static [u16])>> = std::sync::Mutex::new(Vec::new());
    let (first, len) = NativeCell::near_keys(layout);
    let key = (bounds.as_ptr() as usize, bounds.len(), layout.schema, first);
    let mut tables = TABLES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, table)) = tables.iter().find(|(k, _)| *k == key) {
        return table;
    }
    let table: Vec<u16> = (0..len as i32)
        .map(|k| straddle.iter().filter(|s| **s < first + k).count() as u16)
        .collect();
    let table: &'static [u16] = Box::leak(table.into_boxed_slice());
    tables.push((key, table));
    table
}

impl Derived {
    /// Native buckets for `bounds`, when every bound is positive and above
    /// the zero bucket (the derivation needs it; the catalog's are).
    fn eligible(bounds: &[f64], layout: &native::Layout) -> bool {
        bounds
            .iter()
            .all(|b| *b > layout.zero_threshold && b.is_finite())
    }

    fn new(bounds: &'static [f64], layout: native::Layout) -> Option<Self> {
        if !Self::eligible(bounds, &layout) || bounds.len() >= usize::from(u16::MAX) {
            return None;
        }
        let straddle: Box<[i32]> = bounds
            .iter()
            .map(|b| native::bucket_index(*b, layout.schema))
            .collect();
        Some(Derived {
            cell: NativeCell::new(layout),
            below: below_table(bounds, &layout, &straddle),
            first: NativeCell::near_keys(&layout).0,
            straddle,
            split: (0..bounds.len()).map(|_| AtomicU64::new(0)).collect(),
        })
    }

    /// Counts `count` observations of `value` (after its sum); returns its
    /// classic bucket.
    #[inline(always)]
    fn observe(&self, bounds: &[f64], value: f64, count: u64) -> usize {
        // The native count first: a scrape reads `split` before the
        // native buckets, so whatever it finds split it also finds counted.
        let Some(key) = self.cell.observe(value, count) else {
            // Zero bucket, negative or NaN: below every bound, or (NaN)
            // past them all.
            return if value.is_nan() { bounds.len() } else { 0 };
        };
        let mut i = match self.below.get(key.wrapping_sub(self.first) as u32 as usize) {
            Some(&below) => usize::from(below),
            None => return self.far(bounds, value, key, count),
        };
        // Bounds in this very native bucket: those below the value.
        while self.straddle.get(i) == Some(&key) && value > bounds[i] {
            i += 1;
        }
        if self.straddle.get(i) == Some(&key) {
            self.split[i].fetch_add(count, Ordering::Release);
        }
        i
    }

    /// [`observe`](Self::observe) for a value outside the table's range.
    #[cold]
    fn far(&self, bounds: &[f64], value: f64, key: i32, count: u64) -> usize {
        let i = bounds.partition_point(|b| *b < value);
        if self.straddle.get(i) == Some(&key) {
            self.split[i].fetch_add(count, Ordering::Release);
        }
        i
    }
}

impl Cell for HistogramCell {
    fn new(shape: Shape) -> Self {
        let bounds = shape.bounds;
        let native = shape
            .native
            .and_then(|layout| Derived::new(bounds, layout))
            .map(Box::new);
        // With native buckets the lines hold only the sum.
        let stride = if native.is_some() {
            1
        } else {
            Self::lines_per_stripe(bounds.len())
        };
        let mut lines = Vec::with_capacity(stride * STRIPES);
        lines.resize_with(stride * STRIPES, Line::default);
        let mut exemplars = Vec::with_capacity(bounds.len() + 1);
        exemplars.resize_with(bounds.len() + 1, ExemplarSlot::default);
        HistogramCell {
            bounds,
            stride,
            lines: lines.into_boxed_slice(),
            exemplars: exemplars.into_boxed_slice(),
            native,
        }
    }
    fn reset(&self) {
        if let Some(native) = &self.native {
            native.cell.reset();
            for n in native.split.iter() {
                n.store(0, Ordering::Relaxed);
            }
        }
        for line in self.lines.iter() {
            for word in &line.0 {
                word.store(0, Ordering::Relaxed);
            }
        }
        for exemplar in self.exemplars.iter() {
            exemplar.clear();
        }
    }
    fn add_from(&self, other: &Self) {
        // Same family, so the same shape: stripe for stripe, word for word.
        for stripe in 0..STRIPES {
            let sum = f64::from_bits(other.word(stripe, 0).load(Ordering::Acquire));
            add_f64(self.word(stripe, 0), sum, Ordering::Relaxed);
            if self.native.is_none() {
                for bucket in 0..=self.bounds.len() {
                    let n = other.word(stripe, 1 + bucket).load(Ordering::Acquire);
                    self.word(stripe, 1 + bucket)
                        .fetch_add(n, Ordering::Release);
                }
            }
        }
        if let (Some(mine), Some(theirs)) = (&self.native, &other.native) {
            // `split` before the native buckets, as a scrape reads them.
            for (a, b) in mine.split.iter().zip(theirs.split.iter()) {
                a.fetch_add(b.load(Ordering::Acquire), Ordering::Release);
            }
            mine.cell.add_from(&theirs.cell);
        }
        for (a, b) in self.exemplars.iter().zip(other.exemplars.iter()) {
            a.keep_newer(b);
        }
    }
    /// The sum, then the buckets (non-cumulative, one per bound and
    /// `+Inf`) or, with native buckets, each bound's split and the native
    /// counts; then every exemplar slot.
    fn save(&self, out: &mut Vec<u64>) {
        let sum: f64 = (0..STRIPES)
            .map(|stripe| f64::from_bits(self.word(stripe, 0).load(Ordering::Acquire)))
            .sum();
        out.push(sum.to_bits());
        match &self.native {
            Some(derived) => {
                // `split` before the native buckets, as a scrape reads them.
                out.extend(derived.split.iter().map(|n| n.load(Ordering::Acquire)));
                derived.cell.save(out);
            }
            None => {
                for bucket in 0..=self.bounds.len() {
                    out.push(
                        (0..STRIPES)
                            .map(|stripe| self.word(stripe, 1 + bucket).load(Ordering::Acquire))
                            .sum(),
                    );
                }
            }
        }
        for exemplar in self.exemplars.iter() {
            out.extend_from_slice(&exemplar.words());
        }
    }
    fn add_saved(&self, words: &mut std::slice::Iter<'_, u64>) -> Option<()> {
        add_f64(
            self.word(0, 0),
            f64::from_bits(*words.next()?),
            Ordering::Relaxed,
        );
        match &self.native {
            Some(derived) => {
                for split in derived.split.iter() {
                    split.fetch_add(*words.next()?, Ordering::Release);
                }
                derived.cell.add_saved(words)?;
            }
            None => {
                for bucket in 0..=self.bounds.len() {
                    self.word(0, 1 + bucket)
                        .fetch_add(*words.next()?, Ordering::Release);
                }
            }
        }
        for exemplar in self.exemplars.iter() {
            exemplar.keep_newer_words(super::exemplar_words(words)?);
        }
        Some(())
    }
    fn heap_bytes(&self) -> usize {
        std::mem::size_of_val(&*self.lines)
            + std::mem::size_of_val(&*self.exemplars)
            + self.native.as_ref().map_or(0, |d| {
                std::mem::size_of::<Derived>()
                    + std::mem::size_of_val(&*d.straddle)
                    + std::mem::size_of_val(&*d.split)
                    + d.cell.heap_bytes()
            })
    }
}

/// What a scrape reads from a histogram.
pub(crate) struct HistogramSnapshot {
    /// Cumulative counts, one per bound plus `+Inf`.
    pub cumulative: Vec<u64>,
    pub exemplars: Vec<Option<Exemplar>>,
    pub sum: f64,
    /// The native buckets, unreduced, when asked for (the classic buckets
    /// above are derived from the same read, so they always agree).
    pub native: Option<NativeSnapshot>,
}

impl HistogramCell {
    fn lines_per_stripe(bounds: usize) -> usize {
        (bounds + 2).div_ceil(LINE_WORDS)
    }

    /// Heap bytes of a histogram of `shape` before any native bucket is
    /// allocated (for the memory bound; native chunks come on top).
    pub(crate) fn heap_bytes(shape: &Shape) -> usize {
        use std::mem::size_of;
        let bounds = shape.bounds.len();
        let exemplars = (bounds + 1) * size_of::<ExemplarSlot>();
        let derived = shape
            .native
            .is_some_and(|layout| Derived::eligible(shape.bounds, &layout));
        if derived {
            // The sum's line per stripe, the boxed derivation, and each
            // bound's straddle and split.
            STRIPES * size_of::<Line>()
                + size_of::<Derived>()
                + exemplars
                + bounds * (size_of::<i32>() + size_of::<AtomicU64>())
        } else {
            Self::classic_heap_bytes(bounds)
        }
    }

    /// Heap bytes of a histogram with `bounds` classic bounds only.
    pub(crate) fn classic_heap_bytes(bounds: usize) -> usize {
        Self::lines_per_stripe(bounds) * STRIPES * std::mem::size_of::<Line>()
            + (bounds + 1) * std::mem::size_of::<ExemplarSlot>()
    }

    #[inline(always)]
    fn word(&self, stripe: usize, word: usize) -> &AtomicU64 {
        &self.lines[stripe * self.stride + word / LINE_WORDS].0[word % LINE_WORDS]
    }

    /// The bucket of `value`: the first bound at or above it, `+Inf` past the
    /// last. NaN compares with nothing and lands in `+Inf`, as in the Go
    /// client, instead of the first bucket.
    ///
    /// Up to [`LINEAR_BOUNDS`] bounds (every catalog list, and the usual
    /// hand-written ones) the bounds below the value are counted without a
    /// branch: the comparisons are independent, where a binary search's
    /// chain of dependent loads is what the bucket's atomic add waits for.
    #[inline(always)]
    fn bucket(&self, value: f64) -> usize {
        // "Not at or above": true for NaN, which so lands past every bound.
        #[allow(clippy::neg_cmp_op_on_partial_ord)]
        let below = |bound: &f64| !(value <= *bound);
        if self.bounds.len() <= LINEAR_BOUNDS {
            self.bounds.iter().map(|b| usize::from(below(b))).sum()
        } else {
            self.bounds.partition_point(below)
        }
    }

    #[inline(always)]
    pub(crate) fn observe(&self, value: f64) {
        self.observe_many(value, 1);
    }

    /// Adds `count` observations of `value` at once (`record_many`).
    #[inline(always)]
    pub(crate) fn observe_many(&self, value: f64, count: u64) {
        let stripe = stripe();
        let delta = if count == 1 {
            value
        } else {
            value * count as f64
        };
        add_f64(self.word(stripe, 0), delta, Ordering::Relaxed);
        let i = match &self.native {
            Some(native) => native.observe(self.bounds, value, count),
            None => {
                let i = self.bucket(value);
                // The release pairs with the scrape's acquire: a counted
                // observation's sum is visible to the scrape that counts it.
                self.word(stripe, 1 + i).fetch_add(count, Ordering::Release);
                i
            }
        };
        self.exemplars[i].offer(value);
    }

    pub(crate) fn bounds(&self) -> &'static [f64] {
        self.bounds
    }

    /// The native buckets, if the family has them.
    pub(crate) fn native(&self) -> Option<&NativeCell> {
        self.native.as_ref().map(|n| &n.cell)
    }

    /// The counts and sum; the exemplars too when `exemplars` (only
    /// OpenMetrics and protobuf carry them, so text renders skip the
    /// reads); the native buckets too when `native`.
    pub(crate) fn snapshot(&self, exemplars: bool, native: bool) -> HistogramSnapshot {
        let buckets = self.bounds.len() + 1;
        let mut cumulative = Vec::with_capacity(buckets);
        let mut snapshot = None;
        let mut nan_sum = false;
        match &self.native {
            Some(derived) => {
                // `split` before the native buckets (see `observe_many`).
                let split: Vec<u64> = derived
                    .split
                    .iter()
                    .map(|n| n.load(Ordering::Acquire))
                    .collect();
                let s = derived.cell.snapshot();
                let below_positive = s.zero + s.negative.iter().map(|b| b.1).sum::<u64>();
                let mut positive = s.positive.iter().peekable();
                let mut running = below_positive;
                let mut straddled = 0u64;
                let mut last_straddle = None;
                for (i, &straddle) in derived.straddle.iter().enumerate() {
                    while let Some(&&(k, n)) = positive.peek() {
                        if k >= straddle {
                            break;
                        }
                        running += n;
                        positive.next();
                    }
                    if last_straddle != Some(straddle) {
                        straddled = 0;
                        last_straddle = Some(straddle);
                    }
                    straddled += split[i];
                    // Never more than the straddle holds: only a series
                    // re-created (reset) between an observation's native
                    // count and its split could leave a split behind, and
                    // the buckets must stay monotone and within the count
                    // whatever happened.
                    let holds = match positive.peek() {
                        Some(&&(k, n)) if k == straddle => n,
                        _ => 0,
                    };
                    cumulative.push(running + straddled.min(holds));
                }
                cumulative.push(s.count());
                if s.nan > 0 {
                    // A NaN observation's sum may have been reset away
                    // under it (see above); Prometheus rejects a count
                    // above its buckets unless the sum is NaN.
                    nan_sum = true;
                }
                if native {
                    snapshot = Some(s);
                }
            }
            None => {
                let mut total = 0u64;
                for i in 0..buckets {
                    for stripe in 0..STRIPES {
                        total += self.word(stripe, 1 + i).load(Ordering::Acquire);
                    }
                    cumulative.push(total);
                }
            }
        }
        let sum = if nan_sum {
            f64::NAN
        } else {
            (0..STRIPES)
                .map(|stripe| f64::from_bits(self.word(stripe, 0).load(Ordering::Relaxed)))
                .sum()
        };
        HistogramSnapshot {
            cumulative,
            exemplars: if exemplars {
                self.exemplars.iter().map(ExemplarSlot::read).collect()
            } else {
                vec![None; self.exemplars.len()]
            },
            sum,
            native: snapshot,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_inclusive_upper_bounds_and_nan_goes_to_inf() {
        let h = HistogramCell::new(Shape::classic(&[1.0, 2.0]));
        for v in [0.5, 1.0, 1.5, 2.0, 3.0, f64::NAN] {
            h.observe(v);
        }
        let s = h.snapshot(true, true);
        assert_eq!(s.cumulative, [2, 4, 6]);
        assert!(s.sum.is_nan());
    }

    #[test]
    fn counting_and_bisection_find_the_same_bucket_on_both_sides_of_the_cutover() {
        for len in [
            1,
            2,
            9,
            LINEAR_BOUNDS - 1,
            LINEAR_BOUNDS,
            LINEAR_BOUNDS + 1,
            40,
        ] {
            let bounds: &'static [f64] = Vec::leak((1..=len).map(|i| i as f64).collect());
            let cell = HistogramCell::new(Shape::classic(bounds));
            let mut values = vec![f64::NAN, f64::NEG_INFINITY, f64::INFINITY, -0.0, 0.0];
            for b in bounds {
                values.extend([b - 0.5, *b, b + 1e-9]);
            }
            for v in values {
                // The first bound at or above the value; NaN past them all.
                let expected = bounds.iter().position(|b| v <= *b).unwrap_or(len);
                assert_eq!(cell.bucket(v), expected, "{v} in {len} bounds");
            }
        }
    }

    #[test]
    fn derived_classic_buckets_equal_counted_ones() {
        let bounds: &'static [f64] = crate::catalog::INFERENCE_LATENCY_BUCKETS;
        let classic = HistogramCell::new(Shape::classic(bounds));
        let spec = crate::registry::find("photon_inference_latency_seconds")
            .unwrap()
            .1;
        let derived = HistogramCell::new(crate::store::table::shape(spec));
        assert!(derived.native().is_some());
        let mut values: Vec<f64> = bounds.to_vec();
        values.extend(bounds.iter().map(|b| b * 1.0000001));
        values.extend(bounds.iter().map(|b| b * 0.9999999));
        values.extend(bounds.iter().map(|b| f64::from_bits(b.to_bits() + 1)));
        values.extend(bounds.iter().map(|b| f64::from_bits(b.to_bits() - 1)));
        values.extend([
            0.0,
            -1.0,
            1e-300,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ]);
        let mut x = 1e-7;
        while x < 100.0 {
            values.push(x);
            x *= 1.013;
        }
        for v in &values {
            classic.observe(*v);
            derived.observe(*v);
        }
        let (c, d) = (
            classic.snapshot(false, false),
            derived.snapshot(false, true),
        );
        assert_eq!(c.cumulative, d.cumulative);
        assert_eq!(d.native.unwrap().count(), values.len() as u64);
    }

    #[test]
    fn a_reset_between_an_observation_s_atomics_leaves_a_valid_histogram() {
        // What a series re-created under an in-flight observer can leave:
        // a split with no native count under it, a NaN count without a NaN
        // sum. The scrape still reads a histogram Prometheus accepts.
        let spec = crate::registry::find("photon_inference_latency_seconds")
            .unwrap()
            .1;
        let h = HistogramCell::new(crate::store::table::shape(spec));
        let d = h.native.as_ref().unwrap();
        d.split[3].fetch_add(1, Ordering::Relaxed);
        d.cell.observe(f64::NAN, 1);
        h.observe(0.5);
        let s = h.snapshot(false, true);
        let count = *s.cumulative.last().unwrap();
        assert_eq!(count, 2);
        assert!(
            s.cumulative.windows(2).all(|w| w[0] <= w[1]),
            "{:?}",
            s.cumulative
        );
        assert!(s.cumulative.iter().all(|c| *c <= count));
        assert!(s.sum.is_nan());
    }

    #[test]
    fn many_observations_count_each() {
        let h = HistogramCell::new(Shape::classic(&[1.0]));
        h.observe_many(0.25, 4);
        let s = h.snapshot(true, true);
        assert_eq!(s.cumulative, [4, 4]);
        assert_eq!(s.sum, 1.0);
    }
}
