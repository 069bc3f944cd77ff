//! `metrics::counter!`/`gauge!` with string labels, called again and again
//! with the same key, as a user of the facade writes them: each call lands
//! in its series however the recorder remembers keys. A key whose value was
//! retired or expired records into the value's next life, not nowhere; a
//! key that overflowed gets its own series once a slot frees; a busy key
//! keeps its value from idle expiry; and a flood of distinct keys loses no
//! record of the keys already in use.

mod support;

use photon_metrics::export::prometheus::PrometheusExporter;
use photon_metrics::labels::{self, OpenValue, Target};
use photon_metrics::{family, Label};
use std::time::{Duration, Instant};
use support::exposition::{parse, value, Sample};

/// A seat: open, capped at 2 so a test can fill it.
#[derive(Label, Clone, Copy, PartialEq, Eq, Debug)]
#[label(name = "seat", cap = 2)]
struct Seat(OpenValue);

family! {
    /// Seats taken.
    #[family(name = "app_seats_taken_total", unit = count)]
    static SEATS: Counter<(Seat,)>;
}

fn exporter() -> &'static PrometheusExporter {
    support::init::installed_once(|| {
        labels::set_reuse_delay(Duration::from_millis(20));
        labels::set_idle_expiry(
            photon_metrics::labels::Location::LABEL,
            Some(Duration::from_millis(400)),
        );
    })
}

fn stale(text: &str, label: &str) -> f64 {
    value(
        &parse(text),
        "photon_metrics_stale_records_total",
        &[("label", label)],
    )
    .unwrap_or(0.0)
}

#[test]
fn a_repeated_key_records_every_call_into_one_series() {
    let exporter = exporter();
    for i in 0..100 {
        metrics::counter!("photon_compilations_total", "target" => "keys-static", "status" => "success", "model_type" => "keys-model").increment(1);
        let owned = String::from("keys-owned");
        metrics::counter!("photon_compilations_total", "target" => owned, "status" => "error", "model_type" => "keys-model").increment(2);
        metrics::counter!("keys_foreign_total", "k" => "v").increment(1);
        metrics::gauge!("keys_foreign_level").set(f64::from(i));
    }
    let samples = parse(&exporter.render());
    let model = ("model_type", "keys-model");
    let compiled = |target, status| {
        value(
            &samples,
            "photon_compilations_total",
            &[("target", target), ("status", status), model],
        )
    };
    assert_eq!(compiled("keys-static", "success"), Some(100.0));
    assert_eq!(compiled("keys-owned", "error"), Some(200.0));
    assert_eq!(
        value(&samples, "keys_foreign_total", &[("k", "v")]),
        Some(100.0)
    );
    assert_eq!(value(&samples, "keys_foreign_level", &[]), Some(99.0));
    // The same key under another kind is still refused, however often.
    for _ in 0..3 {
        metrics::gauge!("photon_compilations_total", "target" => "keys-static", "status" => "success", "model_type" => "keys-model").set(7.0);
    }
    assert_eq!(
        value(
            &parse(&exporter.render()),
            "photon_compilations_total",
            &[("target", "keys-static"), ("status", "success"), model]
        ),
        Some(100.0)
    );
}

#[test]
fn a_key_whose_value_was_retired_records_into_the_values_next_life() {
    let exporter = exporter();
    let key = || metrics::counter!("photon_compilations_total", "target" => "keys-retired", "status" => "success", "model_type" => "keys-model");
    key().increment(1);
    key().increment(1);
    let before = exporter.render();
    let labels = &[
        ("target", "keys-retired"),
        ("status", "success"),
        ("model_type", "keys-model"),
    ];
    assert_eq!(
        value(&parse(&before), "photon_compilations_total", labels),
        Some(2.0)
    );
    assert!(Target::new("keys-retired").unwrap().retire());
    // The render after a retirement serves the retired series once more,
    // with their final values (tests/retire_final_values.rs); the one after
    // lacks them.
    let _served_once = exporter.render();
    let gone = exporter.render();
    assert!(!gone.contains("keys-retired"), "{gone}");
    // The same key again: the value lives again, from 0, and nothing was
    // taken for a stale record.
    key().increment(1);
    let after = exporter.render();
    assert_eq!(
        value(&parse(&after), "photon_compilations_total", labels),
        Some(1.0),
        "{after}"
    );
    assert_eq!(stale(&after, "target"), stale(&before, "target"));
    Target::new("keys-retired").unwrap().retire();
}

/// What `app_seats_taken_total{seat}` shows.
fn seats(samples: &[Sample], seat: &str) -> Option<f64> {
    value(samples, "app_seats_taken_total", &[("seat", seat)])
}

#[test]
fn an_overflowed_key_gets_its_own_series_once_a_slot_frees() {
    let exporter = exporter();
    let take = |seat: &'static str| metrics::counter!("app_seats_taken_total", "seat" => seat);
    take("keys-a").increment(1);
    take("keys-b").increment(1);
    // The cap is 2: a third value overflows, call after call.
    take("keys-c").increment(1);
    take("keys-c").increment(1);
    assert_eq!(seats(&parse(&exporter.render()), "__overflow__"), Some(2.0));
    assert!(Seat::new("keys-a").unwrap().retire());
    std::thread::sleep(Duration::from_millis(50)); // the slot's reuse delay
    take("keys-c").increment(1);
    let samples = parse(&exporter.render());
    assert_eq!(seats(&samples, "keys-c"), Some(1.0));
    assert_eq!(seats(&samples, "__overflow__"), Some(2.0));
    assert_eq!(SEATS.spec().name, "app_seats_taken_total");
}

#[test]
fn a_busy_key_keeps_its_value_from_idle_expiry_and_a_later_call_brings_it_back() {
    let exporter = exporter();
    let level = |location: &'static str| metrics::gauge!("photon_active_devices", "device_type" => "pcm", "location" => location);
    level("keys-busy").set(2.0);
    level("keys-quiet").set(1.0);
    // Every render sweeps; only the busy key is recorded between.
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(1500) {
        level("keys-busy").increment(1.0);
        exporter.render();
        std::thread::sleep(Duration::from_millis(50));
    }
    let text = exporter.render();
    assert!(text.contains("location=\"keys-busy\""), "{text}");
    assert!(!text.contains("keys-quiet"), "{text}");
    // The expired value's key, again: a new life, with the new value.
    level("keys-quiet").set(5.0);
    let samples = parse(&exporter.render());
    assert_eq!(
        value(
            &samples,
            "photon_active_devices",
            &[("device_type", "pcm"), ("location", "keys-quiet")]
        ),
        Some(5.0)
    );
}

#[test]
fn a_flood_of_distinct_keys_loses_no_record_of_a_key_in_use() {
    let exporter = exporter();
    let rounds = 12_000;
    for i in 0..rounds {
        metrics::counter!("photon_compilations_total", "target" => "keys-steady", "status" => "success", "model_type" => "keys-model").increment(1);
        metrics::counter!("keys_flood_total", "id" => i.to_string()).increment(1);
    }
    let samples = parse(&exporter.render());
    assert_eq!(
        value(
            &samples,
            "photon_compilations_total",
            &[
                ("target", "keys-steady"),
                ("status", "success"),
                ("model_type", "keys-model")
            ]
        ),
        Some(f64::from(rounds))
    );
    // Every flood record is somewhere: in its own series or the family's overflow.
    let flood: f64 = samples
        .iter()
        .filter(|s| s.name == "keys_flood_total")
        .map(|s| s.value)
        .sum();
    assert_eq!(flood, f64::from(rounds));
}
