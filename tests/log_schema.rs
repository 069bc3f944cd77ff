//! The JSON log lines: exactly the fields the promtail pipeline in
//! monitoring/ parses, with the right types; `target` is the compile target;
//! trace and span ids link each line to its span.

mod support;

use opentelemetry::trace::TracerProvider as _;
use photon_metrics::export::logs::JsonLayer;
use photon_metrics::instrument_compile;
use photon_metrics::labels::{ModelType, Target};
use serde_json::Value;
use support::log_buffer::SharedBuffer;
use tracing_subscriber::layer::SubscriberExt;

use support::model::Model;

#[instrument_compile(target = target, model = model)]
fn compile(target: Target, model: &Model) -> Result<u64, std::fmt::Error> {
    tracing::info!(
        passes = 12,
        level = "user-supplied",
        "lowered to the photonic dialect"
    );
    tracing::warn!("phase shifter budget nearly exhausted");
    Ok(model.params)
}

/// Runs the demo to its end with `args`, the logging and OTLP variables
/// cleared but for `env`; fails with its stderr unless it exits 0.
fn run_demo(args: &[&str], env: &[(&str, &dyn AsRef<std::ffi::OsStr>)]) -> std::process::Output {
    let mut command = std::process::Command::new(support::stack::demo_binary());
    for var in [
        "RUST_LOG",
        "PHOTON_LOG_FORMAT",
        "PHOTON_LOG_FILE",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ] {
        command.env_remove(var);
    }
    for (var, value) in env {
        command.env(var, value);
    }
    let out = command.args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The `json` stage's expressions in monitoring/promtail/promtail.yml.
fn promtail_json_fields() -> Vec<String> {
    let text = std::fs::read_to_string(support::stack::monitoring().join("promtail/promtail.yml"))
        .unwrap();
    let mut fields = Vec::new();
    let mut in_expressions = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed == "expressions:" {
            in_expressions = true;
        } else if in_expressions {
            match trimmed.split_once(':') {
                Some((key, _)) if line.starts_with("            ") => fields.push(key.to_string()),
                _ => in_expressions = false,
            }
        }
    }
    fields
}

fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && (s.ends_with('Z') || s[19..].contains('+') || s[19..].contains('-'))
        && s[..4].parse::<u32>().is_ok_and(|y| y >= 2024)
}

#[test]
fn json_lines_carry_the_promtail_fields() {
    let buffer = SharedBuffer::default();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(JsonLayer::new(buffer.clone()))
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    tracing::subscriber::with_default(subscriber, || {
        let model = Model {
            id: "bert-base-uncased",
            arch: ModelType::new("bert").unwrap(),
            params: 110_000_000,
        };
        compile(Target::new("microring-16").unwrap(), &model).unwrap();
        tracing::error!(target: "photon::runtime", "outside any span");
    });

    let lines: Vec<Value> = buffer
        .contents()
        .lines()
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("not one JSON object per line: {e}: {l}"))
        })
        .collect();
    assert_eq!(lines.len(), 3, "{lines:#?}");

    let expected = promtail_json_fields();
    for key in [
        "timestamp",
        "level",
        "logger",
        "message",
        "model_id",
        "target",
        "trace_id",
    ] {
        assert!(
            expected.iter().any(|f| f == key),
            "promtail no longer parses {key}: {expected:?}"
        );
    }
    let inside = &lines[0];
    for key in &expected {
        assert!(
            inside.get(key).is_some_and(Value::is_string),
            "{key} missing or not a string in {inside}"
        );
    }
    assert!(
        is_rfc3339(inside["timestamp"].as_str().unwrap()),
        "{inside}"
    );
    assert_eq!(inside["level"], "INFO");
    assert_eq!(
        inside["logger"], "log_schema",
        "logger is the tracing target (module path)"
    );
    assert_eq!(inside["message"], "lowered to the photonic dialect");
    assert_eq!(inside["model_id"], "bert-base-uncased");
    assert_eq!(
        inside["target"], "microring-16",
        "target is the compile target, from the span"
    );
    assert_eq!(inside["passes"], 12, "other fields are top-level keys");
    assert_eq!(
        inside["fields"]["level"], "user-supplied",
        "a field named like a schema key is kept aside, not lost"
    );
    let trace_id = inside["trace_id"].as_str().unwrap();
    let span_id = inside["span_id"].as_str().unwrap();
    assert!(
        trace_id.len() == 32 && trace_id.chars().all(|c| c.is_ascii_hexdigit()),
        "{trace_id}"
    );
    assert!(
        span_id.len() == 16 && span_id.chars().all(|c| c.is_ascii_hexdigit()),
        "{span_id}"
    );
    assert_eq!(lines[1]["level"], "WARN");
    assert_eq!(
        lines[1]["trace_id"], inside["trace_id"],
        "same span, same ids"
    );
    assert_eq!(lines[1]["span_id"], inside["span_id"]);

    let outside = &lines[2];
    assert_eq!(outside["level"], "ERROR");
    assert_eq!(outside["logger"], "photon::runtime");
    for absent in ["model_id", "target", "trace_id", "span_id"] {
        assert!(
            outside.get(absent).is_none(),
            "{absent} outside any span: {outside}"
        );
    }
}

