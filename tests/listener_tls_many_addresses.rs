//! TLS ClientHello-and-close from 199 loopback addresses, with an RSA-2048
//! and with an ECDSA P-256 certificate: each hello makes the server sign
//! (the handshake's one expensive step) for the price of a write. With
//! handshakes on their own thread, trusted scrapers first and a budget per
//! peer, a scraper opening a new TLS connection every 150 ms answers 200
//! in under 1 s during and 1 s after, and the server is idle within 2 s.
//! Then everything at once over TLS with basic auth: hellos, wrong
//! passwords, idle holders and slowloris, each from its own ~50 addresses.

mod support;

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;
use support::attack::{
    attackers, rss_kib, server_cpu_over, try_connect_from, Flood, Hold, Holders,
};
use support::raw_http::basic_auth;
use support::tls::{certificate_with, client_config, guess, web_config};
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

/// Hellos from 199 addresses; with `mixed`, basic auth too and hellos,
/// wrong passwords, idle holders and slowloris from 49–50 addresses each.
fn hello_flood(key: &str, newkey: &[&str], mixed: bool) {
    let dir = TempDir::new(&format!("tls-hellos-{}", key.len()));
    certificate_with(&dir, newkey);
    // bcrypt cost 10, as `htpasswd -B -C 10` writes it.
    let hash = mixed.then(|| bcrypt::hash("s3cret", 10).unwrap());
    let web = web_config(&dir, hash.as_deref());
    let good = basic_auth("prometheus:s3cret");
    let (_exporter, to) = support::init::installed_with_web_config(&web);
    let config = client_config(&dir);
    let scrape = || {
        let (response, took) = support::tls::scrape(&config, to, &[("Authorization", &good)]);
        (response.map(|r| r.status).ok(), took)
    };
    let (first, took) = scrape();
    assert_eq!(first, Some(200));
    eprintln!("{key}: first scrape {took:?}");

    let baseline = rss_kib();
    let hello = client_hello(&config);
    let all = attackers(199);
    // The same attack three times. The first rounds raise the tables' and
    // the allocator's high-water mark (measured: +3, +14, +14, +15, +14 MB
    // after five rounds of RSA hellos); past it a round adds next to
    // nothing, and a leak would add the same again every round.
    let mut kept_after = Vec::new();
    for round in 1..=3 {
        let hello = hello.clone();
        let (hello_sources, rest) = all.split_at(if mixed { 50 } else { 199 });
        let hello_sources = hello_sources.to_vec();
        let flood = Flood::start(16, Duration::from_secs(20), move |n| {
            let source = &hello_sources[n as usize % hello_sources.len()];
            if let Some(mut s) = try_connect_from(source, to, None) {
                let _ = s.write_all(&hello);
            }
        });
        let mut others = Vec::new();
        let mut guesses = None;
        if mixed {
            let (guessers, rest) = rest.split_at(50);
            let (idle, loris) = rest.split_at(50);
            others.push(Holders::start(
                to,
                idle,
                8,
                Hold::Idle,
                Duration::from_secs(20),
            ));
            others.push(Holders::start(
                to,
                loris,
                8,
                Hold::Slowloris,
                Duration::from_secs(20),
            ));
            let (guessers, config) = (guessers.to_vec(), config.clone());
            guesses = Some(Flood::start(8, Duration::from_secs(20), move |n| {
                let source = &guessers[n as usize % guessers.len()];
                if let Some(tcp) = try_connect_from(source, to, None) {
                    let _ = guess(&config, tcp, n, Duration::from_secs(5));
                }
            }));
        }
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
        let guessed = guesses.map_or(0, Flood::stop);
        let reopened: u64 = others.into_iter().map(Holders::stop).sum();
        std::thread::sleep(Duration::from_secs(1));
        let (after, after_took) = scrape();
        std::thread::sleep(Duration::from_secs(1));
        let idle = server_cpu_over(Duration::from_secs(1));
        let kept = rss_kib().saturating_sub(baseline);
        eprintln!(
        "{key}: {sent} hellos, {guessed} wrong passwords, {reopened} held connections reopened; \
         25 scrapes, slowest {slowest:?}; 1 s after: {after_took:?}; \
         server CPU over 1 s, 2 s after: {idle:?}; RSS +{kept} KiB after"
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
        kept_after.push(kept);
        eprintln!("{key}: round {round} done");
    }
    // Each round opens 50,000 connections or more (thousands of
    // handshakes): a leak of 80 bytes a connection would fail this.
    let added = kept_after[2].saturating_sub(kept_after[1]);
    assert!(
        added < 4 * 1024,
        "{key}: the third round added {added} KiB to RSS (after {kept_after:?} KiB)"
    );
}

/// One exporter a process: each certificate kind runs in a child process
/// of this test binary, chosen by this variable.
const KEY_VAR: &str = "PHOTON_TEST_TLS_KEY";

#[test]
fn client_hellos_from_many_addresses_cannot_stall_a_scrape() {
    match std::env::var(KEY_VAR).as_deref() {
        Ok("rsa") => return hello_flood("RSA-2048", &["-newkey", "rsa:2048"], false),
        Ok("ecdsa") => {
            return hello_flood(
                "ECDSA P-256",
                &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
                false,
            )
        }
        Ok("mixed") => {
            return hello_flood(
                "everything at once, ECDSA P-256 and basic auth",
                &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
                true,
            )
        }
        _ => {}
    }
    for key in ["rsa", "ecdsa", "mixed"] {
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
