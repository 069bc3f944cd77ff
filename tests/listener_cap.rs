//! The listener's connection cap: it holds however many connections
//! arrive, and at the cap a newcomer makes room by closing the oldest
//! connection that has sent no request, so connections nobody uses never
//! shut a scraper out; slots come back as connections close.

mod support;

use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::raw_http::{closed_by_server, request};

const CAP: usize = 48;
/// An eighth of the cap is kept for peers that were answered a scrape.
const STRANGERS: usize = CAP - CAP / 8;

#[test]
fn at_the_cap_the_oldest_unused_connections_make_room() {
    // A long header timeout, so nothing the test holds expires on its own.
    let exporter = PrometheusExporterBuilder::new()
        .listen("127.0.0.1:0".parse().unwrap())
        .max_connections(CAP)
        // Every client here comes from 127.0.0.1: this binary tests the
        // total cap, not the per-peer share (listener_attacks).
        .max_connections_per_peer(CAP)
        .header_read_timeout(Duration::from_secs(60))
        .install()
        .unwrap();
    let addr = exporter.local_addr().unwrap();
    let mut held: Vec<TcpStream> = Vec::new();
    for _ in 0..CAP * 2 {
        held.push(TcpStream::connect(addr).unwrap());
        // Accepted in the order they were opened.
        std::thread::sleep(Duration::from_millis(3));
    }
    std::thread::sleep(Duration::from_millis(300));
    let closed: Vec<bool> = held
        .iter_mut()
        .map(|s| closed_by_server(s, Duration::from_millis(20)))
        .collect();
    let open = closed.iter().filter(|c| !**c).count();
    assert_eq!(
        open,
        STRANGERS,
        "{open} of {} connections are open with a cap of {CAP} ({STRANGERS} for strangers)",
        held.len()
    );
    assert!(
        closed[..CAP * 2 - STRANGERS].iter().all(|c| *c),
        "the oldest were closed to make room: {closed:?}"
    );

    // A scrape from a new connection is answered at once: it makes room.
    let start = Instant::now();
    let response = request(addr, "GET", "/metrics", &[], Duration::from_secs(5)).unwrap();
    assert_eq!(response.status, 200);
    assert!(response.text().contains("photon_queue_depth"));
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "a scrape at the cap took {:?}",
        start.elapsed()
    );

    // Slots come back as the held connections close.
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
