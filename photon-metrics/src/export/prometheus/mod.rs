//! The Prometheus exporter: photon's own store, served on a hardened
//! `/metrics` listener, rendered into your server, or pushed.
//!
//! Serve `/metrics` on a listener:
//!
//! ```no_run
//! use photon_metrics::export::prometheus::PrometheusExporterBuilder;
//! let exporter = PrometheusExporterBuilder::new()
//!     .listen_on("0.0.0.0:8080")?
//!     .global_label("service", "photon-compiler")
//!     .install()?;
//! println!("scrape http://{}/metrics", exporter.local_addr().unwrap());
//! # Ok::<(), photon_metrics::export::ExportError>(())
//! ```
//!
//! Or render into your own HTTP server: pass the request's `Accept` header
//! and answer with the body and content type you get back (protobuf with
//! native histograms, or OpenMetrics with exemplars, when the scraper asks
//! for it; text 0.0.4 otherwise):
//!
//! ```
//! use photon_metrics::export::prometheus::PrometheusExporterBuilder;
//! let (recorder, exporter) = PrometheusExporterBuilder::new().without_listener().build_recorder();
//! metrics::with_local_recorder(&recorder, || {
//!     photon_metrics::runtime::set_queue_depth(3);
//! });
//! let (body, content_type) = exporter.render_for(Some("text/plain"));
//! assert!(String::from_utf8(body).unwrap().contains("photon_queue_depth 3"));
//! assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
//! ```
//!
//! What the store guarantees:
//! - every catalog family is exposed with `# HELP` and `# TYPE` (and
//!   `# UNIT` where its name ends in one) from install on; families whose
//!   labels are all closed, or that have none, are present at 0;
//! - histograms are real Prometheus histograms with the catalog's buckets,
//!   updated with atomics at record time: no observation is ever buffered
//!   or lost, and no scrape sees `_count` differ from the `+Inf` bucket;
//! - the catalog's histograms also keep native (sparse exponential)
//!   buckets ([`crate::catalog::NativeBuckets`]), served with the classic
//!   ones in the protobuf format; a scrape's native count is the sum of its
//!   native buckets (and NaNs), never below its classic `+Inf`; histograms
//!   recorded through the `metrics` facade are classic only;
//! - counters and histograms carry their start: `_created` in OpenMetrics,
//!   `created_timestamp` in protobuf; a retired and re-created series
//!   starts anew;
//! - label values are escaped once, exactly, when their series is created;
//! - series other code records through the `metrics` facade are served too
//!   (histograms with [`PrometheusExporterBuilder::default_buckets`]).
//!
//! # Memory
//!
//! Memory is bounded by design. A family can never hold more series than the
//! product of its labels' value counts (a closed set's size; an open label's
//! cap plus `__overflow__`), and a series never grows after it is created.
//! The worst case per family at the default caps ([`max_memory_bytes`]
//! computes it at the caps in force; a test keeps this table honest):
//!
//! | family | series at most | memory at most |
//! |---|---|---|
//! | `photon_compilations_total` | 8580 | 11695 KiB |
//! | `photon_compilation_duration_seconds` | 66 | 10931 KiB |
//! | `photon_compilation_errors_total` | 2145 | 2068 KiB |
//! | `photon_cache_hits_total` | 33 | 21 KiB |
//! | `photon_cache_misses_total` | 33 | 21 KiB |
//! | `photon_memory_usage_bytes` | 66 | 62 KiB |
//! | `photon_memory_limit_bytes` | 1 | 2 KiB |
//! | `photon_pass_duration_seconds` | 8481 | 26226 KiB |
//! | `photon_pass_failures_total` | 8481 | 8071 KiB |
//! | `photon_device_status` | 5125 | 4778 KiB |
//! | `photon_optical_power_mw` | 1025 | 538 KiB |
//! | `photon_device_temperature_celsius` | 1025 | 538 KiB |
//! | `photon_calibration_drift` | 1025 | 538 KiB |
//! | `photon_inference_latency_seconds` | 5 | 930 KiB |
//! | `photon_active_devices` | 325 | 304 KiB |
//! | `photon_active_sessions` | 1 | 2 KiB |
//! | `photon_throughput_ops_per_second` | 1 | 2 KiB |
//! | `photon_inference_ops_total` | 5 | 7 KiB |
//! | `photon_queue_depth` | 1 | 2 KiB |
//! | `photon_runtime_errors_total` | 65 | 41 KiB |
//! | `photon_metrics_label_overflow_total` | 70 | 43 KiB |
//! | `photon_metrics_label_values` | 70 | 38 KiB |
//! | `photon_metrics_label_cap` | 70 | 38 KiB |
//! | `photon_metrics_stale_records_total` | 70 | 43 KiB |
//! | `photon_otlp_spans_dropped_total` | 2 | 6 KiB |
//!
//! Series are allocated in chunks of 64 as they are first recorded, so a
//! process pays for what it touches: the demo's whole store is well under
//! 1 MiB. A chunk is allocated whole, so the table counts whole chunks: a
//! histogram family of 5 series pays for 64 cells (`tests/store_allocation.rs`
//! measures a family's allocations against its row). The histogram rows
//! include each series' native buckets at their worst: 64 counters are
//! allocated the first time a value falls in their range, and the bound
//! assumes values of every magnitude, both signs; latencies from 1 µs to
//! 1 h take 5 such chunks (2.6 KiB) a series. Nothing is buffered per
//! observation, and nothing runs in the background to drain anything.
//!
//! A retired value's series wait for one more scrape with their final
//! values (see the README's "Series lifecycle"): up to 64 a family, and at
//! most 1024 KiB for all families together, on top of the rows above.
//!
//! Series recorded through the `metrics` facade outside the catalog are
//! capped too ([`PrometheusExporterBuilder::foreign_series_cap`], default
//! 10,000 in all, and [`PrometheusExporterBuilder::foreign_family_series_cap`],
//! default 1,000 per family), and a key longer than 1 KiB (its name and
//! labels) or a name longer than 256 bytes never gets a series of its own.
//! At the default caps and buckets they take at most 73.1 MiB, every series
//! a histogram with a 1 KiB key ([`PrometheusExporterBuilder::max_foreign_memory_bytes`]
//! computes it for a builder's settings; a test keeps this figure honest);
//! series with short keys take a small fraction of that.
//!
//! # Series from the `metrics` facade
//!
//! A third-party `metrics::counter!`, `gauge!` or `histogram!` under a name
//! outside the catalog becomes a series of its own, made valid once when its
//! key is first seen:
//! - names are sanitized (characters outside `[a-zA-Z0-9_:]` become `_`);
//!   names that sanitize alike (`a.b`, `a_b`) are one family when of one
//!   kind;
//! - a label name given twice (or two that sanitize alike) keeps its first
//!   value; `le` on a histogram and names starting with `__` are renamed
//!   `exported_le`, `exported___name__`, as Prometheus does with target
//!   labels under `honor_labels: false`; labels are ordered by name and empty
//!   values left out (Prometheus reads an empty value as no label), so keys
//!   that spell one series differently record into that one series;
//! - a name already used as another kind, or whose samples (`_total`,
//!   `_bucket`, `_sum`, `_count`, OpenMetrics' `_created`, a counter's
//!   OpenMetrics family name) would collide with another family's, a
//!   catalog family's included, is refused: its records are dropped, with
//!   one warning per name;
//! - a counter recorded without `_total` is served with it in OpenMetrics
//!   and protobuf (the name Prometheus keeps when it scrapes either, and
//!   what a Pushgateway receives) and as recorded in text 0.0.4;
//! - a name that is no legacy name (`app.requests`) is served as the
//!   scraper's `escaping=` asks (see [`crate::export::encode::Escaping`]);
//!   a counter's `_total` stays outside the escaped part, so its samples
//!   still end in it (client_golang escapes it too: `app_dot_requests__total`
//!   there, `app_dot_requests_total` here);
//! - past a cap, new label sets of a family record into its one series whose
//!   every label is `__overflow__` (one warning per family), so the family's
//!   totals stay exact; once the total cap leaves no room, records of new
//!   names are dropped (one warning);
//! - a family without `describe_counter!`/`describe_gauge!`/
//!   `describe_histogram!` gets a help text saying so, which keeps
//!   `promtool check metrics` clean.

