//! Memory alerts out of the box: an application that records nothing about
//! memory still serves its resident memory (now and peak) and the standard
//! `process_*` families on `/metrics`, sampled at each scrape.

mod support;

use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use std::net::SocketAddr;

fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{series} missing:\n{text}"))
        .parse()
        .unwrap()
}

fn vm_rss_bytes() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .unwrap()
        .trim()
        .trim_end_matches(" kB")
        .parse()
        .unwrap();
    kb * 1024.0
}

#[test]
fn a_scrape_carries_the_process_memory_without_application_code() {
    let exporter = PrometheusExporterBuilder::new()
        .listen(SocketAddr::from(([127, 0, 0, 1], 0)))
        .install()
        .unwrap();
    let url = format!("http://{}/metrics", exporter.local_addr().unwrap());
    let (status, first) = support::http_get(&url).unwrap();
    assert_eq!(status, 200);

    let current = value(
        &first,
        r#"photon_memory_usage_bytes{target="process",memory="current"}"#,
    );
    let rss = vm_rss_bytes();
    assert!(
        current > rss / 2.0 && current < rss * 2.0,
        "sampled resident {current} B, /proc says {rss} B"
    );
    let resident = value(&first, "process_resident_memory_bytes");
    assert!(
        resident > rss / 2.0 && resident < rss * 2.0,
        "{resident} vs {rss}"
    );
    assert!(value(&first, "process_open_fds") >= 3.0);
    assert!(value(&first, "process_max_fds") >= value(&first, "process_open_fds"));
    let start = value(&first, "process_start_time_seconds");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(
        start <= now && start > now - 3600.0,
        "start {start}, now {now}"
    );

    // Each scrape samples anew: a 64 MiB allocation, touched, shows up.
    let ballast = vec![1u8; 64 << 20];
    let (_, second) = support::http_get(&url).unwrap();
    let grown = value(
        &second,
        r#"photon_memory_usage_bytes{target="process",memory="current"}"#,
    );
    let peak = value(
        &second,
        r#"photon_memory_usage_bytes{target="process",memory="peak"}"#,
    );
    assert!(
        grown >= current + 60.0 * 1024.0 * 1024.0,
        "{current} -> {grown}"
    );
    assert!(peak >= grown);
    assert_eq!(ballast.iter().map(|&b| b as usize).sum::<usize>(), 64 << 20);
}
