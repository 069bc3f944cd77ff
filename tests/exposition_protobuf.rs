//! The protobuf exposition decodes with an independent decoder (Python's
//! `protobuf` with the upstream `metrics.proto`, tests/fixtures/proto) to
//! exactly what photon's own decoding reads, for every catalog family and
//! for hostile label values; its values equal the text exposition's; and
//! the native histogram's count always equals its buckets.

mod support;

use photon_metrics::export::encode::proto::{self, Exemplar, MetricFamily, Timestamp};
use photon_metrics::export::encode::Format;
use photon_metrics::export::prometheus::{PrometheusExporter, PrometheusExporterBuilder};
use photon_metrics::labels::{DeviceId, DeviceType, Location, Target};
use std::process::Command;

fn ts(t: &Option<Timestamp>) -> String {
    let t = t.unwrap_or_default();
    format!("{}.{:09}", t.seconds, t.nanos)
}

fn exemplar(e: &Exemplar) -> String {
    let labels: Vec<String> = e
        .label
        .iter()
        .map(|l| format!("{}={}", l.name(), l.value()))
        .collect();
    format!(
        "{{{}}}:{}@{}",
        labels.join(","),
        e.value().to_bits(),
        ts(&e.timestamp)
    )
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The same canonical lines `decode.py` prints, from prost's decoding.
fn canonical(families: &[MetricFamily]) -> String {
    let mut lines = Vec::new();
    for f in families {
        lines.push(format!(
            "family {} type={} unit={} help={}",
            f.name(),
            f.r#type() as i32,
            f.unit(),
            hex(f.help())
        ));
        for m in &f.metric {
            let labels: Vec<String> = m
                .label
                .iter()
                .map(|l| format!("{}={}", l.name(), hex(l.value())))
                .collect();
            let p = format!("  {}{{{}}}", f.name(), labels.join(","));
            if let Some(c) = &m.counter {
                lines.push(format!(
                    "{p} counter={} created={}",
                    c.value().to_bits(),
                    ts(&c.created_timestamp)
                ));
                if let Some(e) = &c.exemplar {
                    lines.push(format!("{p} exemplar={}", exemplar(e)));
                }
            }
            if let Some(g) = &m.gauge {
                lines.push(format!("{p} gauge={}", g.value().to_bits()));
            }
            if let Some(h) = &m.histogram {
                lines.push(format!(
                    "{p} count={} sum={} created={}",
                    h.sample_count(),
                    h.sample_sum().to_bits(),
                    ts(&h.created_timestamp)
                ));
                for b in &h.bucket {
                    let x = b
                        .exemplar
                        .as_ref()
                        .map(|e| format!(" exemplar={}", exemplar(e)))
                        .unwrap_or_default();
                    lines.push(format!(
                        "{p} bucket le={} n={}{x}",
                        b.upper_bound().to_bits(),
                        b.cumulative_count()
                    ));
                }
                if h.schema.is_some() {
                    lines.push(format!(
                        "{p} native schema={} zt={} zero={}",
                        h.schema(),
                        h.zero_threshold().to_bits(),
                        h.zero_count()
                    ));
                    for (side, spans, deltas) in [
                        ("positive", &h.positive_span, &h.positive_delta),
                        ("negative", &h.negative_span, &h.negative_delta),
                    ] {
                        let spans: Vec<String> = spans
                            .iter()
                            .map(|s| format!("{}:{}", s.offset(), s.length()))
                            .collect();
                        let deltas: Vec<String> = deltas.iter().map(i64::to_string).collect();
                        lines.push(format!(
                            "{p} {side} spans=[{}] deltas=[{}]",
                            spans.join(" "),
                            deltas.join(" ")
                        ));
                    }
                    for e in &h.exemplars {
                        lines.push(format!("{p} native_exemplar={}", exemplar(e)));
                    }
                }
            }
        }
    }
    lines.join("\n")
}

fn python_decode(body: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("photon-pb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("body.bin");
    std::fs::write(&file, body).unwrap();
    let script = support::stack::root().join("tests/fixtures/proto/decode.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(&file)
        .output()
        .expect("python3 (with protobuf and grpcio-tools: .ci/run installs them)");
    assert!(
        out.status.success(),
        "decode.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .trim_end()
        .to_string()
}

/// Every catalog family with series, hostile values among them.
fn record_everything(hostile: &[String]) {
    use photon_metrics::labels::{ErrorKind, MemoryStat, ModelType, Pass, Status};
    use photon_metrics::{compiler, hardware, runtime};
    for value in hostile {
        let target = Target::new(value).unwrap();
        compiler::record_compilation(
            target,
            Status::Success,
            ModelType::new("transformer").unwrap(),
        );
        compiler::record_cache_hit(target);
        compiler::observe_compilation_duration(target, 10, 0.25);
        let pass = Pass::new(value).unwrap();
        compiler::observe_pass_duration(pass, target, 2e-5);
        compiler::record_pass_failure(pass, target);
        let device = DeviceId::new(value).unwrap();
        hardware::set_optical_power_mw(device, -1.5e-300);
    }
    let target = Target::new("lightmatter").unwrap();
    compiler::record_compilation_error(target, ErrorKind::new("timeout").unwrap());
    compiler::record_cache_miss(target);
    compiler::set_memory_usage(target, MemoryStat::Peak, u64::MAX);
    compiler::set_memory_limit(1 << 40);
    for (i, v) in [0.0, 1e-7, 3e-4, 0.0042, 1.0, 7.5, 1e9, f64::INFINITY]
        .iter()
        .enumerate()
    {
        for _ in 0..=i {
            hardware::observe_inference_latency(DeviceType::Mzi, *v);
            compiler::observe_compilation_duration(target, 1 << 20, *v);
        }
    }
    hardware::observe_inference_latency(DeviceType::Pcm, f64::NAN);
    hardware::observe_inference_latency(DeviceType::Pcm, -0.5);
    let device = DeviceId::new("chip-0").unwrap();
    hardware::set_device_status(device, DeviceType::Mzi, true);
    hardware::set_temperature_celsius(device, 42.25);
    hardware::set_calibration_drift(device, f64::NEG_INFINITY);
    hardware::set_active_devices(DeviceType::Mzi, Location::new("rack-1").unwrap(), 3);
    runtime::set_queue_depth(7);
    runtime::set_active_sessions(2);
    runtime::set_throughput(1.25e12);
    runtime::record_ops(DeviceType::Mzi, 1000, 0.5);
    runtime::record_runtime_error(ErrorKind::new("hardware").unwrap());
    metrics::counter!("app.requests_total", "route" => "/a\"b\n").increment(5);
    metrics::gauge!("app_temperature").set(f64::NAN);
    metrics::histogram!("app.wait_seconds").record(0.3);
    // And one series of every family the helpers above do not reach (one
    // added to the catalog since, say), by name: every label's first value
    // or `__overflow__`.
    for family in photon_metrics::families::Dynamic::all() {
        let zeros = vec![0; family.spec().labels.len()];
        let _ = match family.spec().kind {
            photon_metrics::catalog::Kind::Counter => family.add(&zeros, 1),
            photon_metrics::catalog::Kind::Gauge => family.set(&zeros, 1.0),
            _ => family.observe(&zeros, 1.0),
        };
    }
}

fn exporter() -> PrometheusExporter {
    let hostile: Vec<String> = serde_json::from_str::<serde_json::Value>(
        &std::fs::read_to_string(
            support::stack::root().join("tests/fixtures/hostile-label-values.json"),
        )
        .unwrap(),
    )
    .unwrap()["accepted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let exporter = PrometheusExporterBuilder::new()
        .global_label("region", "eu-\"west\"\n1")
        .install()
        .unwrap();
    record_everything(&hostile);
    exporter
}

#[test]
fn protobuf_decodes_alike_with_the_upstream_proto_and_matches_the_text() {
    let exporter = exporter();
    let body = exporter.render_bytes(Format::Protobuf);
    let families = proto::decode_delimited(&body).expect("prost decodes the body");
    let ours = canonical(&families);
    let theirs = python_decode(&body);
    assert_eq!(
        ours, theirs,
        "the upstream proto reads the body differently"
    );

    // Every catalog family with a series is there, with its help and type.
    for spec in photon_metrics::catalog::families() {
        let f = families.iter().find(|f| f.name() == spec.name);
        let f = f.unwrap_or_else(|| panic!("{} missing", spec.name));
        assert_eq!(f.help(), spec.help);
        assert!(!f.metric.is_empty());
    }

    // Values equal the text exposition's, series by series.
    let text = exporter.render();
    let samples = support::exposition::parse(&text);
    let find = |name: &str, labels: &[(String, String)], le: Option<f64>| -> f64 {
        samples
            .iter()
            .find(|s| {
                let mut own = s.labels.clone();
                let le_ok = match le {
                    None => true,
                    Some(le) => own
                        .remove("le")
                        .is_some_and(|v| v.parse::<f64>().ok() == Some(le)),
                };
                s.name == name
                    && le_ok
                    && own.len() == labels.len()
                    && labels.iter().all(|(k, v)| own.get(k) == Some(v))
            })
            .unwrap_or_else(|| panic!("{name}{labels:?} le={le:?} not in the text"))
            .value
    };
    let same = |a: f64, b: f64| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
    for f in &families {
        for m in &f.metric {
            let labels: Vec<(String, String)> = m
                .label
                .iter()
                .map(|l| (l.name().to_string(), l.value().to_string()))
                .collect();
            // What each render samples anew (resident memory, the process).
            let sampled = f.name().starts_with("process_")
                || labels.iter().any(|(k, v)| {
                    (k == "memory" && v == "current") || (k == "target" && v == "process")
                });
            if sampled {
                continue;
            }
            if let Some(c) = &m.counter {
                assert!(
                    same(find(f.name(), &labels, None), c.value()),
                    "{}",
                    f.name()
                );
            }
            if let Some(g) = &m.gauge {
                let text = find(f.name(), &labels, None);
                assert!(
                    same(text, g.value()),
                    "{}{labels:?}: text {text}, protobuf {}",
                    f.name(),
                    g.value()
                );
            }
            if let Some(h) = &m.histogram {
                let name = f.name();
                assert!(same(
                    find(&format!("{name}_sum"), &labels, None),
                    h.sample_sum()
                ));
                let classic = find(&format!("{name}_count"), &labels, None);
                // The native count includes everything the classic read saw.
                assert!(h.sample_count() as f64 >= classic);
                for b in &h.bucket {
                    let n = find(&format!("{name}_bucket"), &labels, Some(b.upper_bound()));
                    assert_eq!(n, b.cumulative_count() as f64, "{name}{labels:?}");
                }
                if h.schema.is_some() {
                    let side = |deltas: &[i64]| -> u64 {
                        let mut count = 0i64;
                        deltas
                            .iter()
                            .map(|d| {
                                count += d;
                                assert!(count >= 0, "{name}: a negative bucket count");
                                count as u64
                            })
                            .sum()
                    };
                    let buckets = side(&h.positive_delta) + side(&h.negative_delta);
                    // NaNs are in the count and in no bucket (their sum is NaN).
                    let nans = if h.sample_sum().is_nan() {
                        h.sample_count() - buckets - h.zero_count()
                    } else {
                        0
                    };
                    assert_eq!(
                        buckets + h.zero_count() + nans,
                        h.sample_count(),
                        "{name}{labels:?}"
                    );
                    if !h.sample_sum().is_nan() {
                        assert_eq!(nans, 0);
                    }
                }
            }
        }
    }
}
