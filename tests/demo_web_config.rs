//! `photon-demo --web-config FILE`: the demo serves `/metrics` with basic
//! auth from an exporter-toolkit web-config file, so anyone can watch the
//! listener's defences; a missing file is a clear error, exit 2.

mod support;

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;
use support::raw_http::{basic_auth, request};
use support::stack::demo_binary;
use support::{free_port, wait_for, Process, TempDir};

#[test]
fn the_demo_serves_metrics_behind_a_web_config() {
    let dir = TempDir::new("demo-web-config");
    let web = dir.path().join("web.yml");
    let hash = bcrypt::hash("s3cret", 6).unwrap();
    std::fs::write(&web, format!("basic_auth_users:\n  prometheus: {hash}\n")).unwrap();
    let port = free_port();
    let mut command = Command::new(demo_binary());
    command.env_remove("PHOTON_METRICS_LISTEN").args([
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--log-format",
        "off",
        "--web-config",
        web.to_str().unwrap(),
    ]);
    let mut demo = Process::spawn("photon-demo", command, dir.path().join("demo.log"));
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let t = Duration::from_secs(5);
    let anonymous = wait_for("the demo listening", Duration::from_secs(20), || {
        demo.assert_running();
        request(addr, "GET", "/metrics", &[], t).ok()
    });
    assert_eq!(anonymous.status, 401, "{}", anonymous.text());
    let good = basic_auth("prometheus:s3cret");
    let scraped = request(addr, "GET", "/metrics", &[("Authorization", &good)], t).unwrap();
    assert_eq!(scraped.status, 200);
    assert!(scraped.text().contains("photon_compilations_total"));
}

#[test]
fn a_missing_web_config_is_a_clear_error() {
    let output = Command::new(demo_binary())
        .args([
            "--listen",
            "127.0.0.1:0",
            "--web-config",
            "/nonexistent/web.yml",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--web-config /nonexistent/web.yml"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
