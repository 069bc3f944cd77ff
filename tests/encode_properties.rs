//! Property tests through the full encode path: any label value a user can
//! construct (non-empty, at most 128 bytes of UTF-8) and any help text come
//! back exactly from both formats, as series label, global label and help.

mod support;

use photon_metrics::export::encode::Format;
use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use photon_metrics::labels::MAX_VALUE_LEN;
use proptest::prelude::*;
use support::exposition::parse;

/// Label values: short strings biased towards the characters that need
/// escaping, cut to the 128-byte limit on a character boundary.
fn label_value() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just('\\'),
            Just('"'),
            Just('\n'),
            Just('{'),
            Just('}'),
            Just(','),
            Just('='),
            Just('#'),
            Just(' '),
            any::<char>(),
        ],
        1..80,
    )
    .prop_map(|chars| {
        let mut s = String::new();
        for c in chars {
            if s.len() + c.len_utf8() > MAX_VALUE_LEN {
                break;
            }
            s.push(c);
        }
        s
    })
}

/// Undoes `# HELP` escaping: `\\` and `\n` always, `\"` in OpenMetrics.
fn unescape_help(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some(c) => out.push(c),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn values_and_help_round_trip(value in label_value(), global in label_value(), help in label_value()) {
        let (recorder, exporter) = PrometheusExporterBuilder::new()
            .without_listener()
            // Only the series this property records: every line is checked below.
            .process_metrics(false)
            .global_label("g", global.clone())
            .build_recorder();
        metrics::with_local_recorder(&recorder, || {
            metrics::describe_counter!("prop_total", help.clone());
            metrics::counter!("prop_total", "v" => value.clone()).increment(3);
        });
        for format in [Format::Text, Format::OpenMetrics] {
            let body = exporter.render_as(format);
            let samples = parse(&body);
            let sample = samples.iter().find(|s| s.name == "prop_total").unwrap();
            prop_assert_eq!(&sample.labels["v"], &value);
            prop_assert_eq!(&sample.labels["g"], &global);
            prop_assert_eq!(sample.value, 3.0);
            let family = if format == Format::Text { "prop_total" } else { "prop" };
            let prefix = format!("# HELP {family} ");
            // Lines end at `\n` only: a help text may end in a raw `\r`
            // (valid in both formats, with no escape), which `str::lines`
            // would strip as part of a CRLF.
            let line = body.split('\n').find_map(|l| l.strip_prefix(&prefix)).unwrap();
            prop_assert_eq!(unescape_help(line), help.clone());
            // No raw newline escapes into a sample line.
            prop_assert!(body.split('\n').all(|l| l.is_empty() || l.starts_with('#') || l.starts_with("photon_") || l.starts_with("prop_")));
        }
    }
}

/// The case proptest found: a help text that is only a carriage return.
#[test]
fn a_help_text_of_a_carriage_return_round_trips() {
    let (recorder, exporter) = PrometheusExporterBuilder::new()
        .without_listener()
        .build_recorder();
    metrics::with_local_recorder(&recorder, || {
        metrics::describe_counter!("cr_total", "\r");
        metrics::counter!("cr_total", "v" => "\\").increment(1);
    });
    for format in [Format::Text, Format::OpenMetrics] {
        let body = exporter.render_as(format);
        let family = if format == Format::Text {
            "cr_total"
        } else {
            "cr"
        };
        let prefix = format!("# HELP {family} ");
        let line = body
            .split('\n')
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap();
        assert_eq!(unescape_help(line), "\r");
    }
}
