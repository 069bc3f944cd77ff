//! A real Alertmanager delivering to a webhook the test runs, and the whole
//! alerting path against the demo.
#![allow(dead_code)]

use super::stack::{demo_binary, monitoring};
use super::{free_port, http_get, require_binary, wait_for, wait_for_metrics, Process, Prometheus};
use std::path::Path;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

/// A webhook on 127.0.0.1 that hands every notification body to the test.
pub fn webhook() -> (u16, mpsc::Receiver<String>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let port = server.server_addr().to_ip().unwrap().port();
    let (tx, notifications) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for mut request in server.incoming_requests() {
            let mut body = String::new();
            let _ = request.as_reader().read_to_string(&mut body);
            let _ = request.respond(tiny_http::Response::empty(200));
            if tx.send(body).is_err() {
                break;
            }
        }
    });
    (port, notifications)
}

/// Starts Alertmanager in `dir`, routing everything to the webhook on
/// `webhook_port` grouped by alert name and device, with 1 s waits; returns
/// it, ready, and its port.
pub fn start_alertmanager(dir: &Path, webhook_port: u16) -> (Process, u16) {
    let port = free_port();
    let config = dir.join("alertmanager.yml");
    std::fs::write(
        &config,
        format!(
            "route:\n  receiver: test\n  group_by: [alertname, device_id]\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n\
             receivers:\n  - name: test\n    webhook_configs:\n      - url: http://127.0.0.1:{webhook_port}/alerts\n"
        ),
    )
    .unwrap();
    let mut command = Command::new(require_binary(
        "prometheus-alertmanager",
        "prometheus-alertmanager",
    ));
    command
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.path={}", dir.join("am-data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=");
    let mut alertmanager = Process::spawn("alertmanager", command, dir.join("alertmanager.log"));
    wait_for("alertmanager to be ready", Duration::from_secs(20), || {
        alertmanager.assert_running();
        http_get(&format!("http://127.0.0.1:{port}/-/ready"))
            .ok()
            .filter(|(s, _)| *s == 200)
    });
    (alertmanager, port)
}

/// The alerting path as `monitoring/` deploys it, against the demo: a
/// webhook the test reads, Alertmanager routing to it, the demo holding
/// opu-1 down, and Prometheus with the repository's rule files, scraping
/// and evaluating every second, its target up. The fields drop in the
/// order they are listed, the reverse of the start.
pub struct AlertingStack {
    pub prometheus: Prometheus,
    pub demo: Process,
    pub alertmanager: Process,
    /// Every notification body the webhook received.
    pub notifications: mpsc::Receiver<String>,
}

impl AlertingStack {
    /// Starts the stack in `dir`, the demo serving on a free loopback port
    /// with `--device-down opu-1` and `demo_args`. Alertmanager comes first:
    /// an alert fired while it is down waits for the resend delay.
    pub fn start(dir: &Path, demo_args: &[&str]) -> Self {
        let (webhook_port, notifications) = webhook();
        let (alertmanager, am_port) = start_alertmanager(dir, webhook_port);

        let demo_port = free_port();
        let mut command = Command::new(demo_binary());
        command
            .args([
                "--listen",
                &format!("127.0.0.1:{demo_port}"),
                "--device-down",
                "opu-1",
            ])
            .args(demo_args);
        let mut demo = Process::spawn("photon-demo", command, dir.join("demo.log"));
        wait_for_metrics(&mut demo, demo_port);

        let recording =
            std::fs::read_to_string(monitoring().join("prometheus/rules/recording.yml")).unwrap();
        let alerts =
            std::fs::read_to_string(monitoring().join("prometheus/rules/alerts.yml")).unwrap();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             rule_files: [recording.yml, alerts.yml]\n\
             alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:{am_port}']\n\
             scrape_configs:\n  - job_name: photon-compiler\n    static_configs:\n      - targets: ['127.0.0.1:{demo_port}']\n"
        );
        let mut prometheus = Prometheus::start(
            &config,
            &[("recording.yml", &recording), ("alerts.yml", &alerts)],
        );
        prometheus.wait_for_targets_up(Duration::from_secs(60));
        AlertingStack {
            prometheus,
            demo,
            alertmanager,
            notifications,
        }
    }
}
