//! Group 6: rendering the exposition for 11,000 series (1,000 counters × 10
//! label values + 100 histograms × 10 label values): photon's store in both
//! formats against `metrics-exporter-prometheus` and `prometheus-client`.

mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use photon_metrics::export::encode::Format;
use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use prometheus_client::metrics::{counter::Counter, family::Family, histogram::Histogram};
use std::hint::black_box;

const COUNTERS: usize = 1_000;
const HISTOGRAMS: usize = 100;
const VALUES: usize = 10;

/// Registers and records the same 11,000 series into whatever recorder is current.
fn populate() {
    for i in 0..COUNTERS {
        for v in 0..VALUES {
            metrics::counter!(format!("bench_counter_{i}_total"), "value" => v.to_string())
                .increment(v as u64 + 1);
        }
    }
    for i in 0..HISTOGRAMS {
        for v in 0..VALUES {
            metrics::histogram!(format!("bench_histogram_{i}_seconds"), "value" => v.to_string())
                .record(v as f64 * 0.7);
        }
    }
}

fn render_11k_series(c: &mut Criterion) {
    let (photon_recorder, photon) = PrometheusExporterBuilder::new()
        .without_listener()
        // The peers do not sample the process; its cost is measured apart
        // (render_process_sample below).
        .process_metrics(false)
        // 11,000 foreign series: above the default cap of 10,000.
        .foreign_series_cap(20_000)
        .default_buckets(common::PEER_BUCKETS)
        .unwrap()
        .build_recorder();
    metrics::with_local_recorder(&photon_recorder, populate);

    let plain = metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets(common::PEER_BUCKETS)
        .unwrap()
        .build_recorder();
    let plain_handle = plain.handle();
    metrics::with_local_recorder(&plain, populate);

    let mut registry = prometheus_client::registry::Registry::default();
    for i in 0..COUNTERS {
        let family = Family::<Vec<(String, String)>, Counter>::default();
        for v in 0..VALUES {
            family
                .get_or_create(&vec![("value".into(), v.to_string())])
                .inc_by(v as u64 + 1);
        }
        registry.register(format!("bench_counter_{i}"), "bench", family);
    }
    for i in 0..HISTOGRAMS {
        let family = Family::<Vec<(String, String)>, Histogram, _>::new_with_constructor(|| {
            Histogram::new(common::PEER_BUCKETS.iter().copied())
        });
        for v in 0..VALUES {
            family
                .get_or_create(&vec![("value".into(), v.to_string())])
                .observe(v as f64 * 0.7);
        }
        registry.register(format!("bench_histogram_{i}_seconds"), "bench", family);
    }

    // Same content check: every renderer sees all 11,000 series.
    let lines = |text: &str| {
        text.lines()
            // (OpenMetrics also writes each series' `_created`.)
            .filter(|l| {
                l.starts_with("bench_") && !l.contains("_bucket") && !l.contains("_created")
            })
            .count()
    };
    assert_eq!(
        lines(&photon.render()),
        COUNTERS * VALUES + HISTOGRAMS * VALUES * 2
    );
    assert_eq!(
        lines(&photon.render_as(Format::OpenMetrics)),
        COUNTERS * VALUES + HISTOGRAMS * VALUES * 2
    );
    assert_eq!(
        lines(&plain_handle.render()),
        COUNTERS * VALUES + HISTOGRAMS * VALUES * 2
    );

    let mut g = c.benchmark_group("render_11k_series");
    g.bench_function("metrics_exporter_prometheus", |b| {
        b.iter(|| black_box(plain_handle.render()))
    });
    g.bench_function("photon_text", |b| b.iter(|| black_box(photon.render())));
    g.bench_function("photon_openmetrics", |b| {
        b.iter(|| black_box(photon.render_as(Format::OpenMetrics)))
    });
    g.bench_function("prometheus_client_encode", |b| {
        b.iter(|| {
            let mut out = String::with_capacity(1 << 20);
            prometheus_client::encoding::text::encode(&mut out, &registry).unwrap();
            black_box(out)
        })
    });
    g.finish();

    // The protobuf exposition of the same series.
    let fast = fastmetrics_registry();
    let decoded = photon_metrics::export::encode::proto::decode_delimited(
        &photon.render_bytes(Format::Protobuf),
    )
    .unwrap();
    let series = |name: &str| {
        decoded
            .iter()
            .filter(|f| f.name().starts_with(name))
            .map(|f| f.metric.len())
            .sum::<usize>()
    };
    assert_eq!(series("bench_counter_"), COUNTERS * VALUES);
    assert_eq!(series("bench_histogram_"), HISTOGRAMS * VALUES);
    let mut g = c.benchmark_group("render_11k_series_protobuf");
    g.bench_function("photon", |b| {
        b.iter(|| black_box(photon.render_bytes(Format::Protobuf)))
    });
    g.bench_function("prometheus_client", |b| {
        b.iter(|| {
            black_box(
                prometheus_client::encoding::prometheus_protobuf::encode_to_vec(&registry).unwrap(),
            )
        })
    });
    g.bench_function("fastmetrics", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(1 << 20);
            fastmetrics::format::prost::encode(
                &mut out,
                &fast,
                fastmetrics::format::prost::ProtobufProfile::Prometheus,
            )
            .unwrap();
            black_box(out)
        })
    });
    g.finish();
}