#[test]
fn the_demo_installed_through_init_writes_json_lines_on_stdout() {
    let out = run_demo(
        &[
            "--listen",
            "127.0.0.1:0",
            "--duration",
            "2",
            "--log-format",
            "json",
            "--device-down",
            "opu-3",
        ],
        &[],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("stdout is JSON lines only: {e}: {l}"))
        })
        .collect();
    let down = lines
        .iter()
        .find(|l| l["message"] == "device down" && l["device_id"] == "opu-3")
        .unwrap_or_else(|| panic!("no `device down` line for opu-3 in:\n{stdout}"));
    assert_eq!(down["level"], "WARN");
    assert_eq!(down["logger"], "photon_demo::devices");
    assert!(is_rfc3339(down["timestamp"].as_str().unwrap()));
    assert!(
        lines.iter().any(|l| l["message"] == "photon-demo started"),
        "{stdout}"
    );
}

#[test]
fn with_otlp_on_json_lines_carry_the_ids_of_traces_the_receiver_has() {
    let rotel = support::rotel::Rotel::start();
    // The demo logs "compiled" at DEBUG inside each compile span.
    let out = run_demo(
        &[
            "--listen",
            "127.0.0.1:0",
            "--duration",
            "3",
            "--log-format",
            "json",
            "--otlp",
            &format!("http://127.0.0.1:{}", rotel.grpc),
        ],
        &[("RUST_LOG", &"info,photon_demo=debug")],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let in_spans: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l["message"] == "compiled")
        .collect();
    assert!(!in_spans.is_empty(), "no `compiled` lines:\n{stdout}");
    let mut ids = std::collections::BTreeSet::new();
    for line in &in_spans {
        let trace_id = line["trace_id"]
            .as_str()
            .unwrap_or_else(|| panic!("a line inside a compile span has no trace_id: {line}"));
        let span_id = line["span_id"].as_str().unwrap();
        assert!(trace_id.len() == 32 && trace_id.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(span_id.len() == 16 && span_id.chars().all(|c| c.is_ascii_hexdigit()));
        ids.insert((trace_id.to_string(), span_id.to_string()));
    }
    // The demo flushed its spans on exit: every logged span is in the receiver,
    // with the ids the log line names.
    support::wait_for(
        "the logged spans in the receiver",
        std::time::Duration::from_secs(20),
        || {
            let received: std::collections::BTreeSet<(String, String)> = rotel
                .spans()
                .into_iter()
                .filter(|s| s.name == "compile")
                .map(|s| (s.trace_id, s.id))
                .collect();
            ids.iter().all(|id| received.contains(id)).then_some(())
        },
    );
    // In the receiver, `target` is only ever the compile target: the span's
    // attribute; its log events name their module as `logger`.
    let compile = rotel
        .spans()
        .into_iter()
        .find(|s| s.name == "compile" && !s.events.is_empty())
        .expect("a compile span with events");
    assert!(
        !compile.attributes["target"][0].contains("::"),
        "{:?}",
        compile.attributes
    );
    for event in &compile.events {
        assert!(
            !event.contains_key("target"),
            "event with a `target`: {event:?}"
        );
        assert_eq!(event["logger"], "photon_demo::compiler", "{event:?}");
    }
}

#[test]
fn pretty_logs_into_a_pipe_have_no_colour_codes() {
    let out = run_demo(
        &[
            "--listen",
            "127.0.0.1:0",
            "--duration",
            "1",
            "--log-format",
            "pretty",
            "--device-down",
            "opu-3",
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("device down"),
        "pretty lines go to stderr: {stderr}"
    );
    assert!(
        !stderr.contains('\u{1b}'),
        "ANSI escape codes written into a pipe:\n{stderr:?}"
    );
    assert!(out.stdout.is_empty(), "pretty logs keep stdout free");
}

#[test]
fn photon_log_file_gets_json_lines_in_a_daily_file_promtail_matches() {
    let dir = support::TempDir::new("log-file");
    let path = dir.path().join("photon-mlir").join("photon.log");
    let out = run_demo(
        &[
            "--listen",
            "127.0.0.1:0",
            "--duration",
            "1",
            "--log-format",
            "off",
            "--device-down",
            "opu-3",
        ],
        &[("PHOTON_LOG_FILE", &path)],
    );
    // photon.log becomes photon.<date>.log: what `/var/log/photon-mlir/*.log` matches.
    let files: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("photon.")
            && name.ends_with(".log")
            && name.len() == "photon.2026-11-28.log".len(),
        "{name}"
    );
    // Flushed on exit, JSON lines in the promtail schema.
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let down = lines
        .iter()
        .find(|l| l["message"] == "device down" && l["device_id"] == "opu-3")
        .unwrap_or_else(|| panic!("no `device down` line in {text}"));
    assert_eq!(down["level"], "WARN");
    assert!(out.stdout.is_empty(), "--log-format off keeps stdout empty");
}

/// Lines written inside a compile span (the span gives them `model_id`).
fn in_compile_span(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l)
                .unwrap_or_else(|e| panic!("stdout is JSON lines only: {e}: {l}"))
        })
        .filter(|l| l.get("model_id").is_some())
        .collect()
}

