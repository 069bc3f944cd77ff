//! `/metrics` over TLS with basic auth from an exporter-toolkit web-config
//! file, scraped by a real Prometheus the way operators configure it
//! (`scheme: https`, `tls_config`, `basic_auth`): the right password is
//! served, a wrong one gets 401, and a plain-HTTP scrape fails.

mod support;

use photon_metrics::runtime;
use std::time::Duration;
use support::tls::tls_web_config;
use support::{wait_for, Prometheus, TempDir};

#[test]
fn prometheus_scrapes_over_tls_with_basic_auth_and_strangers_do_not() {
    let dir = TempDir::new("tls");
    // `$2y$`, as htpasswd writes it for node_exporter's web config.
    let hash = bcrypt::hash_with_result("s3cret", 6)
        .unwrap()
        .format_for_version(bcrypt::Version::TwoY);
    let web = tls_web_config(&dir, &hash);

    let (_exporter, addr) = support::init::installed_with_web_config(&web);
    runtime::set_queue_depth(42);
    let ca = dir.path().join("server.crt");

    let job = |name: &str, scheme: &str, password: &str| {
        format!(
            "  - job_name: {name}\n    scheme: {scheme}\n    tls_config:\n      ca_file: {}\n    basic_auth:\n      username: prometheus\n      password: {password}\n    static_configs:\n      - targets: ['{addr}']\n",
            ca.display()
        )
    };
    let config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n{}{}{}",
        job("good", "https", "s3cret"),
        job("wrong-password", "https", "guess"),
        job("plain-http", "http", "s3cret"),
    );
    let prometheus = Prometheus::start(&config, &[]);

    let targets = || -> Option<Vec<serde_json::Value>> {
        let (_, body) = support::http_get(&format!("{}/api/v1/targets", prometheus.url)).ok()?;
        let v: serde_json::Value = serde_json::from_str(&body).ok()?;
        v["data"]["activeTargets"].as_array().cloned()
    };
    let health = |job: &str| -> Option<(String, String)> {
        targets()?
            .into_iter()
            .find(|t| t["labels"]["job"] == job)
            .and_then(|t| {
                let h = t["health"].as_str()?.to_string();
                (h != "unknown").then(|| (h, t["lastError"].as_str().unwrap_or("").to_string()))
            })
    };
    let (good, error) = wait_for("the https target scraped", Duration::from_secs(60), || {
        health("good").filter(|(h, _)| h == "up")
    });
    assert_eq!(good, "up", "{error}");
    let data = wait_for("photon data over TLS", Duration::from_secs(30), || {
        let data = prometheus.query("photon_queue_depth{job=\"good\"}").ok()?;
        (!data["result"].as_array()?.is_empty()).then_some(data)
    });
    assert_eq!(data["result"][0]["value"][1], "42");

    let (h, error) = wait_for(
        "the wrong-password target scraped",
        Duration::from_secs(30),
        || health("wrong-password"),
    );
    assert_eq!(h, "down");
    assert!(error.contains("401"), "a wrong password gets 401: {error}");

    let (h, error) = wait_for(
        "the plain-http target scraped",
        Duration::from_secs(30),
        || health("plain-http"),
    );
    assert_eq!(h, "down", "plain HTTP must not get metrics: {error}");
}