mod builder;
mod exporter;

pub use crate::store::recorder::PhotonRecorder;
#[cfg(feature = "logs")]
pub(crate) use builder::PreparedExporter;
pub use builder::PrometheusExporterBuilder;
pub use exporter::PrometheusExporter;

use super::encode::Format;

/// The most memory the store can ever use for `spec`'s series at the
/// current cardinality caps, in bytes (see the table above for the default
/// caps). Raise a cap with [`crate::labels::set_cap`] and this grows with it.
pub fn max_memory_bytes(spec: &crate::catalog::FamilySpec) -> usize {
    crate::store::max_memory_bytes(spec)
}

/// The listen address from the design: all interfaces, port 8080.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:8080";

/// The `Content-Type` of the text exposition format (what
/// [`PrometheusExporter::render`] returns).
pub const CONTENT_TYPE: &str = Format::Text.content_type();

/// The memory table in this module's docs, one row per family.
#[cfg(test)]
fn memory_table() -> String {
    let mut out = String::new();
    for spec in crate::registry::catalog() {
        out.push_str(&format!(
            "//! | `{}` | {} | {} |\n",
            spec.name,
            spec.max_series(),
            kib(max_memory_bytes(spec))
        ));
    }
    out
}

#[cfg(test)]
fn kib(bytes: usize) -> String {
    format!("{} KiB", bytes.div_ceil(1024))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_documented_memory_bounds_are_the_computed_ones() {
        let table = super::memory_table();
        let docs = include_str!("mod.rs");
        assert!(
            docs.contains(&table),
            "update the memory table in export/prometheus/mod.rs:\n{table}"
        );
        let total: usize = crate::registry::catalog()
            .into_iter()
            .map(super::max_memory_bytes)
            .sum();
        let foreign = super::PrometheusExporterBuilder::new().max_foreign_memory_bytes();
        let claim = format!(
            "At the default caps and buckets they take at most {:.1} MiB,",
            foreign as f64 / (1 << 20) as f64
        );
        let flat = docs.replace("\n//! ", " ");
        assert!(
            flat.contains(&claim),
            "the module docs should say `{claim}`"
        );
        let departed = format!(
            "at most {} KiB for all families together",
            crate::store::table::DEPARTED_BUDGET / 1024
        );
        assert!(
            flat.contains(&departed),
            "the module docs should say `{departed}`"
        );
        let readme = include_str!("../../../../README.md");
        let claim = format!(
            "at most {:.1} MiB for all families",
            total as f64 / (1 << 20) as f64
        );
        assert!(readme.contains(&claim), "README should say `{claim}`");
    }
}
