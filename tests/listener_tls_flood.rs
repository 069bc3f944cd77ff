//! A wrong-password flood over TLS with the machine's other core busy (a
//! defence must not depend on an idle machine): 32 low-priority threads,
//! each a full handshake → GET with a new wrong password → close, while a
//! thread at normal priority spins. The scraper answers in under 1 s
//! during and right after; the server is idle 2 s after.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::attack::{connect_from, server_cpu_over, Flood};
use support::raw_http::basic_auth;
use support::tls::{client_config, guess, tls_web_config};
use support::TempDir;

#[test]
fn a_tls_flood_on_a_busy_machine_cannot_stall_a_scrape() {
    let dir = TempDir::new("tls-flood");
    let hash = bcrypt::hash("s3cret", 10).unwrap();
    let web = tls_web_config(&dir, &hash);
    let (_exporter, to) = support::init::installed_with_web_config(&web);
    let config = client_config(&dir);
    let good = basic_auth("prometheus:s3cret");
    let scrape = |config: &Arc<rustls::ClientConfig>| {
        support::tls::scrape(config, to, &[("Authorization", &good)])
    };
    let (first, _) = scrape(&config);
    assert_eq!(first.unwrap().status, 200);

    // The other core, busy at normal priority.
    let spin = Arc::new(AtomicBool::new(true));
    let spinner = {
        let spin = spin.clone();
        std::thread::spawn(move || {
            while spin.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
        })
    };
    let attack_config = config.clone();
    let flood = Flood::start(32, Duration::from_secs(20), move |n| {
        let tcp = connect_from("127.0.0.1", to, None);
        let _ = guess(&attack_config, tcp, n, Duration::from_secs(10));
    });
    std::thread::sleep(Duration::from_millis(500));
    let mut slowest = Duration::ZERO;
    for n in 0..20 {
        let (response, took) = scrape(&config);
        let status = response.map(|r| r.status);
        assert!(
            matches!(status, Ok(200)),
            "scrape {n} during the TLS flood: {status:?}"
        );
        slowest = slowest.max(took);
        std::thread::sleep(Duration::from_millis(150));
    }
    let sent = flood.stop();
    let (after, took) = scrape(&config);
    spin.store(false, Ordering::Relaxed);
    spinner.join().unwrap();
    eprintln!("TLS flood: {sent} attempts; 20 scrapes, slowest {slowest:?}; right after: {took:?}");
    assert_eq!(after.unwrap().status, 200);
    assert!(
        slowest < Duration::from_secs(1),
        "a scrape during the TLS flood took {slowest:?}"
    );
    assert!(
        took < Duration::from_secs(1),
        "a scrape right after took {took:?}"
    );
    std::thread::sleep(Duration::from_secs(2));
    let idle = server_cpu_over(Duration::from_secs(1));
    eprintln!("server CPU over 1 s, 2 s after: {idle:?}");
    assert!(
        idle <= Duration::from_millis(100),
        "the server used {idle:?} a second after"
    );
}
