//! The `/metrics` listener as clients meet it: routes, methods, content
//! negotiation, gzip, and hostile clients (idle, one byte a second) that
//! must not keep a normal scrape from answering. The connection cap has its
//! own test binary (`listener_cap.rs`).

mod support;

use photon_metrics::export::prometheus::{PrometheusExporter, PrometheusExporterBuilder};
use photon_metrics::runtime;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use support::raw_http::{closed_by_server, request, Response};

const HEADER_TIMEOUT: Duration = Duration::from_secs(2);
const MAX_CONNECTIONS: usize = 300;

/// The one exporter of this test binary; tests take `SERIAL` because they
/// count connections against the shared cap.
fn exporter() -> &'static PrometheusExporter {
    static EXPORTER: OnceLock<PrometheusExporter> = OnceLock::new();
    EXPORTER.get_or_init(|| {
        let exporter = PrometheusExporterBuilder::new()
            .listen("127.0.0.1:0".parse().unwrap())
            .header_read_timeout(HEADER_TIMEOUT)
            .max_connections(MAX_CONNECTIONS)
            // Every client here comes from 127.0.0.1: this binary tests the
            // header timeout and routes, not the per-peer share
            // (listener_attacks does).
            .max_connections_per_peer(MAX_CONNECTIONS)
            .install()
            .unwrap();
        runtime::set_queue_depth(7);
        exporter
    })
}

static SERIAL: Mutex<()> = Mutex::new(());

fn addr() -> SocketAddr {
    exporter().local_addr().unwrap()
}

fn scrape(timeout: Duration) -> std::io::Result<Response> {
    request(addr(), "GET", "/metrics", &[], timeout)
}

#[test]
fn routes_methods_and_content_negotiation() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let t = Duration::from_secs(5);

    let text = scrape(t).unwrap();
    assert_eq!(text.status, 200);
    // Rendering runs on one reused thread: scrapes start no threads.
    let threads = || std::fs::read_dir("/proc/self/task").unwrap().count();
    let before = threads();
    for _ in 0..20 {
        assert_eq!(scrape(t).unwrap().status, 200);
    }
    // Other tests' threads may end meanwhile, so the count may fall; a
    // thread per scrape (even one kept alive for a while) would raise it.
    assert!(
        threads() <= before,
        "scrapes started threads: {before} -> {}",
        threads()
    );
    assert_eq!(
        text.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert!(
        text.text().contains("photon_queue_depth 7"),
        "{}",
        text.text()
    );
    assert!(!text.text().contains("# EOF"));

    // What Prometheus sends: OpenMetrics wins.
    let prometheus_accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let om = request(
        addr(),
        "GET",
        "/metrics",
        &[("Accept", prometheus_accept)],
        t,
    )
    .unwrap();
    assert_eq!(om.status, 200);
    assert_eq!(
        om.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    assert!(om.text().ends_with("# EOF\n"), "{}", om.text());
    assert!(om.text().contains("# TYPE photon_compilations counter"));

    let gz = request(addr(), "GET", "/metrics", &[("Accept-Encoding", "gzip")], t).unwrap();
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    let mut unzipped = String::new();
    flate2::read::GzDecoder::new(&gz.body[..])
        .read_to_string(&mut unzipped)
        .unwrap();
    assert!(unzipped.contains("photon_queue_depth 7"), "{unzipped}");
    assert!(gz.body.len() < unzipped.len() / 2);

    let head = request(addr(), "HEAD", "/metrics", &[], t).unwrap();
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());

    let missing = request(addr(), "GET", "/other", &[], t).unwrap();
    assert_eq!(missing.status, 404);
    let post = request(addr(), "POST", "/metrics", &[("Content-Length", "0")], t).unwrap();
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("GET, HEAD"));

    // A request head over the 16 KiB limit is refused, and the listener
    // goes on serving.
    let huge = "x".repeat(20 * 1024);
    let refused = request(addr(), "GET", "/metrics", &[("X-Huge", &huge)], t);
    assert!(
        refused.as_ref().map_or(true, |r| r.status == 431),
        "{refused:?}"
    );
    assert_eq!(scrape(t).unwrap().status, 200);
}

#[test]
fn idle_and_trickling_clients_do_not_delay_a_scrape() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut idle: Vec<TcpStream> = (0..200)
        .map(|_| TcpStream::connect(addr()).unwrap())
        .collect();
    let mut slow: Vec<TcpStream> = (0..50)
        .map(|_| TcpStream::connect(addr()).unwrap())
        .collect();
    let request_bytes = b"GET /metrics HTTP/1.1\r\nHost: slow\r\n\r\n";
    let started = Instant::now();
    let mut sent = 0;
    // One byte a second on each slow connection while scraping normally.
    while started.elapsed() < Duration::from_secs(4) {
        for s in &mut slow {
            let _ = s.write_all(&request_bytes[sent % request_bytes.len()..][..1]);
        }
        sent += 1;
        let t0 = Instant::now();
        let response = scrape(Duration::from_secs(1))
            .unwrap_or_else(|e| panic!("a normal scrape failed under 250 hostile clients: {e}"));
        assert_eq!(response.status, 200);
        assert!(t0.elapsed() < Duration::from_secs(1));
        std::thread::sleep(Duration::from_millis(1000).saturating_sub(t0.elapsed()));
    }
    // Past the header-read timeout the server has closed both kinds.
    for s in idle.iter_mut().chain(slow.iter_mut()) {
        assert!(
            closed_by_server(s, HEADER_TIMEOUT * 2),
            "a client that never finished its request head is still connected"
        );
    }
}
