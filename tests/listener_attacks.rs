//! Attacks without credentials on a listener serving a large body (8,000
//! series, about 0.9 MB): a render flood from clients that leave at once,
//! 512 slow readers that send a request and never read, and 512 more from
//! 64 addresses that stay connected after the write timeout drops them. During each, a
//! legitimate scrape from another address answers in under 1 s; right
//! after, too; and the server's threads are idle again within 2 s.

mod support;

use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use support::attack::{connect_from, rss_kib, scrape, scrape_while, server_cpu_over, Flood};

const SERIES: usize = 8_000;
const WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// A legitimate scrape must answer within this, during and after an attack.
const SCRAPE_BOUND: Duration = Duration::from_secs(1);
/// The server's CPU over one second, measured 2 s after an attack ended.
const IDLE_CPU: Duration = Duration::from_millis(100);

fn large_body() {
    let padding = "x".repeat(64);
    for i in 0..SERIES {
        let family = format!("app_attack_series_{}", i % 20);
        metrics::gauge!(family, "instance" => format!("{padding}-{i}")).set(i as f64);
    }
}

/// Server-side connections from 127.0.0.1 (the attacker) that are open.
fn attacker_connections(port: u16) -> usize {
    let local = format!(":{port:04X}");
    std::fs::read_to_string("/proc/net/tcp")
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f[1].ends_with(&local) && f[2].starts_with("0100007F:") && f[3] == "01"
        })
        .count()
}

fn assert_idle_after(what: &str) {
    std::thread::sleep(Duration::from_secs(2));
    let cpu = server_cpu_over(Duration::from_secs(1));
    eprintln!("{what}: server CPU over 1 s, 2 s after the attack: {cpu:?}");
    assert!(
        cpu <= IDLE_CPU,
        "{what}: the server still used {cpu:?} of CPU in a second, 2 s after the attack ended"
    );
}

fn assert_scrape_fast(to: SocketAddr, what: &str) {
    let (response, took) = scrape(to, &[("Accept-Encoding", "gzip")]);
    assert_eq!(response.unwrap().status, 200);
    eprintln!("{what}: a legitimate scrape took {took:?}");
    assert!(
        took < SCRAPE_BOUND,
        "{what}: a legitimate scrape took {took:?}"
    );
}

#[test]
fn floods_and_slow_readers_cannot_stall_a_scrape() {
    let exporter = PrometheusExporterBuilder::new()
        .listen("127.0.0.1:0".parse().unwrap())
        .write_timeout(WRITE_TIMEOUT)
        .install()
        .unwrap();
    large_body();
    let port = exporter.local_addr().unwrap().port();
    let to: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let (first, _) = scrape(to, &[]);
    let body = first.unwrap().body.len();
    assert!(body > 800_000, "the body is {body} bytes");
    for headers in [&[][..], &[("Accept-Encoding", "gzip")][..]] {
        let (_, took) = scrape(to, headers);
        eprintln!("a scrape with {headers:?} before any attack: {took:?}");
    }

    // 1. connect → GET with gzip → close, from 16 threads, 6 s.
    let flood = Flood::start(16, Duration::from_secs(6), move |_| {
        if let Ok(mut s) = TcpStream::connect(to) {
            let _ =
                s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n");
        }
    });
    std::thread::sleep(Duration::from_millis(500));
    let cpu_before = support::attack::server_cpu();
    let (scrapes, slowest) = scrape_while(
        to,
        &[("Accept-Encoding", "gzip")],
        Duration::from_secs(4),
        Duration::from_millis(100),
        200,
    );
    let sent = flood.stop();
    eprintln!(
        "render flood: server CPU {:?} over 4 s",
        support::attack::server_cpu() - cpu_before
    );
    eprintln!("render flood: {sent} requests; {scrapes} legitimate scrapes during it, slowest {slowest:?}");
    assert!(sent > 1_000, "the flood sent only {sent} requests");
    assert!(
        slowest < SCRAPE_BOUND,
        "a scrape during the render flood took {slowest:?}"
    );
    assert_scrape_fast(to, "right after the render flood");
    assert_idle_after("render flood");

    // 2. 512 slow readers: a GET each, then never a read.
    let baseline = rss_kib();
    let readers: Vec<TcpStream> = (0..512)
        .map(|_| {
            let mut s = connect_from("127.0.0.1", to, Some(4096));
            s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let held = attacker_connections(port);
    let grown = rss_kib().saturating_sub(baseline);
    eprintln!("slow readers: {held} held by the server, RSS +{grown} KiB");
    assert!(
        held <= 256,
        "one peer holds {held} connections (its share is 256)"
    );
    assert!(
        grown < 24 * 1024,
        "512 slow readers of a {body}-byte body grew RSS by {grown} KiB"
    );
    let (scrapes, slowest) = scrape_while(
        to,
        &[],
        Duration::from_secs(1),
        Duration::from_millis(100),
        200,
    );
    eprintln!("slow readers: {scrapes} legitimate scrapes, slowest {slowest:?}");
    assert!(
        slowest < SCRAPE_BOUND,
        "a scrape among slow readers took {slowest:?}"
    );
    // The write timeout ends the readers that never read, though they stay.
    support::wait_for(
        "the write timeout to close every slow reader",
        WRITE_TIMEOUT * 3,
        || (attacker_connections(port) == 0).then_some(()),
    );
    let after = rss_kib().saturating_sub(baseline);
    eprintln!("slow readers closed by the write timeout: RSS +{after} KiB");
    assert!(
        after < 24 * 1024,
        "RSS stayed {after} KiB above the baseline"
    );
    assert_scrape_fast(to, "after the slow readers");
    drop(readers);
    assert_idle_after("slow readers");

    // 3. 512 slow readers from 64 addresses (8 each, every one held), left
    //    connected after the write timeout drops them: the server resets
    //    them, so the kernel keeps no orphaned socket with unsent data.
    let (orphans_before, mem_before) = tcp_sockstat();
    let sources = support::attack::attackers(64);
    let readers: Vec<TcpStream> = (0..512)
        .filter_map(|n| {
            let mut s = support::attack::try_connect_from(&sources[n % 64], to, Some(4096))?;
            s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                .ok()?;
            Some(s)
        })
        .collect();
    std::thread::sleep(WRITE_TIMEOUT * 3);
    let (orphans, mem) = tcp_sockstat();
    eprintln!(
        "{} slow readers from 64 addresses dropped by the write timeout, clients still connected: \
         {orphans} orphaned sockets (before: {orphans_before}), TCP memory {mem} pages (before: {mem_before})",
        readers.len()
    );
    assert!(readers.len() >= 500, "only {} connected", readers.len());
    assert!(
        orphans <= orphans_before + 8,
        "{orphans} orphaned sockets hold unsent data for dropped readers (before: {orphans_before})"
    );
    drop(readers);
}

/// `/proc/net/sockstat`'s TCP orphans and memory (pages).
fn tcp_sockstat() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/net/sockstat").unwrap();
    let tcp = text.lines().find(|l| l.starts_with("TCP:")).unwrap();
    let field = |name: &str| -> u64 {
        let words: Vec<&str> = tcp.split_whitespace().collect();
        let at = words.iter().position(|w| *w == name).unwrap();
        words[at + 1].parse().unwrap()
    };
    (field("orphan"), field("mem"))
}
