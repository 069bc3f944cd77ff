//! A wrong-password flood against `/metrics` with basic auth (a web-config
//! file, plain HTTP): 64 low-priority threads, each connect → GET with a
//! new wrong password → read → close. A scraper whose password verified
//! before, and one whose password is first seen during the flood, both
//! answer in under 1 s during and right after it; the server's threads
//! are idle again within 2 s; the attacker gets one bcrypt a second.

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::attack::{
    connect_from, guess, scrape, scrape_while, server_cpu, server_cpu_over, Flood,
};
use support::raw_http::{basic_auth, request_on};
use support::TempDir;

const SCRAPE_BOUND: Duration = Duration::from_secs(1);
const IDLE_CPU: Duration = Duration::from_millis(100);

#[test]
fn wrong_passwords_at_rate_cannot_stall_a_scrape() {
    let dir = TempDir::new("auth-flood");
    // bcrypt cost 10, as `htpasswd -B -C 10` writes it.
    let hash = |p: &str| bcrypt::hash(p, 10).unwrap();
    let web = dir.path().join("web.yml");
    std::fs::write(
        &web,
        format!(
            "basic_auth_users:\n  prometheus: {}\n  backup: {}\n",
            hash("s3cret"),
            hash("b4ckup")
        ),
    )
    .unwrap();
    let (_exporter, to) = support::init::installed_with_web_config(&web);
    let good = basic_auth("prometheus:s3cret");
    let (first, took) = scrape(to, &[("Authorization", &good)]);
    assert_eq!(first.unwrap().status, 200);
    eprintln!("first scrape (one bcrypt): {took:?}");

    let denied = Arc::new(AtomicU64::new(0));
    let throttled = Arc::new(AtomicU64::new(0));
    let (d, t) = (denied.clone(), throttled.clone());
    let cpu_before = server_cpu();
    let flood = Flood::start(64, Duration::from_secs(10), move |n| {
        let response = guess(
            connect_from("127.0.0.1", to, None),
            n,
            Duration::from_secs(10),
        );
        match response.map(|r| r.status) {
            Ok(401) => d.fetch_add(1, Ordering::Relaxed),
            Ok(429) => t.fetch_add(1, Ordering::Relaxed),
            Ok(other) => panic!("a wrong password got {other}"),
            Err(_) => 0,
        };
    });
    std::thread::sleep(Duration::from_millis(500));
    // A scraper whose password is new, from another host, mid-flood.
    let cold_start = std::time::Instant::now();
    let cold = request_on(
        connect_from("127.0.0.3", to, None),
        "GET",
        "/metrics",
        &[("Authorization", &basic_auth("backup:b4ckup"))],
        Duration::from_secs(30),
    );
    let cold_took = cold_start.elapsed();
    assert_eq!(cold.unwrap().status, 200, "a new, right password mid-flood");
    assert!(
        cold_took < SCRAPE_BOUND,
        "a new, right password took {cold_took:?} mid-flood"
    );
    let (scrapes, slowest) = scrape_while(
        to,
        &[("Authorization", &good)],
        Duration::from_secs(5),
        Duration::from_millis(100),
        200,
    );
    let lasted = flood.elapsed();
    let sent = flood.stop();
    let cpu = server_cpu() - cpu_before;
    let (denied, throttled) = (
        denied.load(Ordering::Relaxed),
        throttled.load(Ordering::Relaxed),
    );
    eprintln!(
        "wrong-password flood: {sent} requests, {denied} answered 401 (a bcrypt each), \
         {throttled} answered 429, the rest closed at accept (connection rate); server CPU {cpu:?}; {scrapes} scrapes, slowest {slowest:?}; \
         the new password answered in {cold_took:?}"
    );
    assert!(sent > 1_000, "the flood sent only {sent} requests");
    assert!(
        slowest < SCRAPE_BOUND,
        "a scrape during the flood took {slowest:?}"
    );
    // A burst of 4, then one a second while the flood lasted.
    let allowed = 4 + lasted.as_secs_f64().ceil() as u64;
    assert!(
        denied <= allowed,
        "{denied} wrong passwords were checked with bcrypt in {lasted:?} from one address (at most {allowed})"
    );

    let (after, took) = scrape(to, &[("Authorization", &good)]);
    assert_eq!(after.unwrap().status, 200);
    assert!(
        took < SCRAPE_BOUND,
        "a scrape right after the flood took {took:?}"
    );
    std::thread::sleep(Duration::from_secs(2));
    let idle = server_cpu_over(Duration::from_secs(1));
    eprintln!("server CPU over 1 s, 2 s after the flood: {idle:?}");
    assert!(
        idle <= IDLE_CPU,
        "the server used {idle:?} a second after the flood"
    );
}
