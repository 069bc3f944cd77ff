//! The listener's IP allowlist: a client from an address outside it gets
//! 403, one inside it gets the metrics.

mod support;

use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use socket2::{Domain, Socket, Type};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use support::raw_http::request_on;

fn connect_from(source: &str, to: SocketAddr) -> TcpStream {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket
        .bind(&format!("{source}:0").parse::<SocketAddr>().unwrap().into())
        .unwrap();
    socket.connect(&to.into()).unwrap();
    socket.into()
}

#[test]
fn addresses_outside_the_allowlist_get_403() {
    let exporter = PrometheusExporterBuilder::new()
        .listen("0.0.0.0:0".parse().unwrap())
        .allow("127.0.0.1/32")
        .unwrap()
        .install()
        .unwrap();
    let port = exporter.local_addr().unwrap().port();
    let to: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let t = Duration::from_secs(5);

    let denied = request_on(connect_from("127.0.0.2", to), "GET", "/metrics", &[], t).unwrap();
    assert_eq!(denied.status, 403);
    assert!(!denied.text().contains("photon_"), "{}", denied.text());

    let allowed = request_on(connect_from("127.0.0.1", to), "GET", "/metrics", &[], t).unwrap();
    assert_eq!(allowed.status, 200);
    assert!(allowed
        .text()
        .contains("# TYPE photon_compilations_total counter"));
}
