//! Native (sparse exponential) histogram buckets, as Prometheus defines them.
//!
//! At schema `s`, bucket `k` holds the values `v` with
//! `2^((k-1)/2^s) < |v| <= 2^(k/2^s)`: each bucket is `2^(2^-s)` times as
//! wide as the one below it, so a quantile read from them is off by at most
//! that factor, whatever the range. Values with `|v| <= zero_threshold` go
//! to the zero bucket; NaN is counted (in the count, not in a bucket, as
//! Prometheus expects: its sum is NaN then); `±Inf` gets the bucket just
//! past the largest finite value's.
//!
//! # Why it looks like this
//!
//! * **No lock, no loss.** An observation is one `fetch_add` on its
//!   bucket's counter. Buckets live in chunks of [`CHUNK`] counters,
//!   allocated the first time a value falls into them and installed with a
//!   compare-and-swap, never freed before the cell: a record never waits
//!   and never drops a value, whatever its magnitude.
//! * **O(1) where the values are.** The chunks around the family's classic
//!   bounds sit in a fixed directory reached by arithmetic; any other chunk
//!   (far outliers, negative values) is found on a short lock-free list.
//! * **The bucket limit is applied when reading.** Counts are kept at the
//!   family's schema; a scrape that finds more populated buckets than the
//!   family allows halves the resolution (merges neighbours, as client_golang
//!   does) until they fit. Nothing recorded is lost to it, and the record
//!   path never pays for it.
//! * **No stored count.** As for the classic buckets ([`super::cell`]),
//!   the count a scrape reports is the sum of what it read, so it can never
//!   disagree with the buckets.

use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::OnceLock;

/// Counters per lazily allocated chunk.
pub(crate) const CHUNK: usize = 64;
/// Chunks reachable directly, around the family's usual range.
const NEAR: usize = 8;
/// The schemas Prometheus defines for exponential buckets.
pub(crate) const MIN_SCHEMA: i8 = -4;
/// See [`MIN_SCHEMA`].
pub(crate) const MAX_SCHEMA: i8 = 8;

/// The bucket index of a positive, non-NaN `v` at `schema`: the `k` with
/// `2^((k-1)/2^schema) < v <= 2^(k/2^schema)`. `+Inf` gets the index after
/// `f64::MAX`'s. (`v <= 0` and NaN are the caller's: zero bucket or count.)
#[inline(always)]
pub(crate) fn bucket_index(v: f64, schema: i8) -> i32 {
    let table = if schema > 0 { thresholds(schema) } else { &[] };
    index_with(v, schema, table)
}

/// [`bucket_index`] with the schema's boundary mantissas at hand.
#[inline(always)]
fn index_with(v: f64, schema: i8, table: &[u64]) -> i32 {
    debug_assert!(v > 0.0);
    if v == f64::INFINITY {
        return index_with(f64::MAX, schema, table) + 1;
    }
    let (mantissa, exp) = frexp_bits(v);
    if schema > 0 {
        // frexp's fraction is in [0.5, 1); bucket j of the octave is the
        // number of boundaries 2^(j/2^s - 1) below it. All boundaries share
        // the fraction's binary exponent, so comparing mantissas compares
        // the values; the count is branch-free.
        let below = table.iter().map(|&t| u32::from(t < mantissa)).sum::<u32>() as i32;
        below + (exp - 1) * (1 << schema)
    } else {
        // An exact power of two is the upper bound of the octave below.
        let key = exp - i32::from(mantissa == 0);
        let shift = -i32::from(schema);
        (key + (1 << shift) - 1) >> shift
    }
}

