//! The metric catalog: the single source of truth for every family.
//!
//! Each [`FamilySpec`] fixes a family's name, help text, unit, kind, label
//! names and (for histograms) bucket bounds. The typed record helpers in
//! [`compiler`](crate::compiler), [`hardware`](crate::hardware) and
//! [`runtime`](crate::runtime) are built from these entries, the Prometheus
//! exporter takes its buckets from them, and the tests under `monitoring/`
//! check every dashboard and alert query against [`families()`].
//!
//! ```
//! let names: Vec<&str> = photon_metrics::catalog::families().iter().map(|f| f.name).collect();
//! assert!(names.contains(&"photon_compilations_total"));
//! let f = photon_metrics::catalog::family("photon_compilation_duration_seconds").unwrap();
//! assert_eq!(f.buckets.unwrap()[0], 0.1);
//! ```

mod declared;
mod spec;

pub(crate) use declared::*;
pub use spec::{FamilySpec, Kind, NativeBuckets, Subsystem, Unit};

/// The native buckets of the catalog's latency histograms: schema 3 (each
/// bucket 9 % wider than the one below), the zero bucket of the Go client
/// (`2^-128`), at most 160 buckets a series (client_golang's usual limit).
pub const LATENCY_NATIVE_BUCKETS: NativeBuckets = NativeBuckets {
    schema: 3,
    zero_threshold: 2.938_735_877_055_719e-39,
    max_buckets: 160,
};

/// Bucket bounds of `photon_compilation_duration_seconds`, from the design.
pub const COMPILATION_DURATION_BUCKETS: &[f64] =
    &[0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0];

/// Bucket bounds of `photon_inference_latency_seconds`: photonic inference
/// runs from single microseconds (one pass through an MZI mesh) to whole
/// seconds (a large batch with host round-trips), so the buckets step
/// 1-2.5-5 per decade from 1 µs to 5 s.
pub const INFERENCE_LATENCY_BUCKETS: &[f64] = &[
    0.000_001,
    0.000_002_5,
    0.000_005,
    0.000_01,
    0.000_025,
    0.000_05,
    0.000_1,
    0.000_25,
    0.000_5,
    0.001,
    0.002_5,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
];

/// Bucket bounds of `photon_pass_duration_seconds`: one MLIR pass on one
/// operation runs from tens of microseconds (`cse` on a small function) to
/// minutes (a whole-module pass on a large model), so the buckets step
/// 1-2.5-5 per decade from 10 µs to 5 min.
pub const PASS_DURATION_BUCKETS: &[f64] = &[
    0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

/// Every registered family: the catalog's, in catalog order, then those
/// applications declared with [`family!`](crate::family) and registered so
/// far (every store registers each `family!` in the program when it is
/// made; [`Counter::register`](crate::families::Counter::register) and its
/// siblings do it earlier), in registration order. The one list docs,
/// dashboards and alert checks read; an application's families have
/// [`Subsystem::Application`].
///
/// ```
/// for family in photon_metrics::catalog::families() {
///     assert!(!family.help.is_empty());
/// }
/// let first = photon_metrics::catalog::families()[0];
/// assert_eq!(first.name, "photon_compilations_total");
/// ```
pub fn families() -> Vec<&'static FamilySpec> {
    crate::registry::specs()
}

/// Looks a registered family (the catalog's or an application's) up by
/// its exported name.
pub fn family(name: &str) -> Option<&'static FamilySpec> {
    crate::registry::find(name).map(|(_, spec)| spec)
}

/// The names a family's series take besides its own.
const SERIES_SUFFIXES: &[&str] = &["_bucket", "_count", "_sum", "_created", "_total"];

