//! The listener's IP allowlist: a client from an address outside it gets
//! 403, one inside it gets the metrics, and the allowlist is applied at
//! accept: a denied peer holding 600 idle connections and opening more as
//! fast as it can takes no slot from an allowed scraper.

mod support;

use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use support::attack::{connect_from, scrape, server_cpu_over, Flood, SCRAPER};
use support::raw_http::request_on;

#[test]
fn denied_peers_get_403_and_cannot_crowd_out_allowed_ones() {
    let exporter = PrometheusExporterBuilder::new()
        .listen("0.0.0.0:0".parse().unwrap())
        .allow(&format!("{SCRAPER}/32"))
        .unwrap()
        .install()
        .unwrap();
    let port = exporter.local_addr().unwrap().port();
    let to: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let t = Duration::from_secs(5);

    let denied = request_on(
        connect_from("127.0.0.1", to, None),
        "GET",
        "/metrics",
        &[],
        t,
    )
    .unwrap();
    assert_eq!(denied.status, 403);
    assert!(!denied.text().contains("photon_"), "{}", denied.text());

    let allowed = request_on(connect_from(SCRAPER, to, None), "GET", "/metrics", &[], t).unwrap();
    assert_eq!(allowed.status, 200);
    assert!(allowed
        .text()
        .contains("# TYPE photon_compilations_total counter"));

    // The denied peer holds 600 idle connections (more than the cap of
    // 512) and opens and drops more from 4 threads.
    let held: Vec<TcpStream> = (0..600)
        .map(|_| connect_from("127.0.0.1", to, None))
        .collect();
    let flood = Flood::start(4, Duration::from_secs(30), move |_| {
        drop(TcpStream::connect(to));
    });
    // 30 scrapes, as many as the attack on the old listener failed 29 of.
    let mut slowest = Duration::ZERO;
    for n in 0..30 {
        let (response, took) = scrape(to, &[]);
        let status = response.map(|r| r.status);
        assert!(matches!(status, Ok(200)), "allowed scrape {n}: {status:?}");
        slowest = slowest.max(took);
        std::thread::sleep(Duration::from_millis(50));
    }
    let scrapes = 30;
    let sent = flood.stop();
    eprintln!(
        "denied peer: 600 held + {sent} opened; {scrapes} allowed scrapes, all 200, slowest {slowest:?}"
    );
    assert!(
        slowest < Duration::from_secs(1),
        "an allowed scrape took {slowest:?}"
    );
    drop(held);
    std::thread::sleep(Duration::from_secs(2));
    let idle = server_cpu_over(Duration::from_secs(1));
    eprintln!("server CPU over 1 s, 2 s after: {idle:?}");
    assert!(
        idle <= Duration::from_millis(100),
        "the server used {idle:?} a second after"
    );
}
