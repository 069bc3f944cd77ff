//! Fault: the scraping Prometheus is killed (SIGKILL) and restarted on the
//! same storage while two threads record. The exporter's counters continue
//! where they were (Prometheus sees no reset), and once the writers stop
//! the exposition holds exactly what they recorded.

mod support;

use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use photon_metrics::labels::Target;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use support::{wait_for, Prometheus};

fn value(prometheus: &Prometheus, query: &str) -> Option<f64> {
    let data = prometheus.query(query).ok()?;
    data["result"][0]["value"][1].as_str()?.parse().ok()
}

#[test]
fn a_scraper_restart_sees_the_counters_continue() {
    let exporter = PrometheusExporterBuilder::new()
        .listen("127.0.0.1:0".parse().unwrap())
        .install()
        .unwrap();
    let target = Target::new("ring-8").unwrap();
    let stop = AtomicBool::new(false);
    let config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: photon\n    static_configs:\n      - targets: ['{}']\n",
        exporter.local_addr().unwrap()
    );
    let recorded: u64 = std::thread::scope(|s| {
        let writers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let mut n = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        photon_metrics::compiler::record_cache_hit(target);
                        n += 1;
                        if n % 1024 == 0 {
                            std::thread::sleep(Duration::from_millis(1));
                        }
                    }
                    n
                })
            })
            .collect();

        let mut prometheus = Prometheus::start(&config, &[]);
        prometheus.wait_for_targets_up(Duration::from_secs(60));
        let query = "photon_cache_hits_total{target=\"ring-8\"}";
        let before = wait_for("a first scrape", Duration::from_secs(30), || {
            value(&prometheus, query)
        });
        prometheus.kill_and_restart(Duration::from_secs(2));
        prometheus.wait_for_targets_up(Duration::from_secs(60));
        let after = wait_for(
            "a scrape after the restart",
            Duration::from_secs(30),
            || value(&prometheus, query).filter(|v| *v > before),
        );
        assert!(after > before, "{before} -> {after}");
        eprintln!("figures: counter {before} before the SIGKILL, {after} after the restart");
        let resets = wait_for("resets() over the restart", Duration::from_secs(10), || {
            value(&prometheus, &format!("resets({query}[5m])"))
        });
        assert_eq!(
            resets, 0.0,
            "the counter went down across the scraper restart"
        );
        stop.store(true, Ordering::Relaxed);
        writers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    let samples = support::exposition::parse(&exporter.render());
    assert_eq!(
        support::exposition::value(&samples, "photon_cache_hits_total", &[("target", "ring-8")]),
        Some(recorded as f64),
        "every record is there"
    );
}
