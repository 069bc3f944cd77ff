//! The demo stops on SIGTERM (how Kubernetes stops a pod) and on Ctrl-C
//! (SIGINT) alike: pending spans are flushed to the collector and it exits 0.

mod support;

use std::process::Command;
use std::time::Duration;
use support::rotel::Rotel;
use support::stack::demo_binary;
use support::{free_port, wait_for, Process, TempDir};

#[test]
fn sigterm_flushes_spans_and_exits_zero() {
    stops_cleanly_on("TERM");
}

#[test]
fn ctrl_c_flushes_spans_and_exits_zero() {
    stops_cleanly_on("INT");
}

fn stops_cleanly_on(signal: &str) {
    let dir = TempDir::new("signal");
    let rotel = Rotel::start();
    let port = free_port();
    let mut command = Command::new(demo_binary());
    command
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--otlp",
            &format!("http://127.0.0.1:{}", rotel.grpc),
            "--log-format",
            "off",
        ])
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT");
    let mut demo = Process::spawn("photon-demo", command, dir.path().join("demo.log"));
    support::wait_for_metrics(&mut demo, port);
    // Let it compile for a moment; the batch exporter holds recent spans.
    std::thread::sleep(Duration::from_millis(1500));
    let before = rotel.spans().len();
    demo.signal(signal);
    let status = demo.wait_exit(Duration::from_secs(15));
    assert_eq!(status.code(), Some(0), "{}", demo.log_text());
    assert!(
        demo.log_text().contains("photon-demo: done after"),
        "{}",
        demo.log_text()
    );
    wait_for(
        "flushed spans in the receiver",
        Duration::from_secs(10),
        || {
            let spans = rotel.spans();
            (spans.len() > before && spans.iter().any(|s| s.service == "photon-demo")).then_some(())
        },
    );
}
