//! Fault: a storm of panics inside instrumented code on one thread while
//! two others record. Every panic is counted, every gauge the guards moved
//! comes back to zero, and the other threads' counts are exact.

mod support;

use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use photon_metrics::labels::{DeviceType, Target};
use photon_metrics::{instrument_compile, instrument_inference, runtime};
use support::exposition::{parse, value};
use support::model::Model;

const PANICS: u64 = 2_000;
const RECORDS: u64 = 200_000;

#[instrument_compile(target = target, model = model)]
fn compile(target: Target, model: &Model) -> Result<u64, std::fmt::Error> {
    let _queued = runtime::enqueue();
    let _session = runtime::start_session();
    panic!("lowering crashed for {}", model.id)
}

#[instrument_inference(device = DeviceType::Pcm)]
fn infer() -> Result<(), std::io::Error> {
    let _queued = runtime::enqueue();
    panic!("device fault")
}

#[test]
fn panics_are_counted_and_leave_no_gauge_behind() {
    let exporter = PrometheusExporterBuilder::new()
        .without_listener()
        .install()
        .unwrap();
    std::panic::set_hook(Box::new(|_| {})); // a storm, quietly
    let target = Target::new("mzi-64x64").unwrap();
    let model = Model {
        id: "resnet50",
        arch: photon_metrics::labels::ModelType::new("resnet").unwrap(),
        params: 25_600_000,
    };
    std::thread::scope(|s| {
        s.spawn(|| {
            for _ in 0..PANICS {
                assert!(std::panic::catch_unwind(|| compile(target, &model)).is_err());
                assert!(std::panic::catch_unwind(infer).is_err());
            }
        });
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..RECORDS {
                    photon_metrics::compiler::record_cache_miss(target);
                }
            });
        }
    });
    let _ = std::panic::take_hook();
    let samples = parse(&exporter.render());
    let get = |name: &str, labels: &[(&str, &str)]| {
        value(&samples, name, labels).unwrap_or_else(|| panic!("{name}{labels:?} missing"))
    };
    assert_eq!(
        get("photon_compilations_total", &[("status", "panic")]),
        PANICS as f64
    );
    assert_eq!(
        get("photon_runtime_errors_total", &[("error_kind", "panic")]),
        PANICS as f64
    );
    assert_eq!(get("photon_active_sessions", &[]), 0.0, "sessions balanced");
    assert_eq!(get("photon_queue_depth", &[]), 0.0, "queue balanced");
    assert_eq!(
        get("photon_cache_misses_total", &[("target", "mzi-64x64")]),
        (2 * RECORDS) as f64
    );
}
