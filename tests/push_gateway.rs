//! A batch job pushes to a real Pushgateway (Debian `prometheus-pushgateway`):
//! on demand before exit, periodically, and with a clear error when the
//! gateway is down.

mod support;

use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use photon_metrics::export::ExportError;
use photon_metrics::labels::{ModelType, Status, Target};
use photon_metrics::{compiler, runtime};
use std::process::Command;
use std::time::Duration;
use support::{free_port, http_get, require_binary, wait_for, Process, TempDir};

#[test]
fn a_batch_job_pushes_its_metrics_to_a_real_pushgateway() {
    let binary = require_binary("prometheus-pushgateway", "prometheus-pushgateway");
    let dir = TempDir::new("pushgateway");
    let port = free_port();
    let mut command = Command::new(binary);
    command.arg(format!("--web.listen-address=127.0.0.1:{port}"));
    let mut gateway = Process::spawn("pushgateway", command, dir.path().join("pushgateway.log"));
    let base = format!("http://127.0.0.1:{port}");
    wait_for(
        "the pushgateway to be ready",
        Duration::from_secs(20),
        || {
            gateway.assert_running();
            http_get(&format!("{base}/-/ready"))
                .ok()
                .filter(|(s, _)| *s == 200)
        },
    );

    let exporter = PrometheusExporterBuilder::new()
        .without_listener()
        .push_gateway(
            &format!("{base}/metrics/job/photon-batch"),
            Some(Duration::from_millis(300)),
        )
        .unwrap()
        .install()
        .unwrap();

    let target = Target::new("mzi-64x64").unwrap();
    let model = ModelType::new("resnet").unwrap();
    compiler::start_compilation(target, model, 10).finish(Status::Success);

    // On demand: the job's last step.
    exporter.push_now().expect("push to a running gateway");
    let (_, body) = http_get(&format!("{base}/metrics")).unwrap();
    let line = body
        .lines()
        .find(|l| l.starts_with("photon_compilations_total{"))
        .unwrap_or_else(|| panic!("pushed series missing:\n{body}"));
    assert!(line.contains(r#"job="photon-batch""#), "{line}");
    assert!(
        line.contains(r#"status="success""#) && line.ends_with(" 1"),
        "{line}"
    );

    // Periodically: a later record shows up without another explicit push.
    runtime::set_queue_depth(12);
    wait_for("a periodic push", Duration::from_secs(10), || {
        let (_, body) = http_get(&format!("{base}/metrics")).ok()?;
        body.lines()
            .any(|l| l.starts_with("photon_queue_depth{") && l.ends_with(" 12"))
            .then_some(())
    });

    // Gateway gone: a clear error, no panic, and recording goes on.
    drop(gateway);
    let err = exporter.push_now().unwrap_err();
    assert!(matches!(err, ExportError::Push { .. }), "{err}");
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
    runtime::set_queue_depth(13);
    assert!(exporter.render().contains("photon_queue_depth 13"));
}
