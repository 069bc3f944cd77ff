//! Third-party `metrics` calls that once produced invalid or duplicate
//! series: what each records, and what the exposition must say about it.
#![allow(dead_code)]

/// Records every hostile case through whatever recorder is current (a
/// local one or the global one).
pub fn record_hostile_keys() {
    // A repeated label name: the first value is kept.
    metrics::counter!("rep_total", "k" => "first", "k" => "second").increment(1);
    // Two label names that sanitize alike: the first is kept.
    metrics::counter!("alike_labels_total", "a.b" => "1", "a_b" => "2").increment(1);
    // Two metric names that sanitize alike, same kind: one family, one series.
    metrics::counter!("same.kind_total", "k" => "v").increment(1);
    metrics::counter!("same_kind_total", "k" => "v").increment(2);
    // Two metric names that sanitize alike, other kind: the later is refused.
    metrics::counter!("diff.kind_total").increment(4);
    metrics::gauge!("diff_kind_total").set(5.0);
    // `le` on a histogram is renamed, as honor_labels does with target labels.
    metrics::histogram!("lat_seconds", "le" => "oops").record(0.2);
    metrics::histogram!("lat_seconds", "le" => "x", "exported_le" => "y").record(0.3);
    // The same labels in another order are the same series.
    metrics::gauge!("order", "a" => "1", "b" => "2").set(1.0);
    metrics::gauge!("order", "b" => "2", "a" => "1").set(2.0);
    // An empty value is an absent label in Prometheus.
    metrics::gauge!("empty", "k" => "").set(1.0);
    metrics::gauge!("empty").set(3.0);
    // A reserved label name.
    metrics::gauge!("dunder", "__name__" => "evil").set(1.0);
    // Names that sanitize to a catalog family, or to one of its samples.
    metrics::gauge!("photon.queue.depth").set(99.0);
    metrics::counter!("photon_compilation_duration_seconds_count").increment(7);
    // One name in OpenMetrics (`om` for a counter `om_total`) used twice.
    metrics::counter!("om_total").increment(1);
    metrics::gauge!("om").set(8.0);
    // A histogram's sample names taken by another family, both ways round.
    metrics::histogram!("hist").record(1.0);
    metrics::gauge!("hist_count").set(9.0);
    // (`h2_sum` is the OpenMetrics family name of the counter `h2_sum_total`.)
    metrics::counter!("h2_sum_total").increment(10);
    metrics::histogram!("h2").record(1.0);
}

/// One expected sample: its name, its labels and its value.
pub type Expected = (&'static str, &'static [(&'static str, &'static str)], f64);

/// The samples that must be in the exposition after [`record_hostile_keys`],
/// besides photon's own series.
pub const EXPECTED: &[Expected] = &[
    ("rep_total", &[("k", "first")], 1.0),
    ("alike_labels_total", &[("a_b", "1")], 1.0),
    ("same_kind_total", &[("k", "v")], 3.0),
    ("diff_kind_total", &[], 4.0),
    ("lat_seconds_count", &[("exported_le", "oops")], 1.0),
    ("lat_seconds_count", &[("exported_le", "x")], 1.0),
    ("order", &[("a", "1"), ("b", "2")], 2.0),
    ("empty", &[], 3.0),
    ("dunder", &[("exported___name__", "evil")], 1.0),
    ("om_total", &[], 1.0),
    ("hist_count", &[], 1.0),
    ("h2_sum_total", &[], 10.0),
];

/// Sample names that must not be in the exposition: the refused families.
pub const REFUSED: &[&str] = &[
    "om",
    "h2_count",
    "photon_compilation_duration_seconds_count_total",
];
