//! A real OTLP receiver (rotel, from PyPI) and a parser for the spans it
//! prints.
#![allow(dead_code)]

use super::{free_port, wait_for, Process, TempDir};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// rotel on two free loopback ports, printing every span it receives.
pub struct Rotel {
    pub process: Process,
    pub grpc: u16,
    pub http: u16,
    _dir: TempDir,
}

impl Rotel {
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    /// rotel with its gRPC port at `grpc` (to start a collector a client is
    /// already pointed at).
    pub fn start_on(grpc: u16) -> Self {
        let dir = TempDir::new("rotel");
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
        let mut process = Process::spawn("rotel", command, dir.path().join("rotel.log"));
        wait_for("rotel to listen", Duration::from_secs(20), || {
            process.assert_running();
            std::net::TcpStream::connect(("127.0.0.1", grpc)).ok()
        });
        Rotel {
            process,
            grpc,
            http,
            _dir: dir,
        }
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<SpanRecord> {
        parse_spans(&self.process.log_text())
    }

    /// rotel's output without colour codes, for failure messages.
    pub fn text(&self) -> String {
        strip_ansi(&self.process.log_text())
    }
}

#[derive(Debug, Default, Clone)]
pub struct SpanRecord {
    pub service: String,
    pub trace_id: String,
    pub parent_id: String,
    pub id: String,
    pub name: String,
    pub status: String,
    pub status_message: String,
    pub attributes: BTreeMap<String, Vec<String>>,
    /// Each span event's name and attributes.
    pub events: Vec<BTreeMap<String, String>>,
}

pub fn strip_ansi(s: &str) -> String {
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
pub fn parse_spans(log: &str) -> Vec<SpanRecord> {
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
            } else if t == "Events:" {
                in_attributes = false;
            } else if t.starts_with("SpanEvent") {
                in_attributes = false;
                span.events.push(BTreeMap::new());
            } else if let (false, Some(event), Some((k, v))) = (
                in_attributes,
                span.events.last_mut(),
                t.strip_prefix("-> ").and_then(|kv| kv.split_once(": ")),
            ) {
                let v = v
                    .strip_prefix("Str(")
                    .and_then(|v| v.strip_suffix(')'))
                    .unwrap_or(v);
                event.insert(k.to_string(), v.to_string());
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

pub fn rotel_binary() -> PathBuf {
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
