//! The record helpers of every catalog family, one C function each.
//!
//! Each takes the same typed labels as its Rust twin in
//! `photon_metrics::{compiler, hardware, runtime}` and records into the same
//! family, through the same `metrics` recorder. A handle that was not
//! returned by a `photon_*_new` call in this process, or an enum value out
//! of range, is an error code and records nothing.

use crate::error::{guard, PhotonCode};
use crate::labels::{
    self, PhotonDeviceId, PhotonDeviceType, PhotonErrorKind, PhotonLocation, PhotonMemoryStat,
    PhotonModelType, PhotonPass, PhotonStatus, PhotonTarget,
};
use photon_metrics::{compiler, hardware, runtime};

/// Counts one compilation in `photon_compilations_total{target, status, model_type}`.
#[no_mangle]
pub extern "C" fn photon_record_compilation(
    target: PhotonTarget,
    status: PhotonStatus,
    model_type: PhotonModelType,
) -> PhotonCode {
    guard(|| {
        compiler::record_compilation(target.get()?, labels::status(status)?, model_type.get()?);
        Ok(())
    })
}

/// Observes one compilation's `seconds` in `photon_compilation_duration_seconds{target, model_size}` (`model_size` from `parameters`).
#[no_mangle]
pub extern "C" fn photon_observe_compilation_duration(
    target: PhotonTarget,
    parameters: u64,
    seconds: f64,
) -> PhotonCode {
    guard(|| {
        compiler::observe_compilation_duration(target.get()?, parameters, seconds);
        Ok(())
    })
}

/// Counts one compilation error in `photon_compilation_errors_total{target, error_kind}`.
#[no_mangle]
pub extern "C" fn photon_record_compilation_error(
    target: PhotonTarget,
    kind: PhotonErrorKind,
) -> PhotonCode {
    guard(|| {
        compiler::record_compilation_error(target.get()?, kind.get()?);
        Ok(())
    })
}

/// Observes one pass run's `seconds` in `photon_pass_duration_seconds{pass, target}`.
#[no_mangle]
pub extern "C" fn photon_observe_pass_duration(
    pass: PhotonPass,
    target: PhotonTarget,
    seconds: f64,
) -> PhotonCode {
    guard(|| {
        compiler::observe_pass_duration(pass.get()?, target.get()?, seconds);
        Ok(())
    })
}

/// Counts one failed pass run in `photon_pass_failures_total{pass, target}`.
#[no_mangle]
pub extern "C" fn photon_record_pass_failure(pass: PhotonPass, target: PhotonTarget) -> PhotonCode {
    guard(|| {
        compiler::record_pass_failure(pass.get()?, target.get()?);
        Ok(())
    })
}

/// Counts a compilation-cache hit in `photon_cache_hits_total{target}`.
#[no_mangle]
pub extern "C" fn photon_record_cache_hit(target: PhotonTarget) -> PhotonCode {
    guard(|| {
        compiler::record_cache_hit(target.get()?);
        Ok(())
    })
}

/// Counts a compilation-cache miss in `photon_cache_misses_total{target}`.
#[no_mangle]
pub extern "C" fn photon_record_cache_miss(target: PhotonTarget) -> PhotonCode {
    guard(|| {
        compiler::record_cache_miss(target.get()?);
        Ok(())
    })
}

/// Sets `photon_memory_usage_bytes{target, memory}`.
#[no_mangle]
pub extern "C" fn photon_set_memory_usage(
    target: PhotonTarget,
    stat: PhotonMemoryStat,
    bytes: u64,
) -> PhotonCode {
    guard(|| {
        compiler::set_memory_usage(target.get()?, labels::memory_stat(stat)?, bytes);
        Ok(())
    })
}

/// Sets `photon_memory_limit_bytes` (wins over the sampled cgroup limit from then on).
#[no_mangle]
pub extern "C" fn photon_set_memory_limit(bytes: u64) -> PhotonCode {
    guard(|| {
        compiler::set_memory_limit(bytes);
        Ok(())
    })
}

