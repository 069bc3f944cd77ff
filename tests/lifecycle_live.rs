//! A decommissioned device's alert resolves, end to end: the demo holds
//! opu-1 down and replaces a device every 60 s (`--churn 60`, the held-down
//! one first); a real Prometheus with the repository's rules fires
//! DeviceFailure through a real Alertmanager to a webhook; the demo retires
//! opu-1; the webhook then receives the resolved notification, and
//! `photon_device_status{device_id="opu-1"}` is gone from `/api/v1/series`
//! while its replacement is there.

mod support;

use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};
use support::alerting::AlertingStack;
use support::{http_get, Prometheus, TempDir};

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
    let mut stack = AlertingStack::start(
        dir.path(),
        &["--churn", "60", "--duration", "300", "--log-format", "off"],
    );
    let started = unix_now();
    let logs = || {
        format!(
            "alertmanager log:\n{}\nprometheus log:\n{}",
            stack.alertmanager.log_text(),
            stack.prometheus.process.log_text()
        )
    };

    // Held down: DeviceFailure (for: 30s) fires before the first replacement at 60 s.
    wait_for_notification(
        &stack.notifications,
        "firing",
        Duration::from_secs(58),
        &logs,
    );
    assert!(!series(
        &stack.prometheus,
        "photon_device_status{device_id=\"opu-1\"}",
        started
    )
    .is_empty());

    // Retired at 60 s: the next scrape lacks its series, the alert resolves.
    wait_for_notification(
        &stack.notifications,
        "resolved",
        Duration::from_secs(60),
        &logs,
    );
    stack.demo.assert_running();
    let after = unix_now() + 2;
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        series(
            &stack.prometheus,
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
                &stack.prometheus,
                &format!("{family}{{device_id=\"opu-1\"}}"),
                after
            )
            .is_empty(),
            "{family} of opu-1 should be gone"
        );
    }
    // Its replacement is up and served, as are the boards that stayed.
    let status = series(&stack.prometheus, "photon_device_status", after);
    let ids: Vec<&str> = status
        .iter()
        .filter_map(|s| s["device_id"].as_str())
        .collect();
    assert!(ids.contains(&"opu-4"), "the replacement: {ids:?}");
    assert!(ids.contains(&"opu-0"), "{ids:?}");
}
