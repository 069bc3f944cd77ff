//! TLS ClientHello-and-close from 199 loopback addresses, with an RSA-2048
//! and with an ECDSA P-256 certificate: each hello makes the server sign
//! (the handshake's one expensive step) for the price of a write. With
//! handshakes on their own thread, trusted scrapers first and a budget per
//! peer, a scraper opening a new TLS connection every 150 ms answers 200
//! in under 1 s during and 1 s after, and the server is idle within 2 s.

mod support;

use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::attack::{attackers, connect_from, server_cpu_over, try_connect_from, Flood, SCRAPER};
use support::tls::{certificate_with, client_config, get};
use support::TempDir;

/// A ClientHello as a client sends it first, made once: replaying the
/// same bytes costs the attacker nothing and the server a full signature.
fn client_hello(config: &Arc<rustls::ClientConfig>) -> Vec<u8> {
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut conn = rustls::ClientConnection::new(config.clone(), name).unwrap();
    let mut hello = Vec::new();
    conn.write_tls(&mut hello).unwrap();
    hello
}

fn hello_flood(key: &str, newkey: &[&str]) {
    let dir = TempDir::new(&format!("tls-hellos-{key}"));
    certificate_with(&dir, newkey);
    let web = dir.path().join("web.yml");
    std::fs::write(
        &web,
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n",
    )
    .unwrap();
    let exporter = PrometheusExporterBuilder::new()
        .listen("127.0.0.1:0".parse().unwrap())
        .web_config_file(&web)
        .unwrap()
        .install()
        .unwrap();
    let to: SocketAddr = exporter.local_addr().unwrap();
    let config = client_config(&dir);
    let scrape = || {
        let start = Instant::now();
        let response = get(
            &config,
            connect_from(SCRAPER, to, None),
            "/metrics",
            &[],
            Duration::from_secs(30),
        );
        (response.map(|r| r.status).ok(), start.elapsed())
    };
    let (first, took) = scrape();
    assert_eq!(first, Some(200));
    eprintln!("{key}: first scrape {took:?}");

    let hello = client_hello(&config);
    let sources = attackers(199);
    let flood = Flood::start(16, Duration::from_secs(20), move |n| {
        if let Some(mut s) = try_connect_from(&sources[n as usize % sources.len()], to, None) {
            let _ = s.write_all(&hello);
        }
    });
    std::thread::sleep(Duration::from_millis(500));
    let mut slowest = Duration::ZERO;
    for n in 0..25 {
        let (status, took) = scrape();
        assert_eq!(
            status,
            Some(200),
            "{key}: scrape {n} during the hello flood ({took:?})"
        );
        slowest = slowest.max(took);
        std::thread::sleep(Duration::from_millis(150));
    }
    let sent = flood.stop();
    std::thread::sleep(Duration::from_secs(1));
    let (after, after_took) = scrape();
    std::thread::sleep(Duration::from_secs(1));
    let idle = server_cpu_over(Duration::from_secs(1));
    eprintln!(
        "{key}: {sent} hellos from 199 addresses; 25 scrapes, slowest {slowest:?}; 1 s after: {after_took:?}; \
         server CPU over 1 s, 2 s after: {idle:?}"
    );
    assert!(sent > 2_000, "{key}: the flood sent only {sent} hellos");
    assert!(
        slowest < Duration::from_secs(1),
        "{key}: a scrape during took {slowest:?}"
    );
    assert_eq!(after, Some(200));
    assert!(
        after_took < Duration::from_secs(1),
        "{key}: the scrape 1 s after took {after_took:?}"
    );
    assert!(
        idle <= Duration::from_millis(100),
        "{key}: the server used {idle:?} a second, 2 s after"
    );
}

/// One exporter a process: each certificate kind runs in a child process
/// of this test binary, chosen by this variable.
const KEY_VAR: &str = "PHOTON_TEST_TLS_KEY";

#[test]
fn client_hellos_from_many_addresses_cannot_stall_a_scrape() {
    match std::env::var(KEY_VAR).as_deref() {
        Ok("rsa") => return hello_flood("RSA-2048", &["-newkey", "rsa:2048"]),
        Ok("ecdsa") => {
            return hello_flood(
                "ECDSA P-256",
                &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
            )
        }
        _ => {}
    }
    for key in ["rsa", "ecdsa"] {
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "client_hellos_from_many_addresses_cannot_stall_a_scrape",
                "--nocapture",
            ])
            .env(KEY_VAR, key)
            .status()
            .unwrap();
        assert!(
            status.success(),
            "the {key} certificate's run failed (its output is above)"
        );
    }
}