/// frexp by bits: `(mantissa, exp)` with `v = (1 + mantissa/2^52) * 2^(exp-1)`,
/// the fraction `0.5 * (1 + mantissa/2^52)` in `[0.5, 1)`; subnormals too.
#[inline(always)]
fn frexp_bits(v: f64) -> (u64, i32) {
    const MANTISSA: u64 = (1 << 52) - 1;
    let bits = v.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    if biased == 0 {
        // Subnormal: scaling by 2^64 is exact and makes it normal.
        let (m, e) = frexp_bits(v * f64::from_bits((1023 + 64) << 52));
        return (m, e - 64);
    }
    (bits & MANTISSA, biased - 1022)
}

/// For schema `s > 0`, the mantissas of the octave's boundaries
/// `2^(j/2^s - 1)`, `j = 0..2^s` (the first is 0: the octave's start).
fn thresholds(schema: i8) -> &'static [u64] {
    static TABLES: [OnceLock<Box<[u64]>>; MAX_SCHEMA as usize + 1] =
        [const { OnceLock::new() }; MAX_SCHEMA as usize + 1];
    TABLES[schema as usize].get_or_init(|| {
        let n = 1u32 << schema;
        (0..n)
            .map(|j| {
                let bound = (f64::from(j) / f64::from(n)).exp2() / 2.0;
                (bound.to_bits() & ((1 << 52) - 1)) * u64::from(j != 0)
            })
            .collect()
    })
}

/// The upper bound of bucket `k` at `schema`, as a reader computes it.
#[cfg(test)]
pub(crate) fn upper_bound(k: i32, schema: i8) -> f64 {
    (f64::from(k) / f64::from(1u32 << schema.max(0)) * f64::from(1u32 << (-schema).max(0))).exp2()
}

/// One chunk of bucket counters, on cache lines of its own.
#[repr(align(64))]
struct Chunk([AtomicU64; CHUNK]);

impl Chunk {
    fn boxed() -> *mut Chunk {
        Box::into_raw(Box::new(Chunk(std::array::from_fn(|_| AtomicU64::new(0)))))
    }
}

/// A chunk outside the directory, on the list.
struct Far {
    negative: bool,
    id: i32,
    counts: Chunk,
    next: *mut Far,
}

/// How one family's native buckets are laid out (shared by its cells).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Layout {
    pub(crate) schema: i8,
    pub(crate) zero_threshold: f64,
    pub(crate) max_buckets: u32,
    /// The first chunk id the directory covers.
    base: i32,
    /// The schema's boundary mantissas (schemas above 0).
    table: &'static [u64],
}

impl Layout {
    /// A layout whose directory covers the chunks around `[low, high]`.
    pub(crate) fn new(schema: i8, zero_threshold: f64, max_buckets: u32, low: f64) -> Self {
        let low = low.max(f64::MIN_POSITIVE);
        // Start a chunk below the lowest classic bound, so the directory
        // spans from there up.
        let schema = schema.clamp(MIN_SCHEMA, MAX_SCHEMA);
        let base = bucket_index(low, schema).div_euclid(CHUNK as i32) - 1;
        Layout {
            schema,
            zero_threshold: zero_threshold.max(0.0),
            max_buckets: max_buckets.max(1),
            base,
            table: if schema > 0 { thresholds(schema) } else { &[] },
        }
    }
}

/// The native buckets of one histogram series.
pub(crate) struct NativeCell {
    layout: Layout,
    zero: AtomicU64,
    nan: AtomicU64,
    near: [AtomicPtr<Chunk>; NEAR],
    far: AtomicPtr<Far>,
}

// SAFETY: the raw pointers are owned chunks, only ever shared as `&Chunk`
// (atomics) and freed in `drop`, when no reference can remain.
unsafe impl Send for NativeCell {}
// SAFETY: as above; every mutation goes through atomics.
unsafe impl Sync for NativeCell {}

impl std::fmt::Debug for NativeCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeCell")
            .field("layout", &self.layout)
            .finish_non_exhaustive()
    }
}

