//! `examples/own-families.rs` run as a new user runs it: its two families
//! are in the first scrape with `# HELP` and `# TYPE`, promtool accepts the
//! exposition, and a real Prometheus scraping it stores them, labels and
//! all, next to the catalog's.

mod support;

use std::process::Command;
use std::time::Duration;
use support::{http_get, wait_for, Process, Prometheus, TempDir};

fn start(dir: &TempDir, seconds: u32) -> (Process, u16) {
    let port = support::free_port();
    let mut command = Command::new(support::stack::example_binary("own-families"));
    command.args([
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--duration",
        &seconds.to_string(),
    ]);
    let process = Process::spawn("own-families", command, dir.path().join("example.log"));
    (process, port)
}

#[test]
fn the_first_scrape_has_both_families_and_promtool_accepts_it() {
    let dir = TempDir::new("own-families");
    let (mut process, port) = start(&dir, 30);
    let url = format!("http://127.0.0.1:{port}/metrics");
    // The very first answer has both, though the example never registers
    // them: install found them, whether or not the loop has recorded yet.
    let body = wait_for(
        "the example to serve /metrics",
        Duration::from_secs(30),
        || {
            process.assert_running();
            http_get(&url)
                .ok()
                .filter(|(s, _)| *s == 200)
                .map(|(_, b)| b)
        },
    );
    for line in [
        "# HELP app_kernel_launches_total Kernels launched on the accelerator, by dialect, tenant and outcome.",
        "# TYPE app_kernel_launches_total counter",
        "# HELP app_queue_wait_seconds Time a kernel waited in the queue before it ran, in seconds, by dialect and target.",
        "# TYPE app_queue_wait_seconds histogram",
        "# TYPE photon_compilations_total counter",
    ] {
        assert!(body.lines().any(|l| l == line), "no `{line}` in the first scrape:\n{body}");
    }
    // After some records: the series, and promtool's verdict on all of it.
    std::thread::sleep(Duration::from_millis(500));
    let (_, body) = http_get(&url).unwrap();
    assert!(
        body.lines()
            .any(|l| l.starts_with("app_kernel_launches_total{dialect=\"")
                && l.contains("tenant=\"acme\"")
                && l.contains("status=\"success\"")),
        "{body}"
    );
    assert!(
        body.lines().any(
            |l| l.starts_with("app_queue_wait_seconds_bucket{dialect=\"")
                && l.contains("target=\"mzi-64x64\"")
        ),
        "{body}"
    );
    let (ok, out) = support::promtool_check_metrics(&body);
    assert!(ok, "promtool check metrics: {out}\n{body}");
    process.signal("TERM");
    process.wait_exit(Duration::from_secs(10));
}

#[test]
fn a_real_prometheus_stores_the_application_families() {
    let dir = TempDir::new("own-families-prometheus");
    let (mut process, port) = start(&dir, 60);
    support::wait_for_metrics(&mut process, port);
    let config = format!(
        "global:\n  scrape_interval: 1s\n\
         scrape_configs:\n  - job_name: own-families\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
    );
    let mut prometheus = Prometheus::start(&config, &[]);
    prometheus.wait_for_targets_up(Duration::from_secs(30));
    let queries = [
        "sum by (dialect, tenant, status) (app_kernel_launches_total)",
        "sum by (le, dialect) (app_queue_wait_seconds_bucket)",
        "sum(app_queue_wait_seconds_count) > 0",
    ];
    for q in queries {
        let result = wait_for(
            &format!("Prometheus to store `{q}`"),
            Duration::from_secs(30),
            || {
                process.assert_running();
                let data = prometheus.query(q).ok()?;
                let result = data["result"].as_array()?.clone();
                (!result.is_empty()).then_some(result)
            },
        );
        if q.starts_with("sum by (dialect") {
            let tenants: Vec<&str> = result
                .iter()
                .filter_map(|r| r["metric"]["tenant"].as_str())
                .collect();
            for t in ["acme", "globex", "initech"] {
                assert!(tenants.contains(&t), "tenant {t} missing from {result:?}");
            }
            assert!(
                result
                    .iter()
                    .any(|r| r["metric"]["status"] == "error"
                        && r["metric"]["dialect"] == "stablehlo")
            );
        }
    }
    // The catalog's self-monitoring, from the same target, covers the
    // application's open label: its cap and how many values it holds.
    let cap = wait_for(
        "the tenant label's cap in Prometheus",
        Duration::from_secs(30),
        || {
            let data = prometheus
                .query("photon_metrics_label_cap{label=\"tenant\"}")
                .ok()?;
            data["result"].as_array()?.first()?["value"][1]
                .as_str()
                .map(str::to_string)
        },
    );
    assert_eq!(cap, "16");
    let held = prometheus
        .query("photon_metrics_label_values{label=\"tenant\"}")
        .unwrap();
    assert_eq!(held["result"][0]["value"][1], "3", "{held}");
    let meta = http_get(&format!(
        "{}/api/v1/metadata?metric=app_queue_wait_seconds",
        prometheus.url
    ))
    .unwrap()
    .1;
    assert!(meta.contains("\"type\":\"histogram\""), "{meta}");
    assert!(meta.contains("Time a kernel waited in the queue"), "{meta}");
    process.signal("TERM");
    process.wait_exit(Duration::from_secs(10));
}
