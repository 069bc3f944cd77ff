//! Wrong passwords from 199 loopback addresses while a scraper arrives
//! whose credentials were never seen (after a restart, a rotation, a new
//! replica) and whose address never scraped. Its first check is a new
//! peer's, which displaces the guessers' checks (every address has asked
//! or failed by then), so it is answered 200 in under 1 s, and every
//! scrape after it too (its credentials are cached, its address trusted).

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::attack::{
    attackers, guess, rss_kib, scrape, scrape_while, server_cpu_over, try_connect_from, Flood,
};
use support::raw_http::basic_auth;
use support::TempDir;

#[test]
fn wrong_passwords_from_many_addresses_cannot_refuse_new_credentials() {
    let dir = TempDir::new("auth-many");
    // bcrypt cost 10, as `htpasswd -B -C 10` writes it.
    let web = dir.path().join("web.yml");
    std::fs::write(
        &web,
        format!(
            "basic_auth_users:\n  prometheus: {}\n",
            bcrypt::hash("s3cret", 10).unwrap()
        ),
    )
    .unwrap();
    let (_exporter, to) = support::init::installed_with_web_config(&web);
    let good = basic_auth("prometheus:s3cret");

    let baseline = rss_kib();
    let statuses: Arc<[AtomicU64; 4]> = Arc::new(Default::default());
    let (counts, sources) = (statuses.clone(), attackers(199));
    let flood = Flood::start(64, Duration::from_secs(20), move |n| {
        let Some(tcp) = try_connect_from(&sources[n as usize % sources.len()], to, None) else {
            return;
        };
        let response = guess(tcp, n, Duration::from_secs(10));
        let slot = match response.map(|r| r.status) {
            Ok(401) => 0,
            Ok(429) => 1,
            Ok(503) => 2,
            Ok(other) => panic!("a wrong password got {other}"),
            Err(_) => 3,
        };
        counts[slot].fetch_add(1, Ordering::Relaxed);
    });
    std::thread::sleep(Duration::from_secs(1));
    // The scraper's first request: new credentials, an address never seen.
    let (first, first_took) = scrape(to, &[("Authorization", &good)]);
    assert_eq!(first.unwrap().status, 200, "new credentials mid-flood");
    let (scrapes, slowest) = scrape_while(
        to,
        &[("Authorization", &good)],
        Duration::from_secs(4),
        Duration::from_millis(100),
        200,
    );
    let sent = flood.stop();
    std::thread::sleep(Duration::from_secs(1));
    let (after, after_took) = scrape(to, &[("Authorization", &good)]);
    std::thread::sleep(Duration::from_secs(1));
    let idle = server_cpu_over(Duration::from_secs(1));
    let kept = rss_kib().saturating_sub(baseline);
    let [denied, throttled, busy, closed] = statuses.each_ref().map(|c| c.load(Ordering::Relaxed));
    eprintln!(
        "wrong passwords from 199 addresses: {sent} requests: {denied} 401 (a bcrypt each), {throttled} 429, \
         {busy} 503, {closed} closed; new credentials answered in {first_took:?}; {scrapes} scrapes, slowest {slowest:?}; \
         1 s after: {after_took:?}; server CPU 2 s after: {idle:?}; RSS +{kept} KiB after"
    );
    assert!(sent > 1_000, "the flood sent only {sent} requests");
    assert!(
        first_took < Duration::from_secs(1),
        "new credentials took {first_took:?} mid-flood"
    );
    assert!(
        slowest < Duration::from_secs(1),
        "a scrape during took {slowest:?}"
    );
    assert_eq!(after.unwrap().status, 200);
    assert!(
        after_took < Duration::from_secs(1),
        "the scrape 1 s after took {after_took:?}"
    );
    // After 50,000 requests or more: a leak of 170 bytes each would fail this.
    assert!(kept < 8 * 1024, "RSS stayed +{kept} KiB after the attack");
    assert!(
        idle <= Duration::from_millis(100),
        "the server used {idle:?} a second, 2 s after"
    );
}
