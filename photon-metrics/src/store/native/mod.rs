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

//!
//! `cell.rs` is the lock-free part (the only one with atomics, which come
//! from [`atomic`] so that `tests/loom_native.rs` can compile it against
//! loom's); `index.rs` the arithmetic and what a scrape reads.

/// The atomics `cell.rs` is written against; `tests/loom_native.rs`
/// compiles that file against loom's instead.
mod atomic {
    pub(super) use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
}

mod cell;
mod index;

pub(crate) use cell::NativeCell;
pub(crate) use index::*;

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