fn assert_ids(line: &Value) {
    let trace_id = line["trace_id"]
        .as_str()
        .unwrap_or_else(|| panic!("a line inside a compile span has no trace_id: {line}"));
    let span_id = line["span_id"]
        .as_str()
        .unwrap_or_else(|| panic!("a line inside a compile span has no span_id: {line}"));
    assert!(
        trace_id.len() == 32 && trace_id.chars().all(|c| c.is_ascii_hexdigit()),
        "{line}"
    );
    assert!(
        span_id.len() == 16 && span_id.chars().all(|c| c.is_ascii_hexdigit()),
        "{line}"
    );
}

#[test]
fn every_line_inside_a_span_carries_its_ids_in_every_run() {
    // The scenario (a dead collector), repeated: lines written while
    // the demo shut telemetry down lost their ids, in some runs only at the
    // default level (a failed compile is rare), in every run at debug.
    let mut seen = 0;
    for run in 0..3 {
        let out = run_demo(
            &[
                "--listen",
                "127.0.0.1:0",
                "--duration",
                "2",
                "--log-format",
                "json",
                "--otlp",
                "http://127.0.0.1:1",
            ],
            &[("RUST_LOG", &"info,photon_demo=debug")],
        );
        let lines = in_compile_span(&String::from_utf8_lossy(&out.stdout));
        assert!(
            !lines.is_empty(),
            "run {run}: no line inside a compile span"
        );
        for line in &lines {
            assert_ids(line);
        }
        seen += lines.len();
    }
    eprintln!("{seen} lines inside compile spans over 3 runs, each with its ids");
}

#[test]
fn a_span_opened_after_shutdown_is_not_exported_and_its_lines_have_no_ids() {
    use photon_metrics::export::logs::LogFormat;
    use photon_metrics::export::otlp::OtlpConfig;
    let buffer = SharedBuffer::default();
    let (layer, guard) = photon_metrics::init()
        .ignore_environment()
        .without_metrics()
        .log_format(LogFormat::Off)
        .otlp(OtlpConfig::grpc("http://127.0.0.1:1"))
        .shutdown_timeout(std::time::Duration::from_secs(1))
        .layers()
        .unwrap();
    let subscriber = tracing_subscriber::registry()
        .with(layer)
        .with(JsonLayer::new(buffer.clone()));
    tracing::subscriber::with_default(subscriber, || {
        tracing::info_span!("before").in_scope(|| tracing::info!("inside, before shutdown"));
        // The collector is dead: the flush fails, which is not the point here.
        let _ = guard.shutdown();
        tracing::info_span!("after").in_scope(|| tracing::info!("inside, after shutdown"));
    });
    let lines: Vec<Value> = buffer
        .contents()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let line = |message: &str| {
        lines
            .iter()
            .find(|l| l["message"] == message)
            .unwrap_or_else(|| panic!("no `{message}` line in {lines:?}"))
            .clone()
    };
    assert_ids(&line("inside, before shutdown"));
    let after = line("inside, after shutdown");
    assert!(
        after.get("trace_id").is_none() && after.get("span_id").is_none(),
        "{after}"
    );
}

