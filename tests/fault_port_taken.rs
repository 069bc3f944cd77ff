//! Fault: the exporter's port is taken at start while two threads are
//! already recording. The install is an error value naming the address,
//! nothing is half-installed (their records keep going to the facade's
//! no-op recorder), and after a good install two threads' records are exact.

mod support;

use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use photon_metrics::export::ExportError;
use photon_metrics::labels::Target;
use std::sync::atomic::{AtomicBool, Ordering};

const RECORDS: u64 = 100_000;

#[test]
fn a_busy_port_is_an_error_value_and_recording_goes_on() {
    let target = Target::new("pcm-4").unwrap();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_addr = busy.local_addr().unwrap();

    // Two threads record while the install fails on the busy port.
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    photon_metrics::compiler::record_cache_hit(target);
                }
            });
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        let err = PrometheusExporterBuilder::new()
            .listen(busy_addr)
            .install()
            .unwrap_err();
        assert!(
            matches!(err, ExportError::Bind { addr, .. } if addr == busy_addr),
            "{err}"
        );
        assert!(err.to_string().contains(&busy_addr.to_string()), "{err}");
        std::thread::sleep(std::time::Duration::from_millis(100));
        stop.store(true, Ordering::Relaxed);
    });

    // Nothing was installed by the failure: a good install succeeds and
    // starts from zero, and two threads' records are all there.
    let exporter = PrometheusExporterBuilder::new()
        .listen("127.0.0.1:0".parse().unwrap())
        .install()
        .expect("a good install after the failed one");
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..RECORDS {
                    photon_metrics::compiler::record_cache_hit(target);
                }
            });
        }
    });
    let samples = support::exposition::parse(&exporter.render());
    assert_eq!(
        support::exposition::value(&samples, "photon_cache_hits_total", &[("target", "pcm-4")]),
        Some((2 * RECORDS) as f64)
    );
    drop(busy);
}