impl Drop for NativeCell {
    fn drop(&mut self) {
        for p in &self.near {
            let p = p.load(Ordering::Acquire);
            if !p.is_null() {
                // SAFETY: installed from `Box::into_raw`, freed only here.
                drop(unsafe { Box::from_raw(p) });
            }
        }
        let mut p = self.far.load(Ordering::Acquire);
        while !p.is_null() {
            // SAFETY: as above, for every node of the list.
            let node = unsafe { Box::from_raw(p) };
            p = node.next;
        }
    }
}

/// What a scrape reads from the native buckets.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NativeSnapshot {
    pub(crate) schema: i8,
    pub(crate) zero_threshold: f64,
    pub(crate) zero: u64,
    /// NaN observations: in the count, in no bucket.
    pub(crate) nan: u64,
    /// Populated buckets `(index, count)`, by index.
    pub(crate) positive: Vec<(i32, u64)>,
    pub(crate) negative: Vec<(i32, u64)>,
}

impl NativeSnapshot {
    /// Every observation read: zero bucket, buckets and NaNs.
    pub(crate) fn count(&self) -> u64 {
        self.zero
            + self.nan
            + self
                .positive
                .iter()
                .chain(&self.negative)
                .map(|b| b.1)
                .sum::<u64>()
    }

    /// Halves the resolution until at most `max` buckets are populated
    /// (or the lowest schema is reached).
    pub(crate) fn reduce_to(&mut self, max: u32) {
        while self.positive.len() + self.negative.len() > max as usize && self.schema > MIN_SCHEMA {
            self.schema -= 1;
            merge(&mut self.positive);
            merge(&mut self.negative);
        }
    }
}

/// Bucket `k` at schema `s` is half of bucket `ceil(k/2)` at `s - 1`.
fn merge(buckets: &mut Vec<(i32, u64)>) {
    let mut out: Vec<(i32, u64)> = Vec::with_capacity(buckets.len());
    for &(k, n) in buckets.iter() {
        let k = (k + 1) >> 1;
        match out.last_mut() {
            Some(last) if last.0 == k => last.1 += n,
            _ => out.push((k, n)),
        }
    }
    *buckets = out;
}