#[test]
fn the_readme_promtail_recipe_json_on_stdout_and_a_log_file_together() {
    // PHOTON_LOG_FILE with --log-format json: two JSON writers in one
    // subscriber, which panicked in every span. A dead collector, so the
    // last export (during shutdown) logs a failure that both must carry.
    let dir = support::TempDir::new("log-file-json");
    let path = dir.path().join("photon-mlir").join("photon.log");
    let out = run_demo(
        &[
            "--listen",
            "127.0.0.1:0",
            "--duration",
            "3",
            "--log-format",
            "json",
            "--otlp",
            "http://127.0.0.1:1",
        ],
        &[
            ("PHOTON_LOG_FILE", &path),
            ("RUST_LOG", &"info,photon_demo=debug"),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.lines().all(|l| l.starts_with("photon-demo: ")),
        "stderr holds the demo's own lines only (no panic, no stray error):\n{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let files: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let file = std::fs::read_to_string(&files[0]).unwrap();
    for (name, text) in [("stdout", &stdout), ("the log file", &file)] {
        let lines = in_compile_span(text);
        assert!(
            !lines.is_empty(),
            "no line inside a compile span in {name}:\n{text}"
        );
        for line in &lines {
            assert_ids(line);
        }
        for message in ["photon-demo started", "OTLP export of"] {
            assert!(text.contains(message), "no `{message}` in {name}:\n{text}");
        }
    }
    assert_eq!(
        stdout, file,
        "stdout and the file carry the same lines (one formatting, two writers)"
    );
}

#[test]
fn two_json_layers_in_one_subscriber_both_write_every_line() {
    // As init() builds stdout + PHOTON_LOG_FILE, or a user adding a JSON
    // layer of their own next to photon's layers.
    let (first, second) = (SharedBuffer::default(), SharedBuffer::default());
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(JsonLayer::new(first.clone()))
        .with(JsonLayer::new(second.clone()))
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    tracing::subscriber::with_default(subscriber, || {
        let model = Model {
            id: "bert-base-uncased",
            arch: ModelType::new("bert").unwrap(),
            params: 110_000_000,
        };
        compile(Target::new("microring-16").unwrap(), &model).unwrap();
    });
    // Each layer takes its own timestamp; everything else is the same.
    let without_time = |text: &str| -> Vec<Value> {
        in_compile_span(text)
            .into_iter()
            .map(|mut l| {
                l.as_object_mut().unwrap().remove("timestamp");
                l
            })
            .collect()
    };
    let (first, second) = (first.contents(), second.contents());
    let lines = without_time(&first);
    assert_eq!(lines, without_time(&second));
    assert_eq!(lines.len(), 2, "{first}");
    for line in &lines {
        assert_eq!(line["model_id"], "bert-base-uncased");
        assert_eq!(line["target"], "microring-16");
        assert_ids(line);
    }
}

/// The lines a JSON layer writes inside the `compile` span with `sampler`.
fn lines_with_sampler(sampler: opentelemetry_sdk::trace::Sampler) -> Vec<Value> {
    let buffer = SharedBuffer::default();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_sampler(sampler)
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(JsonLayer::new(buffer.clone()))
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    tracing::subscriber::with_default(subscriber, || {
        let model = Model {
            id: "bert-base-uncased",
            arch: ModelType::new("bert").unwrap(),
            params: 110_000_000,
        };
        compile(Target::new("microring-16").unwrap(), &model).unwrap();
    });
    let lines = in_compile_span(&buffer.contents());
    assert_eq!(lines.len(), 2, "{lines:?}");
    lines
}

#[test]
fn only_sampled_spans_stamp_their_ids_into_log_lines() {
    use opentelemetry_sdk::trace::Sampler;
    for line in lines_with_sampler(Sampler::AlwaysOn) {
        assert_ids(&line);
    }
    // An unsampled span never reaches a collector: ids would link to nothing.
    for line in lines_with_sampler(Sampler::AlwaysOff) {
        assert!(
            line.get("trace_id").is_none() && line.get("span_id").is_none(),
            "an unsampled span's ids in {line}"
        );
        assert_eq!(line["model_id"], "bert-base-uncased", "{line}");
    }
}

#[test]
fn with_otel_traces_sampler_always_off_no_line_links_to_a_trace() {
    let rotel = support::rotel::Rotel::start();
    let out = run_demo(
        &[
            "--listen",
            "127.0.0.1:0",
            "--duration",
            "2",
            "--log-format",
            "json",
            "--otlp",
            &format!("http://127.0.0.1:{}", rotel.grpc),
        ],
        &[
            ("RUST_LOG", &"info,photon_demo=debug"),
            ("OTEL_TRACES_SAMPLER", &"always_off"),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines = in_compile_span(&stdout);
    assert!(
        !lines.is_empty(),
        "no line inside a compile span:\n{stdout}"
    );
    for line in &lines {
        assert!(
            line.get("trace_id").is_none() && line.get("span_id").is_none(),
            "ids of a span the collector never gets: {line}"
        );
    }
    // The demo flushed on exit: had any span been sampled, it would be here.
    assert!(rotel.spans().is_empty(), "{}", rotel.text());
}
