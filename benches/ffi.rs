//! Group 10: a record through the C ABI against the same record in Rust,
//! in one run (target: C ABI ≤ 1.5× the Rust typed record). The C functions
//! are called through function pointers, as a C or C++ caller linking the
//! library calls them (no cross-language inlining).

mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use photon_metrics::labels::{DeviceType, ModelType, Status, Target};
use photon_metrics::{compiler, hardware};
use photon_metrics_ffi::error::{PhotonCode, PHOTON_OK};
use photon_metrics_ffi::labels::{
    photon_model_type_new, photon_target_new, PhotonDeviceType, PhotonModelType, PhotonStatus,
    PhotonTarget, PHOTON_DEVICE_TYPE_MZI, PHOTON_STATUS_SUCCESS,
};
use photon_metrics_ffi::record::{photon_observe_inference_latency, photon_record_compilation};
use std::hint::black_box;

type RecordCompilation = extern "C" fn(PhotonTarget, PhotonStatus, PhotonModelType) -> PhotonCode;
type ObserveLatency = extern "C" fn(PhotonDeviceType, f64) -> PhotonCode;

fn c_abi_against_rust(c: &mut Criterion) {
    common::installed();
    let target = Target::new("mzi-64x64").unwrap();
    let model = ModelType::new("resnet50").unwrap();
    let (mut c_target, mut c_model) = (PhotonTarget { slot: 0 }, PhotonModelType { slot: 0 });
    // SAFETY: each call gets a static text with its exact length in bytes (9
    // and 8) and a writable local handle, as the `photon_*_new` functions
    // ask.
    unsafe {
        assert_eq!(
            photon_target_new("mzi-64x64".as_ptr().cast(), 9, &mut c_target),
            PHOTON_OK
        );
        assert_eq!(
            photon_model_type_new("resnet50".as_ptr().cast(), 8, &mut c_model),
            PHOTON_OK
        );
    }
    let record: RecordCompilation = black_box(photon_record_compilation);
    let observe: ObserveLatency = black_box(photon_observe_inference_latency);

    let mut g = c.benchmark_group("c_abi_counter_3_labels");
    g.bench_function("rust_typed", |b| {
        b.iter(|| {
            compiler::record_compilation(black_box(target), Status::Success, black_box(model))
        })
    });
    g.bench_function("c_abi", |b| {
        b.iter(|| {
            record(
                black_box(c_target),
                PHOTON_STATUS_SUCCESS,
                black_box(c_model),
            )
        })
    });
    g.finish();

    let mut g = c.benchmark_group("c_abi_histogram_1_label");
    g.bench_function("rust_typed", |b| {
        b.iter(|| hardware::observe_inference_latency(black_box(DeviceType::Mzi), black_box(0.003)))
    });
    g.bench_function("c_abi", |b| {
        b.iter(|| observe(black_box(PHOTON_DEVICE_TYPE_MZI), black_box(0.003)))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = c_abi_against_rust
}
criterion_main!(benches);
