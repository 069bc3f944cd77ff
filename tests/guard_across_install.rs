//! A drop guard undoes its +1 on the recorder that got it: a session, a
//! queued request or an inference call that starts before the exporter is
//! installed and ends after leaves the gauges at 0, not −1. Its own test
//! binary: installing the exporter is global.

mod support;

use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use photon_metrics::instrument_inference;
use photon_metrics::labels::DeviceType;
use photon_metrics::runtime;
use support::exec::{poll_once, yield_once};
use support::exposition::{parse, value};

#[instrument_inference(device = DeviceType::Mzi)]
async fn infer() -> u32 {
    yield_once().await;
    1
}

fn scrape(url: &str) -> Vec<support::exposition::Sample> {
    let (status, body) = support::http_get(url).unwrap();
    assert_eq!(status, 200, "{body}");
    parse(&body)
}

#[test]
fn guards_started_before_install_and_dropped_after_leave_the_gauges_at_zero() {
    // Before install: the facade's no-op recorder gets the +1s.
    let session = runtime::start_session();
    let queued = runtime::enqueue();
    let call = runtime::start_inference(DeviceType::Mzi, 8);
    let mut suspended = Box::pin(infer());
    assert!(!poll_once(suspended.as_mut()), "suspended at its await");

    let exporter = PrometheusExporterBuilder::new()
        .listen("127.0.0.1:0".parse().unwrap())
        .process_metrics(false)
        .install()
        .unwrap();
    let url = format!("http://{}/metrics", exporter.local_addr().unwrap());

    drop(session);
    drop(queued);
    drop(call);
    drop(suspended);
    let samples = scrape(&url);
    assert_eq!(value(&samples, "photon_active_sessions", &[]), Some(0.0));
    assert_eq!(value(&samples, "photon_queue_depth", &[]), Some(0.0));

    // And guards that live wholly after install still count while they live.
    let session = runtime::start_session();
    let queued = runtime::enqueue();
    let samples = scrape(&url);
    assert_eq!(value(&samples, "photon_active_sessions", &[]), Some(1.0));
    assert_eq!(value(&samples, "photon_queue_depth", &[]), Some(1.0));
    drop((session, queued));
    let samples = scrape(&url);
    assert_eq!(value(&samples, "photon_active_sessions", &[]), Some(0.0));
    assert_eq!(value(&samples, "photon_queue_depth", &[]), Some(0.0));
}
