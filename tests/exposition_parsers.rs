//! Both exposition formats, read by parsers nobody here wrote: `promtool
//! check metrics` and Python's `prometheus_client` (its text parser and its
//! strict OpenMetrics parser). Hostile label values, global labels and help
//! texts must come back byte for byte, exemplars with their trace ids.

mod support;

use photon_metrics::export::encode::Format;
use photon_metrics::export::exemplars::{with_trace_context, TraceContext};
use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use photon_metrics::labels::{DeviceType, ModelType, Status, Target, MAX_VALUE_LEN};
use photon_metrics::{compiler, hardware};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use support::python_parser::Sample;
use support::{require_binary, TempDir};

const HOSTILE: &[&str] = &[
    "quo\"te",
    "back\\slash",
    "a\\\"b",
    "trailing\\",
    "\\\\double",
    "new\nline",
    "tab\there",
    "ünïcödé — 字 🚀",
    "{}=,\" # not a comment",
];
const GLOBAL: &str = "a\\\"b \\n not a newline";
const HELP: &str = "Help with \"quotes\", a back\\slash and a\nnewline.";

#[test]
fn independent_parsers_read_back_every_value_exactly() {
    let long = "é".repeat(MAX_VALUE_LEN / 2); // exactly 128 bytes
    let mut values: Vec<String> = HOSTILE.iter().map(|s| s.to_string()).collect();
    values.push(long);

    let (recorder, exporter) = PrometheusExporterBuilder::new()
        .without_listener()
        .global_label("service", GLOBAL)
        .build_recorder();
    let trace = TraceContext {
        trace_id: 0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736,
        span_id: 0x00f0_67aa_0ba9_02b7,
    };
    metrics::with_local_recorder(&recorder, || {
        metrics::describe_counter!("app_requests_total", HELP);
        metrics::describe_histogram!("app_latency_seconds", metrics::Unit::Seconds, HELP);
        let model = ModelType::new("resnet50").unwrap();
        for v in &values {
            let target = Target::new(v).unwrap();
            compiler::record_compilation(target, Status::Success, model);
            metrics::counter!("app_requests_total", "path" => v.clone()).increment(2);
        }
        with_trace_context(trace, || {
            metrics::histogram!("app_latency_seconds").record(0.3);
            hardware::observe_inference_latency(DeviceType::Pcm, 0.000_7);
        });
    });

    let dir = TempDir::new("parsers");
    let text = exporter.render_as(Format::Text);
    let om = exporter.render_as(Format::OpenMetrics);

    // promtool: parses and lints the text format clean.
    let text_path = dir.path().join("metrics.txt");
    std::fs::write(&text_path, &text).unwrap();
    let promtool = Command::new(require_binary("promtool", "prometheus"))
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(&text_path).unwrap())
        .output()
        .unwrap();
    assert!(
        promtool.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&promtool.stdout),
        String::from_utf8_lossy(&promtool.stderr)
    );

    for (format, body) in [(Format::Text, &text), (Format::OpenMetrics, &om)] {
        let families = support::python_parser::parse(format, body);
        let samples: Vec<_> = families.iter().flat_map(|f| &f.samples).collect();
        let label = |s: &Sample, k: &str| s.labels.get(k).cloned();
        // Each family's help; a name read twice keeps its last.
        let help: BTreeMap<&str, &str> = families
            .iter()
            .map(|f| (f.name.as_str(), f.help.as_str()))
            .collect();

        // Every sample carries the global label exactly.
        assert!(samples
            .iter()
            .all(|s| label(s, "service").as_deref() == Some(GLOBAL)));

        let targets: BTreeSet<String> = samples
            .iter()
            .filter(|s| s.name == "photon_compilations_total")
            .filter_map(|s| label(s, "target"))
            .collect();
        let paths: BTreeSet<String> = samples
            .iter()
            .filter(|s| s.name == "app_requests_total")
            .filter_map(|s| label(s, "path"))
            .collect();
        let want: BTreeSet<String> = values.iter().cloned().collect();
        assert_eq!(targets, want, "{format:?}: typed label values");
        assert_eq!(paths, want, "{format:?}: facade label values");
        for s in samples.iter().filter(|s| s.name == "app_requests_total") {
            assert_eq!(s.value, 2.0);
        }

        // Help text, quotes, backslashes and newlines included.
        // prometheus_client names a counter family without `_total` in both.
        assert_eq!(help.get("app_requests"), Some(&HELP), "{format:?}");
        assert_eq!(help.get("app_latency_seconds"), Some(&HELP), "{format:?}");

        // Exemplars: only in OpenMetrics, on the bucket the value fell in.
        let exemplars: Vec<(&str, Option<&str>, &str)> = samples
            .iter()
            .filter_map(|s| {
                let id = s.exemplar_trace_id.as_deref()?;
                Some((s.name.as_str(), s.labels.get("le").map(String::as_str), id))
            })
            .collect();
        if format == Format::OpenMetrics {
            let id = format!("{:032x}", trace.trace_id);
            assert_eq!(
                exemplars,
                [
                    (
                        "photon_inference_latency_seconds_bucket",
                        Some("0.001"),
                        id.as_str()
                    ),
                    ("app_latency_seconds_bucket", Some("0.5"), id.as_str()),
                ],
                "{om}"
            );
        } else {
            assert!(exemplars.is_empty());
        }
    }
}