/// Whether `name`, or a series name of a family called `name`, is a
/// catalog family's name or one of its series' names. Usable in `const`
/// assertions, which is how [`family!`](crate::family) refuses a clash at
/// compile time.
pub const fn is_catalog_name(name: &str) -> bool {
    let mut i = 0;
    while i < NAMES.len() {
        let catalog = NAMES[i];
        if crate::labels::same_str(name, catalog)
            || suffixed(name, catalog)
            || suffixed(catalog, name)
        {
            return true;
        }
        i += 1;
    }
    false
}

/// Whether `long` is `short` followed by one of [`SERIES_SUFFIXES`].
const fn suffixed(long: &str, short: &str) -> bool {
    let (l, s) = (long.as_bytes(), short.as_bytes());
    if l.len() <= s.len() {
        return false;
    }
    let mut i = 0;
    while i < s.len() {
        if l[i] != s[i] {
            return false;
        }
        i += 1;
    }
    let mut k = 0;
    while k < SERIES_SUFFIXES.len() {
        let suffix = SERIES_SUFFIXES[k].as_bytes();
        if l.len() - s.len() == suffix.len() {
            let mut j = 0;
            let mut same = true;
            while j < suffix.len() {
                if l[s.len() + j] != suffix[j] {
                    same = false;
                }
                j += 1;
            }
            if same {
                return true;
            }
        }
        k += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalog's families, in catalog order.
    fn catalog() -> Vec<&'static FamilySpec> {
        crate::registry::catalog()
    }

    #[test]
    fn the_catalog_registers_first_in_declaration_order() {
        let catalog = catalog();
        let names: Vec<&str> = catalog.iter().map(|f| f.name).collect();
        assert_eq!(names, NAMES);
        assert_eq!(&families()[..catalog.len()], &catalog[..]);
        for (i, spec) in catalog.iter().enumerate() {
            assert_eq!(crate::registry::find(spec.name), Some((i, *spec)));
            assert!(spec.labels.len() <= crate::labels::MAX_LABELS);
            assert_ne!(spec.subsystem, Subsystem::Application, "{}", spec.name);
        }
    }

    #[test]
    fn names_are_unique_prometheus_names_with_unit_suffixes() {
        let mut seen = std::collections::HashSet::new();
        for f in catalog() {
            assert!(seen.insert(f.name), "duplicate family {}", f.name);
            assert!(
                f.name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{}",
                f.name
            );
            match f.kind {
                Kind::Counter => assert!(f.name.ends_with("_total"), "{}", f.name),
                Kind::Gauge | Kind::Histogram => assert!(!f.name.ends_with("_total"), "{}", f.name),
            }
            if f.unit == Unit::Seconds {
                assert!(f.name.ends_with("_seconds"), "{}", f.name);
            }
            if f.unit == Unit::Bytes {
                assert!(f.name.ends_with("_bytes"), "{}", f.name);
            }
        }
    }

    #[test]
    fn histograms_and_only_histograms_have_increasing_buckets() {
        for f in catalog() {
            match (f.kind, f.buckets) {
                (Kind::Histogram, Some(b)) => {
                    assert!(!b.is_empty());
                    assert!(
                        b.windows(2).all(|w| w[0] < w[1]),
                        "{} buckets not increasing",
                        f.name
                    );
                }
                (Kind::Histogram, None) => panic!("{} has no buckets", f.name),
                (_, Some(_)) => panic!("{} is not a histogram but has buckets", f.name),
                _ => {}
            }
        }
    }

    #[test]
    fn design_buckets_are_exact() {
        assert_eq!(
            family("photon_compilation_duration_seconds")
                .unwrap()
                .buckets
                .unwrap(),
            &[0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0]
        );
        let lat = family("photon_inference_latency_seconds")
            .unwrap()
            .buckets
            .unwrap();
        assert_eq!(lat[0], 1e-6);
        assert!(*lat.last().unwrap() >= 1.0);
    }

    #[test]
    fn every_example_query_names_its_family() {
        for f in catalog() {
            assert!(
                f.example_query.contains(f.name),
                "{}: {}",
                f.name,
                f.example_query
            );
        }
    }
}
