//! Spans reach a real OTLP receiver (rotel, from PyPI; nobody here wrote
//! it): names, service.name, attributes, error status, and one trace across
//! two processes through a propagated W3C context.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;
use support::{free_port, wait_for, Process, TempDir};

#[derive(Debug, Default, Clone)]
struct SpanRecord {
    service: String,
    trace_id: String,
    parent_id: String,
    id: String,
    name: String,
    status: String,
    status_message: String,
    attributes: BTreeMap<String, Vec<String>>,
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Parses rotel's `--debug-log traces --debug-log-verbosity detailed` output.
fn parse_spans(log: &str) -> Vec<SpanRecord> {
    let mut spans = Vec::new();
    let mut service = String::new();
    let mut current: Option<SpanRecord> = None;
    let mut in_attributes = false;
    for line in strip_ansi(log).lines() {
        let t = line.trim();
        let value = |prefix: &str| {
            t.split_once(':')
                .filter(|(k, _)| k.trim() == prefix)
                .map(|(_, v)| v.trim().to_string())
        };
        if t.starts_with("ResourceSpans #") {
            spans.extend(current.take());
        } else if let Some(name) = t
            .strip_prefix("-> service.name: Str(")
            .and_then(|r| r.strip_suffix(')'))
        {
            if current.is_none() {
                service = name.to_string();
            }
        } else if t.starts_with("Span #") {
            spans.extend(current.take());
            current = Some(SpanRecord {
                service: service.clone(),
                ..Default::default()
            });
            in_attributes = false;
        } else if let Some(span) = current.as_mut() {
            if let Some(v) = value("Trace ID") {
                span.trace_id = v;
            } else if let Some(v) = value("Parent ID") {
                span.parent_id = v;
            } else if let Some(v) = value("ID") {
                span.id = v;
            } else if let Some(v) = value("Name") {
                span.name = v;
            } else if let Some(v) = value("Status code") {
                span.status = v;
            } else if let Some(v) = value("Status message") {
                span.status_message = v;
            } else if t == "Attributes:" {
                in_attributes = true;
            } else if t == "Events:" || t.starts_with("SpanEvent") {
                in_attributes = false;
            } else if in_attributes {
                if let Some((k, v)) = t.strip_prefix("-> ").and_then(|kv| kv.split_once(": ")) {
                    let v = v
                        .strip_prefix("Str(")
                        .and_then(|v| v.strip_suffix(')'))
                        .unwrap_or(v);
                    span.attributes
                        .entry(k.to_string())
                        .or_default()
                        .push(v.to_string());
                }
            }
        }
    }
    spans.extend(current);
    spans
}

fn rotel_binary() -> PathBuf {
    let out = Command::new("python3")
        .args([
            "-c",
            "import rotel, os; print(os.path.dirname(rotel.__file__))",
        ])
        .output()
        .expect("python3");
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let binary = PathBuf::from(dir).join("rotel-agent");
    assert!(
        out.status.success() && binary.is_file(),
        "rotel is not installed; install it with `python3 -m pip install rotel` (.ci/run does this)"
    );
    binary
}

fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .and_then(|p| p.parent())
        .unwrap()
        .join("examples")
        .join(name);
    assert!(
        path.is_file(),
        "{} missing: `cargo test` builds it; alone, run `cargo build --example {name}`",
        path.display()
    );
    path
}

#[test]
fn compile_and_inference_spans_form_one_trace_in_a_real_receiver() {
    let dir = TempDir::new("rotel");
    let grpc = free_port();
    let http = free_port();
    let mut command = Command::new(rotel_binary());
    command.args([
        "start",
        "--otlp-grpc-endpoint",
        &format!("127.0.0.1:{grpc}"),
        "--otlp-http-endpoint",
        &format!("127.0.0.1:{http}"),
        "--exporter",
        "blackhole",
        "--debug-log",
        "traces",
        "--debug-log-verbosity",
        "detailed",
    ]);
    let mut rotel = Process::spawn("rotel", command, dir.path().join("rotel.log"));
    wait_for("rotel to listen", Duration::from_secs(20), || {
        rotel.assert_running();
        std::net::TcpStream::connect(("127.0.0.1", grpc)).ok()
    });

    // Process 1 over gRPC, process 2 over HTTP/protobuf: both transports.
    let compile = Command::new(example("trace-continuity"))
        .arg("compile")
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{grpc}"),
        )
        .env_remove("OTEL_EXPORTER_OTLP_PROTOCOL")
        .output()
        .unwrap();
    assert!(
        compile.status.success(),
        "{}",
        String::from_utf8_lossy(&compile.stderr)
    );
    let stdout = String::from_utf8_lossy(&compile.stdout);
    let traceparent = stdout
        .trim()
        .strip_prefix("traceparent=")
        .expect("a traceparent")
        .to_string();
    let infer = Command::new(example("trace-continuity"))
        .args(["infer", &traceparent])
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://127.0.0.1:{http}"),
        )
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        .output()
        .unwrap();
    assert!(
        infer.status.success(),
        "{}",
        String::from_utf8_lossy(&infer.stderr)
    );

    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let spans = loop {
        let spans = parse_spans(&rotel.log_text());
        if spans.len() >= 4 {
            break spans;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "expected 4 spans (two compiles, serve, infer), parsed {}: {spans:#?}\nrotel output:\n{}",
            spans.len(),
            strip_ansi(&rotel.log_text())
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let find = |service: &str, name: &str, pred: &dyn Fn(&SpanRecord) -> bool| {
        spans
            .iter()
            .find(|s| s.service == service && s.name == name && pred(s))
            .unwrap_or_else(|| panic!("no {name} span from {service}: {spans:#?}"))
            .clone()
    };
    let attr = |s: &SpanRecord, k: &str| s.attributes.get(k).cloned().unwrap_or_default();

    let ok = find("photon-compile", "compile", &|s| {
        s.status != "STATUS_CODE_ERROR"
    });
    assert_eq!(attr(&ok, "model_id"), ["resnet50-v1.5"]);
    assert_eq!(
        attr(&ok, "target"),
        ["mzi-64x64"],
        "one target attribute: the compile target"
    );
    assert_eq!(attr(&ok, "model_type"), ["resnet"]);
    assert_eq!(
        traceparent,
        format!("00-{}-{}-01", ok.trace_id, ok.id),
        "the printed context is the compile span's"
    );

    let failed = find("photon-compile", "compile", &|s| {
        s.status == "STATUS_CODE_ERROR"
    });
    assert_eq!(failed.status_message, "fft is not supported on this target");
    assert_eq!(attr(&failed, "error_kind"), ["UnsupportedOp"]);
    assert_eq!(attr(&failed, "model_id"), ["fft-net"]);

    let serve = find("photon-infer", "serve", &|_| true);
    let inference = find("photon-infer", "infer", &|_| true);
    assert_eq!(
        serve.trace_id, ok.trace_id,
        "process 2 continues process 1's trace"
    );
    assert_eq!(
        serve.parent_id, ok.id,
        "serve's parent is the remote compile span"
    );
    assert_eq!(inference.trace_id, ok.trace_id);
    assert_eq!(inference.parent_id, serve.id);
    assert_eq!(attr(&inference, "device_type"), ["mzi"]);
}