/// fastmetrics' label set: one `value` label.
#[derive(Clone, PartialEq, Eq, Hash)]
struct FastLabels(String);

impl fastmetrics::raw::LabelSetSchema for FastLabels {
    fn names() -> Option<&'static [&'static str]> {
        Some(&["value"])
    }
}

impl fastmetrics::encoder::EncodeLabelSet for FastLabels {
    fn encode(
        &self,
        encoder: &mut dyn fastmetrics::encoder::LabelSetEncoder,
    ) -> fastmetrics::error::Result<()> {
        encoder.encode(&("value", &self.0))
    }
}

/// The same 11,000 series in a fastmetrics registry.
fn fastmetrics_registry() -> fastmetrics::registry::Registry {
    use fastmetrics::metrics::{counter::Counter, family::Family, histogram::Histogram};
    let mut registry = fastmetrics::registry::Registry::builder().build().unwrap();
    for i in 0..COUNTERS {
        let family = Family::<FastLabels, Counter>::default();
        for v in 0..VALUES {
            family.with_or_new(&FastLabels(v.to_string()), |c| c.inc_by(v as u64 + 1));
        }
        registry
            .register(format!("bench_counter_{i}"), "bench", family)
            .unwrap();
    }
    for i in 0..HISTOGRAMS {
        let family = Family::<FastLabels, Histogram>::new(|| {
            Histogram::new(common::PEER_BUCKETS.iter().copied())
        });
        for v in 0..VALUES {
            family.with_or_new(&FastLabels(v.to_string()), |h| h.observe(v as f64 * 0.7));
        }
        registry
            .register(format!("bench_histogram_{i}_seconds"), "bench", family)
            .unwrap();
    }
    registry
}

/// What the default process sampling adds to a render: the catalog alone,
/// sampled (`process_*` from metrics-process, VmRSS/VmHWM, the cgroup limit)
/// and not.
fn render_process_sample(c: &mut Criterion) {
    let build = |on: bool| {
        PrometheusExporterBuilder::new()
            .without_listener()
            .process_metrics(on)
            .build_recorder()
            .1
    };
    let (sampled, plain) = (build(true), build(false));
    assert!(sampled.render().contains("process_resident_memory_bytes"));
    assert!(!plain.render().contains("process_resident_memory_bytes"));
    let mut g = c.benchmark_group("render_process_sample");
    g.bench_function("catalog_only", |b| b.iter(|| black_box(plain.render())));
    g.bench_function("catalog_and_process_sample", |b| {
        b.iter(|| black_box(sampled.render()))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion().sample_size(20).measurement_time(std::time::Duration::from_secs(4));
    targets = render_11k_series, render_process_sample
}
criterion_main!(benches);
