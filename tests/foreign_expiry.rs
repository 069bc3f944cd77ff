//! Idle expiry of series that third-party code records through the
//! `metrics` facade (`PrometheusExporterBuilder::foreign_idle_expiry`): an
//! idle series leaves the exposition at the next render past its expiry, a
//! busy one stays, a comeback starts from 0, label and name churn never
//! fill the caps, and handles kept from before a removal change nothing.

mod support;

use photon_metrics::export::prometheus::{
    PhotonRecorder, PrometheusExporter, PrometheusExporterBuilder,
};
use std::time::{Duration, Instant};
use support::exposition::{parse, value, Sample};

const EXPIRY: Duration = Duration::from_millis(100);

fn store(
    expiry: Option<Duration>,
    builder: PrometheusExporterBuilder,
) -> (PhotonRecorder, PrometheusExporter) {
    builder
        .without_listener()
        .process_metrics(false)
        .foreign_idle_expiry(expiry)
        .build_recorder()
}

fn samples(exporter: &PrometheusExporter) -> Vec<Sample> {
    parse(&exporter.render())
}

fn series_of(samples: &[Sample], name: &str) -> usize {
    samples.iter().filter(|s| s.name == name).count()
}

/// Renders every 10 ms until `gone` holds (at most 5 s); how long it took.
fn render_until(
    exporter: &PrometheusExporter,
    mut gone: impl FnMut(&[Sample]) -> bool,
) -> Duration {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if gone(&samples(exporter)) {
            return start.elapsed();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("the condition did not hold within 5 s");
}

#[test]
fn an_idle_series_leaves_at_the_first_render_past_its_expiry_and_a_busy_one_stays() {
    let (recorder, exporter) = store(Some(EXPIRY), PrometheusExporterBuilder::new());
    // Controls: the default (no expiry), and an expiry turned off again.
    let (default_recorder, default) = PrometheusExporterBuilder::new()
        .without_listener()
        .process_metrics(false)
        .build_recorder();
    let (off_recorder, off) = store(
        None,
        PrometheusExporterBuilder::new().foreign_idle_expiry(EXPIRY),
    );
    for r in [&recorder, &default_recorder, &off_recorder] {
        metrics::with_local_recorder(r, || {
            metrics::counter!("idle_total", "job" => "a").increment(7);
            metrics::gauge!("idle_gauge").set(3.0);
            metrics::histogram!("idle_seconds").record(0.2);
        });
    }
    let first = samples(&exporter);
    assert_eq!(
        value(&first, "idle_total", &[("job", "a")]),
        Some(7.0),
        "there before its expiry"
    );
    let start = Instant::now();
    let mut busy = 0;
    let mut left_after = None;
    while start.elapsed() < Duration::from_secs(5) {
        metrics::with_local_recorder(&recorder, || metrics::counter!("busy_total").increment(1));
        busy += 1;
        let now = samples(&exporter);
        assert_eq!(
            value(&now, "busy_total", &[]),
            Some(busy as f64),
            "the busy series stays, exact"
        );
        if left_after.is_none() && series_of(&now, "idle_total") == 0 {
            assert_eq!(series_of(&now, "idle_gauge"), 0, "idle gauge left with it");
            assert_eq!(
                series_of(&now, "idle_seconds_count"),
                0,
                "idle histogram left with it"
            );
            assert!(
                !now.iter().any(|s| s.name.starts_with("idle_")),
                "nothing of them is left"
            );
            left_after = Some(start.elapsed());
        }
        if start.elapsed() > EXPIRY * 4 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let left_after = left_after.expect("the idle series left");
    eprintln!("idle series left {left_after:?} after the first render (expiry {EXPIRY:?})");
    // `now_ms` counts whole milliseconds.
    assert!(
        left_after + Duration::from_millis(2) >= EXPIRY,
        "not before its expiry: {left_after:?}"
    );
    assert!(
        left_after < EXPIRY * 3,
        "within the expiry and a scrape: {left_after:?}"
    );
    // Without an expiry nothing leaves.
    for (control, what) in [(&default, "the default"), (&off, "turned off with None")] {
        let kept = samples(control);
        assert_eq!(
            value(&kept, "idle_total", &[("job", "a")]),
            Some(7.0),
            "{what}: no expiry"
        );
        assert_eq!(value(&kept, "idle_gauge", &[]), Some(3.0), "{what}");
        assert_eq!(value(&kept, "idle_seconds_count", &[]), Some(1.0), "{what}");
    }
}

#[test]
fn a_series_that_comes_back_starts_from_0() {
    let (recorder, exporter) = store(Some(EXPIRY), PrometheusExporterBuilder::new());
    metrics::with_local_recorder(&recorder, || {
        metrics::counter!("comeback_total", "k" => "v").increment(5);
        metrics::gauge!("comeback_gauge").set(9.0);
    });
    render_until(&exporter, |s| series_of(s, "comeback_total") == 0);
    metrics::with_local_recorder(&recorder, || {
        metrics::counter!("comeback_total", "k" => "v").increment(1);
        metrics::gauge!("comeback_gauge").increment(1.0);
    });
    let back = samples(&exporter);
    assert_eq!(
        value(&back, "comeback_total", &[("k", "v")]),
        Some(1.0),
        "a new counter"
    );
    assert_eq!(
        value(&back, "comeback_gauge", &[]),
        Some(1.0),
        "a new gauge"
    );
}

#[test]
fn handles_kept_from_before_a_removal_neither_resurrect_nor_corrupt() {
    let (recorder, exporter) = store(Some(EXPIRY), PrometheusExporterBuilder::new());
    let (counter, histogram, gauge) = metrics::with_local_recorder(&recorder, || {
        (
            metrics::counter!("held_total"),
            metrics::histogram!("held_seconds"),
            metrics::gauge!("held_gauge"),
        )
    });
    counter.increment(3);
    histogram.record(1.0);
    gauge.set(4.0);
    assert_eq!(value(&samples(&exporter), "held_total", &[]), Some(3.0));
    render_until(&exporter, |s| {
        s.iter().all(|s| !s.name.starts_with("held_"))
    });
    // The old handles record into the removed series: nothing shows.
    counter.increment(100);
    histogram.record(1.0);
    gauge.set(40.0);
    let after = samples(&exporter);
    assert!(
        after.iter().all(|s| !s.name.starts_with("held_")),
        "no resurrection: {after:?}"
    );
    // A new registration is a new series, which old handles never reach.
    metrics::with_local_recorder(&recorder, || {
        metrics::counter!("held_total").increment(1);
        metrics::histogram!("held_seconds").record(2.0);
    });
    counter.increment(50);
    histogram.record(3.0);
    gauge.increment(1.0);
    let fresh = samples(&exporter);
    assert_eq!(
        value(&fresh, "held_total", &[]),
        Some(1.0),
        "only the new record"
    );
    assert_eq!(value(&fresh, "held_seconds_count", &[]), Some(1.0));
    assert_eq!(value(&fresh, "held_seconds_sum", &[]), Some(2.0));
    assert_eq!(
        series_of(&fresh, "held_gauge"),
        0,
        "the old gauge handle made nothing"
    );
}

/// Records `values` distinct label values of `churn_total` in batches of
/// `batch`, each batch left to expire; returns the most series any render
/// showed and the `__overflow__` count at the end.
fn churn(expiry: Option<Duration>, values: u64, batch: u64) -> (usize, f64, f64) {
    let (recorder, exporter) = store(
        expiry,
        PrometheusExporterBuilder::new().foreign_family_series_cap(600),
    );
    let mut most = 0;
    let mut seen = 0.0;
    for start in (0..values).step_by(batch as usize) {
        metrics::with_local_recorder(&recorder, || {
            for i in start..start + batch {
                metrics::counter!("churn_total", "request_id" => i.to_string()).increment(1);
            }
        });
        let now = samples(&exporter);
        most = most.max(series_of(&now, "churn_total"));
        // Every record of the batch is there before its series leave.
        seen += now
            .iter()
            .filter(|s| s.name == "churn_total" && s.labels["request_id"] != "__overflow__")
            .filter(|s| {
                s.labels["request_id"]
                    .parse::<u64>()
                    .is_ok_and(|i| i >= start)
            })
            .map(|s| s.value)
            .sum::<f64>();
        if let Some(expiry) = expiry {
            // Left to expire; the render after is the one that removes.
            std::thread::sleep(expiry + Duration::from_millis(5));
            samples(&exporter);
        }
    }
    let last = samples(&exporter);
    let overflow = value(&last, "churn_total", &[("request_id", "__overflow__")]).unwrap_or(0.0);
    (most, overflow, seen)
}

#[test]
fn label_churn_with_an_expiry_never_reaches_the_cap() {
    const VALUES: u64 = 20_000;
    const BATCH: u64 = 500;
    let (most, overflow, seen) = churn(Some(Duration::from_millis(20)), VALUES, BATCH);
    eprintln!("with expiry: at most {most} series at a render, {overflow} records in __overflow__, {seen} seen in their own series");
    assert!(most <= 600 + 1, "never past the family cap: {most}");
    assert_eq!(overflow, 0.0, "no record folded into __overflow__");
    assert_eq!(seen, VALUES as f64, "every value got its own series");
    // The same churn without an expiry fills the cap, so the figure above
    // is the expiry's doing.
    let (most, overflow, _) = churn(None, VALUES, BATCH);
    eprintln!("without expiry: {most} series, {overflow} records in __overflow__");
    assert_eq!(overflow, (VALUES - 600) as f64);
}

#[test]
fn name_churn_with_an_expiry_gives_the_total_cap_back() {
    // 20 series in all (overflow series included); 1,000 names in batches of 5.
    let (recorder, exporter) = store(
        Some(Duration::from_millis(20)),
        PrometheusExporterBuilder::new().foreign_series_cap(20),
    );
    for batch in 0..200 {
        metrics::with_local_recorder(&recorder, || {
            for i in 0..5 {
                metrics::gauge!(format!("churn_name_{}", batch * 5 + i)).set(1.0);
            }
        });
        let now = samples(&exporter);
        let names = now
            .iter()
            .filter(|s| s.name.starts_with("churn_name_"))
            .count();
        assert_eq!(
            names, 5,
            "batch {batch}: each new name gets its series: {now:?}"
        );
        std::thread::sleep(Duration::from_millis(25));
        samples(&exporter);
    }
}

#[test]
fn an_expired_overflow_series_leaves_room_accounted() {
    let (recorder, exporter) = store(
        Some(EXPIRY),
        PrometheusExporterBuilder::new().foreign_family_series_cap(2),
    );
    let record = |values: &[&str]| {
        metrics::with_local_recorder(&recorder, || {
            for v in values {
                metrics::counter!("folded_total", "k" => v.to_string()).increment(1);
            }
        })
    };
    record(&["a", "b", "c", "d"]);
    let first = samples(&exporter);
    assert_eq!(
        value(&first, "folded_total", &[("k", "__overflow__")]),
        Some(2.0)
    );
    render_until(&exporter, |s| series_of(s, "folded_total") == 0);
    // The family comes back whole: two series of its own, then overflow.
    record(&["e", "f", "g"]);
    let back = samples(&exporter);
    assert_eq!(series_of(&back, "folded_total"), 3, "{back:?}");
    assert_eq!(value(&back, "folded_total", &[("k", "e")]), Some(1.0));
    assert_eq!(value(&back, "folded_total", &[("k", "f")]), Some(1.0));
    assert_eq!(
        value(&back, "folded_total", &[("k", "__overflow__")]),
        Some(1.0)
    );
}
