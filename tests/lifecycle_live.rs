//! A decommissioned device's alert resolves, end to end: the demo holds
//! opu-1 down and replaces a device every 60 s (`--churn 60`, the held-down
//! one first); a real Prometheus with the repository's rules fires
//! DeviceFailure through a real Alertmanager to a webhook; the demo retires
//! opu-1; the webhook then receives the resolved notification, and
//! `photon_device_status{device_id="opu-1"}` is gone from `/api/v1/series`
//! while its replacement is there.

mod support;

use std::process::Command;
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};
use support::alerting::{start_alertmanager, webhook};
use support::stack::{demo_binary, monitoring};
use support::{free_port, http_get, Process, Prometheus, TempDir};

/// Waits for a DeviceFailure notification for opu-1 with `status`.
fn wait_for_notification(
    notifications: &Receiver<String>,
    status: &str,
    timeout: Duration,
    logs: &dyn Fn() -> String,
) {
    let deadline = Instant::now() + timeout;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let body = notifications.recv_timeout(remaining).unwrap_or_else(|_| {
            panic!(
                "no {status} DeviceFailure for opu-1 within {timeout:?}\n{}",
                logs()
            )
        });
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        if v["alerts"].as_array().unwrap().iter().any(|a| {
            a["status"] == status
                && a["labels"]["alertname"] == "DeviceFailure"
                && a["labels"]["device_id"] == "opu-1"
        }) {
            return;
        }
    }
}

fn series(prometheus: &Prometheus, matcher: &str, since: u64) -> Vec<serde_json::Value> {
    let url = format!(
        "{}/api/v1/series?match[]={}&start={since}",
        prometheus.url,
        support::encode(matcher)
    );
    let (status, body) = http_get(&url).unwrap();
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["data"].as_array().unwrap().clone()
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn retiring_a_down_device_resolves_its_alert_and_removes_its_series() {
    let dir = TempDir::new("lifecycle-live");
    let (webhook_port, notifications) = webhook();
    let (alertmanager, am_port) = start_alertmanager(dir.path(), webhook_port);

    let demo_port = free_port();
    let mut command = Command::new(demo_binary());
    command.args([
        "--listen",
        &format!("127.0.0.1:{demo_port}"),
        "--device-down",
        "opu-1",
        "--churn",
        "60",
        "--duration",
        "300",
        "--log-format",
        "off",
    ]);
    let mut demo = Process::spawn("photon-demo", command, dir.path().join("demo.log"));
    support::wait_for_metrics(&mut demo, demo_port);

    let alerts = std::fs::read_to_string(monitoring().join("prometheus/rules/alerts.yml")).unwrap();
    let recording =
        std::fs::read_to_string(monitoring().join("prometheus/rules/recording.yml")).unwrap();
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
    let started = unix_now();
    let logs = || {
        format!(
            "alertmanager log:\n{}\nprometheus log:\n{}",
            alertmanager.log_text(),
            prometheus.process.log_text()
        )
    };

    // Held down: DeviceFailure (for: 30s) fires before the first replacement at 60 s.
    wait_for_notification(&notifications, "firing", Duration::from_secs(58), &logs);
    assert!(!series(
        &prometheus,
        "photon_device_status{device_id=\"opu-1\"}",
        started
    )
    .is_empty());

    // Retired at 60 s: the next scrape lacks its series, the alert resolves.
    wait_for_notification(&notifications, "resolved", Duration::from_secs(60), &logs);
    demo.assert_running();
    let after = unix_now() + 2;
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        series(
            &prometheus,
            "photon_device_status{device_id=\"opu-1\"}",
            after
        )
        .is_empty(),
        "opu-1 should be gone"
    );
    for family in [
        "photon_device_temperature_celsius",
        "photon_optical_power_mw",
    ] {
        assert!(
            series(
                &prometheus,
                &format!("{family}{{device_id=\"opu-1\"}}"),
                after
            )
            .is_empty(),
            "{family} of opu-1 should be gone"
        );
    }
    // Its replacement is up and served, as are the boards that stayed.
    let status = series(&prometheus, "photon_device_status", after);
    let ids: Vec<&str> = status
        .iter()
        .filter_map(|s| s["device_id"].as_str())
        .collect();
    assert!(ids.contains(&"opu-4"), "the replacement: {ids:?}");
    assert!(ids.contains(&"opu-0"), "{ids:?}");
}
