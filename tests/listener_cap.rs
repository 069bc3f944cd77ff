//! The listener's connection cap: once it is reached, a new connection is
//! closed as soon as it is accepted (never queued), and slots come back as
//! connections close.

mod support;

use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::raw_http::{closed_by_server, request};

const CAP: usize = 50;

#[test]
fn connections_past_the_cap_are_closed_not_queued() {
    // A long header timeout, so nothing the test holds expires on its own.
    let exporter = PrometheusExporterBuilder::new()
        .listen("127.0.0.1:0".parse().unwrap())
        .max_connections(CAP)
        // Every client here comes from 127.0.0.1: this binary tests the
        // total cap and timeouts, not the per-peer share (listener_attacks).
        .max_connections_per_peer(CAP)
        .header_read_timeout(Duration::from_secs(60))
        .install()
        .unwrap();
    let addr = exporter.local_addr().unwrap();
    let mut held: Vec<TcpStream> = (0..CAP)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();

    // Probe until a connection is closed at once: that happens only when
    // the cap is full. Probes accepted before that (the listener had not
    // yet taken all the held ones) are held too; at most a few.
    let start = Instant::now();
    let closed_at_once = loop {
        let mut probe = TcpStream::connect(addr).unwrap();
        if closed_by_server(&mut probe, Duration::from_millis(500)) {
            break true;
        }
        held.push(probe);
        if start.elapsed() > Duration::from_secs(20) {
            break false;
        }
    };
    assert!(
        closed_at_once,
        "no connection was refused with {} held and a cap of {CAP}",
        held.len()
    );
    assert!(
        held.len() <= CAP + 5,
        "{} connections were accepted past a cap of {CAP}",
        held.len()
    );

    // Another one is refused too, as long as the cap is full.
    let mut again = TcpStream::connect(addr).unwrap();
    assert!(closed_by_server(&mut again, Duration::from_secs(2)));

    drop(held);
    let response = support::wait_for(
        "a scrape after the held connections closed",
        Duration::from_secs(10),
        || {
            request(addr, "GET", "/metrics", &[], Duration::from_secs(2))
                .ok()
                .filter(|r| r.status == 200)
        },
    );
    assert!(response.text().contains("photon_queue_depth"));
}
