//! Prometheus 3's `escaping=`: names recorded through the `metrics` facade
//! that are no legacy names come out as each escaping says, in every
//! format, never invalid (an independent parser, Python's
//! prometheus_client, reads every output; promtool the legacy ones) and
//! never twice (a name that collides once escaped is left out of that
//! escaping only).

mod support;

use photon_metrics::export::encode::{proto, Escaping, Exposition, Format};
use photon_metrics::export::prometheus::{PrometheusExporter, PrometheusExporterBuilder};
use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};

fn exporter() -> PrometheusExporter {
    let exporter = PrometheusExporterBuilder::new().install().unwrap();
    metrics::counter!("app.requests_total", "route" => "/").increment(3);
    metrics::counter!("app_requests_total", "route" => "/b").increment(4);
    metrics::gauge!("größe.bytes").set(1.0);
    // Sorted first, so `a.x` (whose `values` name this is) is the one left out.
    metrics::gauge!("U__a_2e_x").set(2.0);
    metrics::gauge!("a.x").set(3.0);
    metrics::histogram!("wait.seconds").record(0.5);
    exporter
}

/// (family names, sample name + labels) as prometheus_client parses them.
fn python_parse(text: &str, openmetrics: bool) -> (Vec<String>, Vec<String>) {
    let parser = if openmetrics {
        "from prometheus_client.openmetrics.parser import text_string_to_metric_families as p"
    } else {
        "from prometheus_client.parser import text_string_to_metric_families as p"
    };
    let script = format!(
        "import sys\n{parser}\nfor f in p(sys.stdin.read()):\n    print('F', f.name)\n    for s in f.samples:\n        print('S', s.name, sorted(s.labels.items()))\n"
    );
    let mut child = Command::new("python3")
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 with prometheus_client (.ci/run installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "prometheus_client rejects the exposition: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut families = Vec::new();
    let mut samples = Vec::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        match line.split_once(' ') {
            Some(("F", name)) => families.push(name.to_string()),
            Some(("S", sample)) => samples.push(sample.to_string()),
            _ => {}
        }
    }
    (families, samples)
}

#[test]
fn every_escaping_serves_valid_unique_names_in_every_format() {
    let exporter = exporter();
    let want: [(Escaping, &[&str], &[&str]); 4] = [
        (
            Escaping::AllowUtf8,
            &[
                "app.requests",
                "größe.bytes",
                "a.x",
                "U__a_2e_x",
                "wait.seconds",
            ],
            &[],
        ),
        (
            Escaping::Underscores,
            &[
                "app_requests",
                "gr__e_bytes",
                "a_x",
                "U__a_2e_x",
                "wait_seconds",
            ],
            &[],
        ),
        (
            Escaping::Dots,
            &[
                "app_dot_requests",
                "gr____e_dot_bytes",
                "a_dot_x",
                "U__a_2e_x",
                "wait_dot_seconds",
            ],
            &[],
        ),
        (
            Escaping::Values,
            &[
                "U__app_2e_requests",
                "U__gr_f6__df_e_2e_bytes",
                "U__a_2e_x",
                "U__wait_2e_seconds",
            ],
            // `a.x` is `U__a_2e_x` here, which another family is.
            &["a_x", "a.x"],
        ),
    ];
    for (escaping, present, absent) in want {
        for format in [Format::Text, Format::OpenMetrics] {
            let exposition = Exposition {
                format,
                escaping,
                explicit: true,
            };
            let text = String::from_utf8(exporter.render_bytes(exposition)).unwrap();
            let (families, samples) = python_parse(&text, format == Format::OpenMetrics);
            let unique: BTreeSet<&String> = samples.iter().collect();
            assert_eq!(
                unique.len(),
                samples.len(),
                "{escaping:?} {format:?}: a sample twice"
            );
            let families: BTreeSet<&str> = families.iter().map(String::as_str).collect();
            for name in present {
                assert!(
                    families.contains(name),
                    "{escaping:?} {format:?}: no {name} in {families:?}"
                );
            }
            for name in absent {
                assert!(
                    !families.contains(name),
                    "{escaping:?} {format:?}: {name} served"
                );
            }
            if escaping != Escaping::AllowUtf8 && format == Format::Text {
                // Legacy names only: promtool (2.42) reads and lints it.
                let (ok, report) = support::promtool_check_metrics(&text);
                assert!(ok && report.trim().is_empty(), "{escaping:?}: {report}");
            }
        }
        let body = exporter.render_bytes(Exposition {
            format: Format::Protobuf,
            escaping,
            explicit: true,
        });
        let names: Vec<String> = proto::decode_delimited(&body)
            .unwrap()
            .iter()
            .map(|f| f.name().to_string())
            .collect();
        let unique: BTreeSet<&String> = names.iter().collect();
        assert_eq!(
            unique.len(),
            names.len(),
            "{escaping:?} protobuf: {names:?}"
        );
        for name in present {
            assert!(
                names
                    .iter()
                    .any(|n| n == name || *n == format!("{name}_total")),
                "{escaping:?} protobuf: no {name} in {names:?}"
            );
        }
    }
    // `app.requests` and `app_requests` are one family, both series in it.
    let text = exporter.render_as(Format::Text);
    assert!(text.contains("app_requests_total{route=\"/\"} 3"), "{text}");
    assert!(
        text.contains("app_requests_total{route=\"/b\"} 4"),
        "{text}"
    );
}

#[test]
fn the_escaping_asked_for_is_the_one_answered_with() {
    for (accept, format, escaping, content_type) in [
        (
            "text/plain;version=1.0.0;escaping=allow-utf-8",
            Format::Text,
            Escaping::AllowUtf8,
            "text/plain; version=0.0.4; charset=utf-8; escaping=allow-utf-8",
        ),
        (
            "application/openmetrics-text;version=1.0.0;escaping=values;q=0.9,text/plain;q=0.5",
            Format::OpenMetrics,
            Escaping::Values,
            "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=values",
        ),
        (
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;escaping=dots",
            Format::Protobuf,
            Escaping::Dots,
            "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=dots",
        ),
        (
            "text/plain;escaping=bogus",
            Format::Text,
            Escaping::Underscores,
            "text/plain; version=0.0.4; charset=utf-8",
        ),
        (
            // protobuf in another encoding is not offered: text instead.
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text,text/plain;q=0.1",
            Format::Text,
            Escaping::Underscores,
            "text/plain; version=0.0.4; charset=utf-8",
        ),
    ] {
        let e = Exposition::negotiate(Some(accept));
        assert_eq!((e.format, e.escaping), (format, escaping), "{accept}");
        assert_eq!(e.content_type(), content_type, "{accept}");
    }
}
