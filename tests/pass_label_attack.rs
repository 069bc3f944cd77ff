//! The `pass` label attacked as a compiler with plugins would: a flood of
//! distinct pass names (10× the cap, from 4 threads, each run timed and
//! some failing) while a legitimate client scrapes `/metrics`. The names
//! past the cap fold into `__overflow__` and are counted once each; the
//! pass families never hold more than the cap plus `__overflow__`; a
//! scrape during and after the flood answers fast.

mod support;

use photon_metrics::compiler;
use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use photon_metrics::labels::{self, Pass, Target, OVERFLOW_VALUE};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;
use support::attack::{scrape, scrape_while, Flood};
use support::exposition::parse;

/// What a legitimate scrape may take during the flood: the families' worst
/// case is 257 × 33 pass series, rendered while 4 threads record.
const SCRAPE_BOUND: Duration = Duration::from_secs(2);

#[test]
fn pass_names_past_the_cap_fold_and_scrapes_stay_fast() {
    let exporter = PrometheusExporterBuilder::new()
        .listen("127.0.0.1:0".parse().unwrap())
        .install()
        .unwrap();
    let port = exporter.local_addr().unwrap().port();
    let to: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let target = Target::new("plugin-target").unwrap();
    let cap = labels::cap(photon_metrics::labels::Pass::LABEL);
    let names = 10 * cap as u64;

    let flood = Flood::start(4, Duration::from_secs(20), move |n| {
        if n >= names {
            std::thread::sleep(Duration::from_millis(1));
            return;
        }
        let pass = Pass::new(&format!("plugin-pass-{n}")).unwrap();
        let mut run = compiler::start_pass(pass, target);
        if n % 7 == 0 {
            run.fail();
        }
    });
    let (scrapes, slowest) = scrape_while(
        to,
        &[],
        Duration::from_secs(3),
        Duration::from_millis(50),
        200,
    );
    let sent = flood.stop();
    eprintln!("figures: {sent} pass runs; {scrapes} scrapes during the flood, slowest {slowest:?}");
    assert!(sent >= names, "the flood made only {sent} of {names} names");
    assert!(
        slowest < SCRAPE_BOUND,
        "a scrape during the flood took {slowest:?}"
    );
    let (response, took) = scrape(to, &[]);
    assert!(
        took < SCRAPE_BOUND,
        "a scrape after the flood took {took:?}"
    );
    let body = response.unwrap().text();
    let samples = parse(&body);

    let passes: BTreeSet<&str> = samples
        .iter()
        .filter(|s| s.name == "photon_pass_duration_seconds_count")
        .filter_map(|s| s.labels.get("pass").map(String::as_str))
        .collect();
    assert!(passes.len() <= cap + 1, "{} pass values", passes.len());
    assert!(passes.contains(OVERFLOW_VALUE));
    let runs: f64 = samples
        .iter()
        .filter(|s| s.name == "photon_pass_duration_seconds_count")
        .map(|s| s.value)
        .sum();
    assert_eq!(runs, names as f64, "every run timed, folded or not");
    let failures: f64 = samples
        .iter()
        .filter(|s| s.name == "photon_pass_failures_total")
        .map(|s| s.value)
        .sum();
    assert_eq!(failures, names.div_ceil(7) as f64, "every failure counted");
    let overflowed = samples
        .iter()
        .find(|s| {
            s.name == "photon_metrics_label_overflow_total"
                && s.labels.get("label").map(String::as_str) == Some("pass")
        })
        .unwrap()
        .value;
    assert_eq!(
        overflowed,
        (names - cap as u64) as f64,
        "one per folded name"
    );
}
