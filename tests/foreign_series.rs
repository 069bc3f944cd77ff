//! Series that third-party code records through the `metrics` facade:
//! a name used as two kinds warns once and stays cheap, hostile keys make
//! valid and unique series (checked by promtool and prometheus_client),
//! label churn is capped with every record accounted for, and families
//! without `describe_*!` still have help text.

mod support;

use photon_metrics::export::encode::Format;
use photon_metrics::export::prometheus::{PrometheusExporter, PrometheusExporterBuilder};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use support::exposition::{parse, value};
use support::log_buffer::SharedBuffer;

fn store() -> (
    photon_metrics::export::prometheus::PhotonRecorder,
    PrometheusExporter,
) {
    PrometheusExporterBuilder::new()
        .without_listener()
        .process_metrics(false)
        .build_recorder()
}

/// Runs `f` with a subscriber that writes every event into the returned text.
fn logged(f: impl FnOnce()) -> String {
    let buffer = SharedBuffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(buffer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    buffer.contents()
}

fn lines_about(log: &str, name: &str) -> usize {
    log.lines()
        .filter(|l| l.contains("two kinds") && l.contains(&format!("metric={name}")))
        .count()
}

#[test]
fn a_name_used_as_two_kinds_warns_once_and_costs_no_write_lock() {
    const N: usize = 100_000;
    let (recorder, exporter) = store();
    let mut conflicting = Duration::ZERO;
    let mut fitting = Duration::ZERO;
    let log = logged(|| {
        metrics::with_local_recorder(&recorder, || {
            metrics::counter!("x").increment(1);
            metrics::counter!("y").increment(1);
            let start = Instant::now();
            for _ in 0..N {
                metrics::gauge!("x", "k" => "v").set(1.0);
            }
            for _ in 0..N {
                metrics::gauge!("y").set(1.0); // same key, other kind
            }
            conflicting = start.elapsed();
            let start = Instant::now();
            for _ in 0..N {
                metrics::gauge!("z", "k" => "v").set(1.0);
            }
            for _ in 0..N {
                metrics::gauge!("z2").set(1.0);
            }
            fitting = start.elapsed();
        })
    });
    assert_eq!(
        lines_about(&log, "x"),
        1,
        "one warning for `x`:\n{}",
        &log[..log.len().min(2000)]
    );
    assert_eq!(
        lines_about(&log, "y"),
        1,
        "one warning for `y`, a key without labels"
    );
    assert!(log.len() < 2000, "{} bytes of log for two names", log.len());
    eprintln!("{N}×2 conflicting registrations: {conflicting:?}; fitting ones: {fitting:?}");
    // The conflicting registrations cost about what fitting ones do (once
    // they cost 47 times as much, under the write lock).
    assert!(
        conflicting < fitting * 5,
        "{N}×2 conflicting registrations took {conflicting:?}, fitting ones {fitting:?}"
    );

    // As documented: the first kind keeps the name, the later kind's
    // records are dropped, nothing else changes.
    let text = exporter.render_as(Format::Text);
    let samples = parse(&text);
    assert_eq!(value(&samples, "x", &[]), Some(1.0), "{text}");
    assert_eq!(value(&samples, "y", &[]), Some(1.0));
    assert!(!samples
        .iter()
        .any(|s| s.name == "x" && s.labels.contains_key("k")));
    assert_eq!(text.matches("# TYPE x ").count(), 1);
    assert_eq!(text.matches("# TYPE y ").count(), 1);
}

#[test]
fn hostile_foreign_keys_make_valid_unique_series() {
    let (recorder, exporter) = store();
    let log =
        logged(|| metrics::with_local_recorder(&recorder, support::foreign::record_hostile_keys));
    let text = exporter.render_as(Format::Text);
    let om = exporter.render_as(Format::OpenMetrics);

    let (passed, report) = support::promtool_check_metrics(&text);
    assert!(passed, "promtool check metrics:\n{report}\n{text}");

    for (format, body) in [(Format::Text, &text), (Format::OpenMetrics, &om)] {
        let samples = support::python_parser::parse(format, body)
            .into_iter()
            .flat_map(|f| f.samples)
            .map(|s| (s.name, s.labels));
        let mut seen = BTreeSet::new();
        for s in samples {
            assert!(
                seen.insert(s.clone()),
                "{format:?}: duplicate series {s:?}\n{body}"
            );
            let mut names = BTreeSet::new();
            for k in s.1.keys() {
                assert!(names.insert(k), "{format:?}: label {k} twice in {s:?}");
            }
        }
    }

    let samples = parse(&text);
    for (name, labels, want) in support::foreign::EXPECTED {
        let got: Vec<_> = samples
            .iter()
            .filter(|s| {
                s.name == *name
                    && s.labels.len() == labels.len()
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect();
        assert_eq!(got.len(), 1, "{name}{labels:?} once:\n{text}");
        assert_eq!(got[0].value, *want, "{name}{labels:?}");
    }
    for name in support::foreign::REFUSED {
        assert!(
            !samples.iter().any(|s| s.name == *name),
            "{name} is refused:\n{text}"
        );
    }
    // The catalog's families are neither shadowed nor duplicated.
    assert_eq!(
        value(&samples, "photon_queue_depth", &[]),
        Some(0.0),
        "{text}"
    );
    assert!(
        !samples
            .iter()
            .any(|s| s.name == "photon_compilation_duration_seconds_count" && s.labels.is_empty()),
        "{text}"
    );
    assert_eq!(text.matches("# TYPE photon_queue_depth ").count(), 1);

    // Each refusal and each changed label set is said once.
    for name in [
        "diff_kind_total",
        "photon_queue_depth",
        "om",
        "hist_count",
        "h2",
    ] {
        assert_eq!(
            log.lines()
                .filter(|l| l.contains(&format!("metric={name} ")))
                .count(),
            1,
            "one warning about {name}:\n{log}"
        );
    }
}

#[test]
fn label_churn_is_capped_and_every_record_is_counted() {
    const N: u64 = 100_000;
    let (recorder, exporter) = store();
    let log = logged(|| {
        metrics::with_local_recorder(&recorder, || {
            for i in 0..N {
                metrics::counter!("churn_total", "request_id" => i.to_string()).increment(1);
            }
        })
    });
    let text = exporter.render_as(Format::Text);
    let samples = parse(&text);
    let series: Vec<_> = samples.iter().filter(|s| s.name == "churn_total").collect();
    // The default per-family cap, plus the `__overflow__` series.
    assert_eq!(series.len(), 1_000 + 1, "series of churn_total");
    let total: f64 = series.iter().map(|s| s.value).sum();
    assert_eq!(total, N as f64, "no record is lost");
    assert_eq!(
        value(&samples, "churn_total", &[("request_id", "__overflow__")]),
        Some((N - 1_000) as f64),
        "every record past the cap is in __overflow__"
    );
    assert_eq!(
        log.lines()
            .filter(|l| l.contains("metric=churn_total"))
            .count(),
        1,
        "one warning:\n{}",
        &log[..log.len().min(2000)]
    );
}

#[test]
fn a_counter_without_describe_passes_promtool() {
    let (recorder, exporter) = store();
    metrics::with_local_recorder(&recorder, || {
        metrics::counter!("undescribed_total", "k" => "v").increment(1);
        metrics::gauge!("undescribed_queue_length").set(1.0);
        metrics::histogram!("undescribed_seconds").record(1.0);
        metrics::counter!("described_later_total").increment(1);
        metrics::describe_counter!("described_later_total", "Described after its first record.");
    });
    let text = exporter.render_as(Format::Text);
    let (passed, report) = support::promtool_check_metrics(&text);
    assert!(
        passed && report.trim().is_empty(),
        "promtool:\n{report}\n{text}"
    );
    assert!(text.contains("# HELP described_later_total Described after its first record.\n"));
}

#[test]
fn the_total_cap_holds_every_series_overflow_ones_included() {
    let (recorder, exporter) = PrometheusExporterBuilder::new()
        .without_listener()
        .process_metrics(false)
        .foreign_series_cap(50)
        .foreign_family_series_cap(20)
        .build_recorder();
    let log = logged(|| {
        metrics::with_local_recorder(&recorder, || {
            for family in 0..10 {
                for i in 0..100 {
                    metrics::counter!(format!("capped_{family}_total"), "i" => i.to_string())
                        .increment(1);
                }
            }
            // A key over 1 KiB never gets a series of its own.
            metrics::counter!("capped_0_total", "i" => "x".repeat(2000)).increment(1);
            // A name over 256 bytes is dropped.
            metrics::counter!(format!("{}_total", "n".repeat(300))).increment(1);
        })
    });
    let text = exporter.render_as(Format::Text);
    let samples = parse(&text);
    let foreign: Vec<_> = samples
        .iter()
        .filter(|s| s.name.starts_with("capped_"))
        .collect();
    assert_eq!(foreign.len(), 50, "series in all:\n{text}");
    let families: BTreeSet<&str> = foreign.iter().map(|s| s.name.as_str()).collect();
    // 20 + overflow for the first two, then room for one more and its overflow.
    assert_eq!(families.len(), 3, "{families:?}");
    let recorded: f64 = foreign.iter().map(|s| s.value).sum();
    assert_eq!(
        recorded,
        300.0 + 1.0,
        "every record of a kept family is counted"
    );
    assert_eq!(
        value(&samples, "capped_0_total", &[("i", "__overflow__")]),
        Some(80.0 + 1.0),
        "the long key folds into __overflow__"
    );
    assert!(!samples.iter().any(|s| s.name.starts_with("nnn")));
    assert_eq!(
        log.lines().filter(|l| l.contains("cap on series")).count(),
        1,
        "{log}"
    );
    assert_eq!(
        log.lines()
            .filter(|l| l.contains("metric name recorded through the metrics facade is too long"))
            .count(),
        1,
        "{log}"
    );
}
