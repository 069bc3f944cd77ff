//! The demo's panic hook dresses up only the demo's own simulated compiler
//! crashes; any other panic is reported as the panic it is, and a real
//! failure stops the demo with a non-zero exit status instead of hiding.

mod support;

use std::process::Command;
use std::time::Duration;
use support::stack::demo_binary;
use support::{free_port, http_get, Process, TempDir};

fn demo(args: &[&str]) -> Command {
    let mut command = Command::new(demo_binary());
    for var in [
        "RUST_LOG",
        "PHOTON_LOG_FORMAT",
        "PHOTON_LOG_FILE",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "PHOTON_METRICS_LISTEN",
    ] {
        command.env_remove(var);
    }
    command.args(args);
    command
}

#[test]
fn a_real_panic_is_reported_as_a_panic_and_stops_the_demo() {
    let started = std::time::Instant::now();
    // --duration 20: without the fix the demo hid the panic and ran on to
    // its end; it must stop well before.
    let out = demo(&[
        "--listen",
        "127.0.0.1:0",
        "--duration",
        "20",
        "--log-format",
        "off",
        "--crash",
        "real",
    ])
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("simulated compiler crash"),
        "a real panic reported as a simulated crash:\n{stderr}"
    );
    assert!(
        stderr.contains("panicked at")
            && stderr.contains("index out of bounds in the lowering pass (--crash real)"),
        "the panic is not reported as one:\n{stderr}"
    );
    assert_eq!(
        out.status.code(),
        Some(101),
        "a real failure must not exit 0:\n{stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the demo ran on after its compiler thread died ({:?}):\n{stderr}",
        started.elapsed()
    );
}

#[test]
fn a_simulated_crash_is_one_line_is_recorded_and_the_demo_carries_on() {
    let dir = TempDir::new("demo-crash");
    let port = free_port();
    let mut command = demo(&[
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--duration",
        "3",
        "--log-format",
        "off",
        "--crash",
        "simulated",
    ]);
    command.env("RUST_LOG", "off");
    let mut process = Process::spawn("photon-demo", command, dir.path().join("demo.log"));
    support::wait_for_metrics(&mut process, port);
    // The crash is recorded as status="panic" and the demo keeps compiling.
    let url = format!("http://127.0.0.1:{port}/metrics");
    support::wait_for(
        "the simulated crash in /metrics, and compiles after it",
        Duration::from_secs(10),
        || {
            let (_, body) = http_get(&url).ok()?;
            let count = |status: &str| -> f64 {
                body.lines()
                    .filter(|l| {
                        l.starts_with("photon_compilations_total{")
                            && l.contains(&format!("status=\"{status}\""))
                    })
                    .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                    .sum()
            };
            (count("panic") >= 1.0 && count("success") >= 1.0).then_some(())
        },
    );
    let status = process.wait_exit(Duration::from_secs(20));
    let log = process.log_text();
    assert_eq!(status.code(), Some(0), "{log}");
    let dressed: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("photon-demo: simulated compiler crash:"))
        .collect();
    assert_eq!(dressed.len(), 1, "{log}");
    assert!(
        dressed[0].contains("simulated crash in the lowering pass (--crash simulated)"),
        "{log}"
    );
}
