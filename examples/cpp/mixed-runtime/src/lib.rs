//! The Rust half of a mixed process (`examples/cpp/mixed.cpp`): a runtime
//! written in Rust, linked into a C++ program as its one Rust static
//! library. It records with photon-metrics' typed Rust API; the C++ side
//! records through `photon_metrics.hpp`; both land in the same families of
//! the one exporter the C++ `main` installs.

// Links every photon_* C function into this static library.
extern crate photon_metrics_ffi;

use photon_metrics::labels::{DeviceType, ModelType, Status, Target};
use photon_metrics::{compiler, runtime};

/// Records `count` successful compilations of `resnet50` for `mzi-64x64`
/// from Rust. Returns 0, or 1 if a label was invalid.
#[no_mangle]
pub extern "C" fn mixed_runtime_compile(count: u32) -> i32 {
    let (Ok(target), Ok(model)) = (Target::new("mzi-64x64"), ModelType::new("resnet50")) else {
        return 1;
    };
    for _ in 0..count {
        compiler::record_compilation(target, Status::Success, model);
    }
    0
}

/// Serves `calls` inference calls of 10 ops each on the simulator, timed by
/// the Rust inference timer.
#[no_mangle]
pub extern "C" fn mixed_runtime_serve(calls: u32) {
    for _ in 0..calls {
        let mut call = runtime::start_inference(DeviceType::Simulator, 10);
        call.succeed();
    }
}
