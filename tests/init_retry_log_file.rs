//! `init()` is all or nothing: a first call that fails on a bad
//! `PHOTON_LOG_FILE` installs nothing (no recorder, no listener, no
//! subscriber), so the corrected retry succeeds and serves `/metrics`.
//! A test binary of its own: the globals are process-wide.

mod support;

use photon_metrics::export::logs::LogFormat;
use photon_metrics::export::otlp::OtlpConfig;
use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use photon_metrics::labels::{ModelType, Status, Target};
use photon_metrics::InitError;
use support::init::VARIABLES;
use support::{free_port, http_get, TempDir};

fn telemetry(port: u16) -> photon_metrics::TelemetryBuilder {
    let metrics = PrometheusExporterBuilder::new()
        .listen_on(&format!("127.0.0.1:{port}"))
        .unwrap();
    photon_metrics::init()
        .metrics(metrics)
        .otlp(OtlpConfig::grpc("http://127.0.0.1:1"))
        .log_format(LogFormat::Off)
        .shutdown_timeout(std::time::Duration::from_secs(1))
}

#[test]
fn a_bad_photon_log_file_installs_nothing_and_the_corrected_retry_serves_metrics() {
    // The only test in this binary: nothing else reads the environment.
    for var in VARIABLES.iter().filter(|v| **v != "PHOTON_LOG_FILE") {
        std::env::remove_var(var);
    }
    let dir = TempDir::new("init-retry");
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "not a directory").unwrap();
    std::env::set_var("PHOTON_LOG_FILE", blocker.join("photon.log"));

    // The same port both times: the retry can bind it only if the failed
    // call let it go.
    let port = free_port();
    let err = telemetry(port).install().unwrap_err();
    assert!(
        matches!(
            err,
            InitError::Environment {
                var: "PHOTON_LOG_FILE",
                ..
            }
        ),
        "{err}"
    );

    std::env::set_var(
        "PHOTON_LOG_FILE",
        dir.path().join("logs").join("photon.log"),
    );
    let guard = telemetry(port)
        .install()
        .unwrap_or_else(|e| panic!("the corrected retry failed: {e}"));
    assert_eq!(
        guard
            .metrics()
            .and_then(|m| m.local_addr())
            .map(|a| a.port()),
        Some(port)
    );
    photon_metrics::compiler::record_compilation(
        Target::new("mzi-64x64").unwrap(),
        Status::Success,
        ModelType::new("resnet").unwrap(),
    );
    let (status, body) = http_get(&format!("http://127.0.0.1:{port}/metrics")).unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(
        body.lines()
            .any(|l| l.starts_with("photon_compilations_total{")
                && l.contains("target=\"mzi-64x64\"")
                && l.ends_with(" 1")),
        "{body}"
    );
    // And the retry's subscriber is the global one: a log line reaches the file.
    tracing::warn!("written after the retry");
    drop(guard);
    let logs = std::fs::read_dir(dir.path().join("logs"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect::<String>();
    assert!(logs.contains("written after the retry"), "{logs}");
}