/// Sets `photon_device_status{device_id, device_type}`: 1 when `up` is non-zero, else 0.
#[no_mangle]
pub extern "C" fn photon_set_device_status(
    device: PhotonDeviceId,
    device_type: PhotonDeviceType,
    up: bool,
) -> PhotonCode {
    guard(|| {
        hardware::set_device_status(device.get()?, labels::device_type(device_type)?, up);
        Ok(())
    })
}

/// Sets `photon_optical_power_mw{device_id}`.
#[no_mangle]
pub extern "C" fn photon_set_optical_power_mw(
    device: PhotonDeviceId,
    milliwatts: f64,
) -> PhotonCode {
    guard(|| {
        hardware::set_optical_power_mw(device.get()?, milliwatts);
        Ok(())
    })
}

/// Sets `photon_device_temperature_celsius{device_id}`.
#[no_mangle]
pub extern "C" fn photon_set_temperature_celsius(
    device: PhotonDeviceId,
    celsius: f64,
) -> PhotonCode {
    guard(|| {
        hardware::set_temperature_celsius(device.get()?, celsius);
        Ok(())
    })
}

/// Sets `photon_calibration_drift{device_id}`.
#[no_mangle]
pub extern "C" fn photon_set_calibration_drift(device: PhotonDeviceId, drift: f64) -> PhotonCode {
    guard(|| {
        hardware::set_calibration_drift(device.get()?, drift);
        Ok(())
    })
}

/// Observes one inference's `seconds` in `photon_inference_latency_seconds{device_type}`.
#[no_mangle]
pub extern "C" fn photon_observe_inference_latency(
    device_type: PhotonDeviceType,
    seconds: f64,
) -> PhotonCode {
    guard(|| {
        hardware::observe_inference_latency(labels::device_type(device_type)?, seconds);
        Ok(())
    })
}

/// Sets `photon_active_devices{device_type, location}`.
#[no_mangle]
pub extern "C" fn photon_set_active_devices(
    device_type: PhotonDeviceType,
    location: PhotonLocation,
    count: u64,
) -> PhotonCode {
    guard(|| {
        hardware::set_active_devices(labels::device_type(device_type)?, location.get()?, count);
        Ok(())
    })
}

/// Sets `photon_active_sessions`.
#[no_mangle]
pub extern "C" fn photon_set_active_sessions(count: u64) -> PhotonCode {
    guard(|| {
        runtime::set_active_sessions(count);
        Ok(())
    })
}

/// Sets `photon_queue_depth`.
#[no_mangle]
pub extern "C" fn photon_set_queue_depth(depth: u64) -> PhotonCode {
    guard(|| {
        runtime::set_queue_depth(depth);
        Ok(())
    })
}

/// Counts `ops` operations in `photon_inference_ops_total{device_type}` and sets `photon_throughput_ops_per_second` from `ops / seconds`.
#[no_mangle]
pub extern "C" fn photon_record_ops(
    device_type: PhotonDeviceType,
    ops: u64,
    seconds: f64,
) -> PhotonCode {
    guard(|| {
        runtime::record_ops(labels::device_type(device_type)?, ops, seconds);
        Ok(())
    })
}

/// Sets `photon_throughput_ops_per_second`.
#[no_mangle]
pub extern "C" fn photon_set_throughput(ops_per_second: f64) -> PhotonCode {
    guard(|| {
        runtime::set_throughput(ops_per_second);
        Ok(())
    })
}

/// Counts one runtime error in `photon_runtime_errors_total{error_kind}`.
#[no_mangle]
pub extern "C" fn photon_record_runtime_error(kind: PhotonErrorKind) -> PhotonCode {
    guard(|| {
        runtime::record_runtime_error(kind.get()?);
        Ok(())
    })
}
