//! Native bucket arithmetic: the index of a value, a family's layout, and
//! what a scrape reads (with resolution reduction). No atomics.

use std::sync::OnceLock;

/// Counters per lazily allocated chunk.
pub(crate) const CHUNK: usize = 64;
/// Chunks reachable directly, around the family's usual range.
pub(crate) const NEAR: usize = 8;
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
pub(crate) fn index_with(v: f64, schema: i8, table: &[u64]) -> i32 {
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
pub(crate) fn thresholds(schema: i8) -> &'static [u64] {
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

/// How one family's native buckets are laid out (shared by its cells).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Layout {
    pub(crate) schema: i8,
    pub(crate) zero_threshold: f64,
    pub(crate) max_buckets: u32,
    /// The first chunk id the directory covers.
    pub(crate) base: i32,
    /// The schema's boundary mantissas (schemas above 0).
    pub(crate) table: &'static [u64],
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
