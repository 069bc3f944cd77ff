//! Instructions per record, for `valgrind --tool=callgrind`: runs one
//! record path N times so two runs (N and 2N) differ by exactly N records.
//!
//! ```text
//! cargo build --release --example hot-path
//! for v in nothing photon-counter photon-handle pc-counter atomic photon-histogram photon-histogram-handle photon-histogram-classic pc-histogram pc-histogram-peer facade-histogram-handle photon-gauge-handle fm-gauge tikv-int-gauge photon-int-gauge-handle facade-catalog facade-foreign; do
//!   for n in 1000000 2000000; do
//!     valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/hot-path $v $n 2>&1 | grep refs
//!   done
//! done
//! ```

use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use photon_metrics::labels::{ModelType, Status, Target};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

photon_metrics::family! {
    /// benches/peers.rs's peer-shaped histogram: classic buckets only.
    #[family(name = "hot_path_classic_seconds", unit = seconds,
             buckets = [0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0])]
    static CLASSIC: Histogram<(Target,)>;
}

fn main() {
    let mut args = std::env::args().skip(1);
    let variant = args.next().unwrap_or_else(|| "photon-counter".into());
    let n: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let _exporter = PrometheusExporterBuilder::new()
        .without_listener()
        .install()
        .expect("install");
    let target = Target::new("mzi-64x64").unwrap();
    let model = ModelType::new("resnet").unwrap();
    let pc_counter = prometheus_client::metrics::counter::Counter::<u64>::default();
    let facade_histogram = metrics::histogram!("photon_compilation_duration_seconds", "target" => "mzi-64x64", "model_size" => "large");
    let pc_histogram = prometheus_client::metrics::histogram::Histogram::new(
        photon_metrics::catalog::COMPILATION_DURATION_BUCKETS
            .iter()
            .copied(),
    );
    let floor = AtomicU64::new(0);
    let handle = photon_metrics::compiler::compilations(target, Status::Success, model);
    let gauge = photon_metrics::hardware::optical_power_mw(
        photon_metrics::labels::DeviceId::new("opu-0").unwrap(),
    );
    let sessions = photon_metrics::runtime::active_sessions();
    let duration = photon_metrics::compiler::compilation_duration(target, 25_600_000);
    let classic = CLASSIC.handle((target,));
    let pc_peer = prometheus_client::metrics::histogram::Histogram::new([
        0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0,
    ]);
    let fm_gauge = fastmetrics::metrics::gauge::Gauge::<f64>::default();
    let tikv_gauge = prometheus::IntGauge::new("hot_path_gauge", "peer").unwrap();
    // Chosen once, so the loop holds nothing but the record call.
    let record: Box<dyn Fn()> = match variant.as_str() {
        "photon-counter" => Box::new(|| {
            photon_metrics::compiler::record_compilation(
                black_box(target),
                black_box(Status::Success),
                black_box(model),
            )
        }),
        "pc-counter" => Box::new(|| {
            black_box(&pc_counter).inc();
        }),
        "atomic" => Box::new(|| {
            black_box(&floor).fetch_add(1, Ordering::Relaxed);
        }),
        "photon-histogram" => Box::new(|| {
            photon_metrics::compiler::observe_compilation_duration(
                black_box(target),
                black_box(25_600_000),
                black_box(1.5),
            )
        }),
        "pc-histogram" => Box::new(|| black_box(&pc_histogram).observe(black_box(1.5))),
        "facade-histogram-handle" => {
            Box::new(|| black_box(&facade_histogram).record(black_box(1.5)))
        }
        "pc-histogram-peer" => Box::new(|| black_box(&pc_peer).observe(black_box(1.5))),
        "photon-histogram-handle" => Box::new(|| black_box(&duration).observe(black_box(1.5))),
        "photon-histogram-classic" => Box::new(|| black_box(&classic).observe(black_box(1.5))),
        "photon-handle" => Box::new(|| black_box(&handle).inc()),
        "photon-gauge-handle" => Box::new(|| black_box(&gauge).set(black_box(1.5))),
        "photon-int-gauge-handle" => Box::new(|| black_box(&sessions).add(black_box(1))),
        "fm-gauge" => Box::new(|| black_box(&fm_gauge).set(black_box(1.5))),
        "tikv-int-gauge" => Box::new(|| black_box(&tikv_gauge).set(black_box(3))),
        "facade-catalog" => Box::new(|| {
            metrics::counter!("photon_compilations_total", "target" => black_box("mzi-64x64"), "status" => black_box("success"), "model_type" => black_box("resnet")).increment(1)
        }),
        "facade-foreign" => Box::new(|| {
            metrics::counter!("hot_path_total", "target" => black_box("mzi-64x64"), "status" => black_box("success"), "model_type" => black_box("resnet")).increment(1)
        }),
        "nothing" => Box::new(|| {}),
        other => panic!("unknown variant {other}"),
    };
    for _ in 0..n {
        record();
    }
}
