//! Spans reach a real OTLP receiver (rotel, from PyPI; nobody here wrote
//! it): names, service.name, attributes, error status, and one trace across
//! two processes through a propagated W3C context.

mod support;

use std::process::Command;
use std::time::Duration;
use support::rotel::{Rotel, SpanRecord};

#[test]
fn compile_and_inference_spans_form_one_trace_in_a_real_receiver() {
    let rotel = Rotel::start();
    let (grpc, http) = (rotel.grpc, rotel.http);

    // Process 1 over gRPC, process 2 over HTTP/protobuf: both transports.
    let compile = Command::new(support::stack::example_binary("trace-continuity"))
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
    let infer = Command::new(support::stack::example_binary("trace-continuity"))
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
        let spans = rotel.spans();
        if spans.len() >= 4 {
            break spans;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "expected 4 spans (two compiles, serve, infer), parsed {}: {spans:#?}\nrotel output:\n{}",
            spans.len(),
            rotel.text()
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
