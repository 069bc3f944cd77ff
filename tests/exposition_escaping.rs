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
            let parsed = support::python_parser::parse(format, &text);
            // A sample is its name and its label set.
            let samples: Vec<_> = parsed
                .iter()
                .flat_map(|f| &f.samples)
                .map(|s| (&s.name, &s.labels))
                .collect();
            let unique: BTreeSet<_> = samples.iter().collect();
            assert_eq!(
                unique.len(),
                samples.len(),
                "{escaping:?} {format:?}: a sample twice"
            );
            let families: BTreeSet<&str> = parsed.iter().map(|f| f.name.as_str()).collect();
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