impl NativeCell {
    pub(crate) fn new(layout: Layout) -> Self {
        NativeCell {
            layout,
            zero: AtomicU64::new(0),
            nan: AtomicU64::new(0),
            near: std::array::from_fn(|_| AtomicPtr::new(std::ptr::null_mut())),
            far: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// Heap bytes one chunk of buckets takes (for the memory bound).
    pub(crate) const CHUNK_BYTES: usize = std::mem::size_of::<Far>();

    /// Counts `count` observations of `value`; returns its bucket index
    /// if it is positive and above the zero bucket.
    #[inline(always)]
    pub(crate) fn observe(&self, value: f64, count: u64) -> Option<i32> {
        let magnitude = value.abs();
        // NaN compares with nothing, so it takes this branch too: the
        // negated comparison says so in one instruction.
        #[allow(clippy::neg_cmp_op_on_partial_ord)]
        let small = !(magnitude > self.layout.zero_threshold);
        if small {
            self.small(value, count);
            return None;
        }
        let key = index_with(magnitude, self.layout.schema, self.layout.table);
        let id = key >> CHUNK.trailing_zeros();
        let offset = (key & (CHUNK as i32 - 1)) as usize;
        let slot = id.wrapping_sub(self.layout.base) as u32 as usize;
        let positive = value > 0.0;
        let chunk = match self.near.get(slot) {
            Some(near) if positive => {
                let p = near.load(Ordering::Acquire);
                if p.is_null() {
                    self.install_near(near)
                } else {
                    // SAFETY: a non-null pointer is an installed chunk,
                    // which lives as long as `self`.
                    unsafe { &*p }
                }
            }
            _ => self.far_chunk(!positive, id),
        };
        chunk.0[offset].fetch_add(count, Ordering::Release);
        positive.then_some(key)
    }

    #[cold]
    fn small(&self, value: f64, count: u64) {
        if value.is_nan() {
            self.nan.fetch_add(count, Ordering::Release);
        } else {
            self.zero.fetch_add(count, Ordering::Release);
        }
    }

    #[cold]
    fn install_near(&self, near: &AtomicPtr<Chunk>) -> &Chunk {
        let fresh = Chunk::boxed();
        match near.compare_exchange(
            std::ptr::null_mut(),
            fresh,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            // SAFETY: installed; lives as long as `self`.
            Ok(_) => unsafe { &*fresh },
            Err(theirs) => {
                // SAFETY: ours was never shared.
                drop(unsafe { Box::from_raw(fresh) });
                // SAFETY: theirs is installed.
                unsafe { &*theirs }
            }
        }
    }

    /// The chunk `id` of the given sign from the list, added if missing.
    #[cold]
    fn far_chunk(&self, negative: bool, id: i32) -> &Chunk {
        let mut fresh: *mut Far = std::ptr::null_mut();
        loop {
            let head = self.far.load(Ordering::Acquire);
            let mut p = head;
            while !p.is_null() {
                // SAFETY: list nodes live as long as `self`.
                let node = unsafe { &*p };
                if node.negative == negative && node.id == id {
                    if !fresh.is_null() {
                        // SAFETY: ours was never shared.
                        drop(unsafe { Box::from_raw(fresh) });
                    }
                    return &node.counts;
                }
                p = node.next;
            }
            if fresh.is_null() {
                fresh = Box::into_raw(Box::new(Far {
                    negative,
                    id,
                    counts: Chunk(std::array::from_fn(|_| AtomicU64::new(0))),
                    next: std::ptr::null_mut(),
                }));
            }
            // SAFETY: not yet shared; ours to write.
            unsafe { (*fresh).next = head };
            if self
                .far
                .compare_exchange(head, fresh, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                // SAFETY: installed; lives as long as `self`.
                return unsafe { &(*fresh).counts };
            }
            // Someone else pushed: look again (they may have added `id`).
        }
    }

    /// Zeroes every count (the chunks stay).
    pub(crate) fn reset(&self) {
        self.zero.store(0, Ordering::Relaxed);
        self.nan.store(0, Ordering::Relaxed);
        self.each_chunk(|_, _, chunk| {
            for c in &chunk.0 {
                c.store(0, Ordering::Relaxed);
            }
        });
    }

    fn each_chunk(&self, mut f: impl FnMut(bool, i32, &Chunk)) {
        for (i, near) in self.near.iter().enumerate() {
            let p = near.load(Ordering::Acquire);
            if !p.is_null() {
                // SAFETY: installed chunks live as long as `self`.
                f(false, self.layout.base + i as i32, unsafe { &*p });
            }
        }
        let mut p = self.far.load(Ordering::Acquire);
        while !p.is_null() {
            // SAFETY: list nodes live as long as `self`.
            let node = unsafe { &*p };
            f(node.negative, node.id, &node.counts);
            p = node.next;
        }
    }

    /// The most heap bytes one cell of `layout` can ever hold: every chunk
    /// of both signs, from the zero threshold to infinity.
    pub(crate) fn max_heap_bytes(layout: &Layout) -> usize {
        // The smallest magnitude above the zero bucket, and infinity.
        let above = f64::from_bits(layout.zero_threshold.to_bits() + 1);
        let low = bucket_index(above, layout.schema).div_euclid(CHUNK as i32);
        let high = bucket_index(f64::INFINITY, layout.schema).div_euclid(CHUNK as i32);
        let per_sign = (high - low + 1) as usize;
        // Positive chunks in the directory are bare; all others are list nodes.
        let near = (layout.base.max(low)..(layout.base + NEAR as i32).min(high + 1)).len();
        near * std::mem::size_of::<Chunk>() + (2 * per_sign - near) * Self::CHUNK_BYTES
    }

    /// The populated buckets at the recording schema, unreduced.
    pub(crate) fn snapshot(&self) -> NativeSnapshot {
        let mut positive = Vec::new();
        let mut negative = Vec::new();
        self.each_chunk(|neg, id, chunk| {
            let out = if neg { &mut negative } else { &mut positive };
            for (i, c) in chunk.0.iter().enumerate() {
                let n = c.load(Ordering::Acquire);
                if n != 0 {
                    out.push((id * CHUNK as i32 + i as i32, n));
                }
            }
        });
        positive.sort_unstable_by_key(|b| b.0);
        negative.sort_unstable_by_key(|b| b.0);
        NativeSnapshot {
            schema: self.layout.schema,
            zero_threshold: self.layout.zero_threshold,
            zero: self.zero.load(Ordering::Acquire),
            nan: self.nan.load(Ordering::Acquire),
            positive,
            negative,
        }
    }

    /// The bucket indices the directory covers: `[first, first + len)`.
    pub(crate) fn near_keys(layout: &Layout) -> (i32, usize) {
        (layout.base * CHUNK as i32, NEAR * CHUNK)
    }

    pub(crate) fn layout(&self) -> &Layout {
        &self.layout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn powers_of_two_are_upper_bounds() {
        for schema in MIN_SCHEMA..=MAX_SCHEMA {
            let per_octave = if schema > 0 { 1 << schema } else { 1 };
            assert_eq!(bucket_index(1.0, schema), 0, "schema {schema}");
            if schema >= 0 {
                assert_eq!(bucket_index(2.0, schema), per_octave, "schema {schema}");
                assert_eq!(bucket_index(0.5, schema), -per_octave, "schema {schema}");
            }
        }
        assert_eq!(bucket_index(1.0000001, 3), 1);
        assert_eq!(bucket_index(4.0, -1), 1);
        assert_eq!(bucket_index(4.0000001, -1), 2);
    }

    #[test]
    fn infinity_is_past_the_largest_value() {
        for schema in MIN_SCHEMA..=MAX_SCHEMA {
            assert_eq!(
                bucket_index(f64::INFINITY, schema),
                bucket_index(f64::MAX, schema) + 1
            );
        }
        assert_eq!(bucket_index(f64::MAX, 0), 1024);
    }

    #[test]
    fn every_value_is_counted_somewhere() {
        let cell = NativeCell::new(Layout::new(3, 1e-9, 160, 1e-6));
        let values = [
            0.0,
            -0.0,
            1e-12,
            f64::NAN,
            1e-3,
            -2.0,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            5e-324,
            0.5,
        ];
        for v in values {
            cell.observe(v, 1);
        }
        let s = cell.snapshot();
        assert_eq!(s.count(), values.len() as u64);
        assert_eq!(s.nan, 1);
        assert_eq!(s.zero, 4);
        assert_eq!(s.negative.len(), 2);
        cell.reset();
        assert_eq!(cell.snapshot().count(), 0);
    }

    #[test]
    fn reduction_merges_pairs_and_keeps_the_count() {
        let cell = NativeCell::new(Layout::new(3, 0.0, 4, 1.0));
        for i in 1..=64 {
            cell.observe(1.0 + f64::from(i) / 8.0, 1);
        }
        let mut s = cell.snapshot();
        let before = s.count();
        s.reduce_to(4);
        assert!(s.positive.len() <= 4, "{s:?}");
        assert_eq!(s.count(), before);
        assert!(s.schema < 3);
        // Every value still lies in its merged bucket.
        for i in 1..=64 {
            let v = 1.0 + f64::from(i) / 8.0;
            let k = bucket_index(v, s.schema);
            assert!(s.positive.iter().any(|b| b.0 == k), "{v} -> {k}: {s:?}");
        }
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        /// The bucket of `v` computed another way: from `log2`, corrected
        /// against the bounds `2^(k/2^s)` by `powf`. `None` when `v` lies
        /// within a relative 1e-12 of a bound, where the two roundings may
        /// honestly disagree.
        fn reference(v: f64, schema: i8) -> Option<i32> {
            let per = 2f64.powi(i32::from(schema));
            if v < 1e-290 {
                // Scaled into the normal range first (exactly: a power of
                // two), so `powf` below never rounds into subnormals.
                let offset = (256.0 * per) as i32;
                return reference(v * 2f64.powi(256), schema).map(|k| k - offset);
            }
            let bound = |k: i32| 2f64.powf(f64::from(k) / per);
            let mut k = (v.log2() * per).ceil() as i32;
            while bound(k - 1) >= v {
                k -= 1;
            }
            while bound(k) < v {
                k += 1;
            }
            let near = |b: f64| ((v - b) / v).abs() < 1e-12;
            if (near(bound(k)) || near(bound(k - 1))) && v.log2().fract() != 0.0 {
                return None;
            }
            Some(k)
        }

        fn any_positive() -> impl Strategy<Value = f64> {
            prop_oneof![
                // Any bit pattern of a positive finite double: subnormals,
                // tiny and huge magnitudes alike.
                (1u64..0x7ff0_0000_0000_0000).prop_map(f64::from_bits),
                // Latencies.
                1e-9f64..1e4,
                // Exact powers of two: the bounds themselves.
                (-1074i32..1024).prop_map(|e| if e >= -1022 {
                    f64::from_bits(((e + 1023) as u64) << 52)
                } else {
                    f64::from_bits(1 << (e + 1074))
                }),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(4000))]

            #[test]
            fn index_matches_the_reference(v in any_positive(), schema in MIN_SCHEMA..=MAX_SCHEMA) {
                if let Some(want) = reference(v, schema) {
                    prop_assert_eq!(bucket_index(v, schema), want, "v = {:e}", v);
                }
            }

            #[test]
            fn each_value_lands_once_on_its_side(
                v in prop_oneof![
                    any::<f64>(),
                    any_positive(),
                    any_positive().prop_map(|v| -v),
                    Just(f64::INFINITY),
                    Just(f64::NEG_INFINITY),
                    Just(0.0),
                    Just(-0.0),
                ],
                zero in prop_oneof![Just(0.0), Just(2.938_735_877_055_719e-39), Just(1e-6)],
            ) {
                let cell = NativeCell::new(Layout::new(3, zero, 160, 1e-6));
                cell.observe(v, 3);
                let s = cell.snapshot();
                prop_assert_eq!(s.count(), 3);
                if v.is_nan() {
                    prop_assert_eq!(s.nan, 3);
                } else if v.abs() <= zero {
                    prop_assert_eq!(s.zero, 3);
                } else {
                    let side = if v > 0.0 { &s.positive } else { &s.negative };
                    prop_assert_eq!(side, &vec![(bucket_index(v.abs(), 3), 3)]);
                    let k = side[0].0;
                    // (exp2's bounds round in the subnormal range: the
                    // index itself is checked against the reference above.)
                    if v.is_finite() && v.abs() > 1e-290 {
                        prop_assert!(v.abs() <= upper_bound(k, 3) * (1.0 + 1e-12));
                        prop_assert!(v.abs() > upper_bound(k - 1, 3) * (1.0 - 1e-12));
                    }
                }
            }

            #[test]
            fn reduction_keeps_every_value_in_its_bucket(
                values in proptest::collection::vec(1e-6f64..1e3, 1..400),
                max in 1u32..40,
            ) {
                let cell = NativeCell::new(Layout::new(3, 0.0, max, 1e-6));
                for &v in &values {
                    cell.observe(v, 1);
                }
                let mut s = cell.snapshot();
                s.reduce_to(max);
                prop_assert_eq!(s.count(), values.len() as u64);
                prop_assert!(s.positive.len() <= max as usize || s.schema == MIN_SCHEMA);
                for &v in &values {
                    let k = bucket_index(v, s.schema);
                    prop_assert!(s.positive.iter().any(|b| b.0 == k));
                }
            }
        }
    }
}
