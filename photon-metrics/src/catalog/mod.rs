//! The metric catalog: the single source of truth for every family.
//!
//! Each [`FamilySpec`] fixes a family's name, help text, unit, kind, label
//! names and (for histograms) bucket bounds. The typed record helpers in
//! [`compiler`](crate::compiler), [`hardware`](crate::hardware) and
//! [`runtime`](crate::runtime) are built from these entries, the Prometheus
//! exporter takes its buckets from them, and the tests under `monitoring/`
//! check every dashboard and alert query against [`families()`].
//!
//! # The catalog is an application of the public API
//!
//! Photon's families are declared in `catalog/declared.rs` with the same
//! [`family!`](crate::family) an application uses, and their label types
//! with the same [`derive(Label)`](crate::Label) (`labels/closed.rs`,
//! `labels/values.rs`). There is one registry, one kind of table, one
//! record path and one encoder path. What remains special about the
//! catalog is only this:
//!
//! * it is always linked, and registers first, in the order written (the
//!   invocation is marked `#![catalog]`, which only this crate may use), so
//!   [`families()`] and every exposition start with it in a fixed order;
//! * its family names and open label names are reserved: an application's
//!   `family!` or `derive(Label)` that takes one does not compile;
//! * its families say which part of photon-mlir-bridge they describe
//!   (`subsystem = compiler`, …; an application's are
//!   [`Subsystem::Application`]), and its `Count` gauges hold integers
//!   ([`FamilySpec::integer`]).
//!
//! ```
//! let names: Vec<&str> = photon_metrics::catalog::families().iter().map(|f| f.name).collect();
//! assert!(names.contains(&"photon_compilations_total"));
//! let f = photon_metrics::catalog::family("photon_compilation_duration_seconds").unwrap();
//! assert_eq!(f.buckets.unwrap()[0], 0.1);
//! ```

pub(crate) mod declared;
mod spec;

pub use declared::{
    COMPILATION_DURATION_BUCKETS, INFERENCE_LATENCY_BUCKETS, PASS_DURATION_BUCKETS,
};
pub use spec::{FamilySpec, Kind, Merge, NativeBuckets, Subsystem, Unit, LATENCY_NATIVE_BUCKETS};

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
    while i < declared::NAMES.len() {
        let catalog = declared::NAMES[i];
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
        assert_eq!(names, declared::NAMES);
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
