//! A real Alertmanager delivering to a webhook the test runs.
#![allow(dead_code)]

use super::{free_port, http_get, require_binary, wait_for, Process};
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
