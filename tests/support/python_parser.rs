//! Python's prometheus_client reading an exposition: a parser nobody here
//! wrote, for the tests where the text formats themselves are under test
//! (its text parser for 0.0.4, its strict parser for OpenMetrics).
#![allow(dead_code)]

use super::TempDir;
use photon_metrics::export::encode::Format;
use std::collections::BTreeMap;
use std::process::Command;

/// A family as prometheus_client reads it (it names a counter family
/// without `_total`).
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    pub name: String,
    pub help: String,
    pub samples: Vec<Sample>,
}

/// One sample as prometheus_client reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
    /// The `trace_id` of the sample's exemplar (OpenMetrics only).
    pub exemplar_trace_id: Option<String>,
}

/// Reads the file `argv[2]` in the format `argv[1]` and prints every family
/// as JSON. Values go as `repr` text, so NaN and infinities survive JSON.
const SCRIPT: &str = r#"
import json, sys
fmt, path = sys.argv[1], sys.argv[2]
text = open(path, encoding="utf-8").read()
if fmt == "om":
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
else:
    from prometheus_client.parser import text_string_to_metric_families
out = []
for family in text_string_to_metric_families(text):
    samples = []
    for s in family.samples:
        ex = s.exemplar.labels.get("trace_id") if getattr(s, "exemplar", None) else None
        samples.append({"name": s.name, "labels": s.labels, "value": repr(s.value), "exemplar": ex})
    out.append({"name": family.name, "help": family.documentation, "samples": samples})
print(json.dumps(out))
"#;

/// Every family of `body`, a [`Format::Text`] or [`Format::OpenMetrics`]
/// exposition, as prometheus_client parses it; fails the test when it
/// refuses the body.
pub fn parse(format: Format, body: &str) -> Vec<Family> {
    let tag = match format {
        Format::Text => "text",
        Format::OpenMetrics => "om",
        other => panic!("prometheus_client reads the text formats, not {other:?}"),
    };
    let dir = TempDir::new("python-parser");
    let path = dir.path().join(format!("body.{tag}"));
    std::fs::write(&path, body).unwrap();
    let out = Command::new("python3")
        .args(["-c", SCRIPT, tag])
        .arg(&path)
        .output()
        .expect("python3 with prometheus_client (.ci/run installs both)");
    assert!(
        out.status.success(),
        "prometheus_client rejects the {format:?} exposition (install it with `python3 -m pip install prometheus_client`; .ci/run does):\n{}\n--- body ---\n{body}",
        String::from_utf8_lossy(&out.stderr)
    );
    let families: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    families
        .as_array()
        .unwrap()
        .iter()
        .map(|f| Family {
            name: text(&f["name"]),
            help: text(&f["help"]),
            samples: f["samples"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| Sample {
                    name: text(&s["name"]),
                    labels: s["labels"]
                        .as_object()
                        .unwrap()
                        .iter()
                        .map(|(k, v)| (k.clone(), text(v)))
                        .collect(),
                    value: text(&s["value"])
                        .parse()
                        .unwrap_or_else(|e| panic!("value {}: {e}", s["value"])),
                    exemplar_trace_id: s["exemplar"].as_str().map(str::to_string),
                })
                .collect(),
        })
        .collect()
}

fn text(v: &serde_json::Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_string()
}
