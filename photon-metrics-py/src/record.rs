//! Record helpers: one per family, as in the Rust modules compiler,
//! hardware and runtime.

use crate::labels::{
    DeviceId, DeviceType, ErrorKind, Location, MemoryStat, ModelType, Pass, Status, Target,
};
use photon_metrics::compiler;
use photon_metrics::hardware;
use photon_metrics::runtime;
use pyo3::prelude::*;

/// `photon_compilations_total{target, status, model_type}` += 1.
#[pyfunction]
pub(crate) fn record_compilation(target: Target, status: Status, model_type: ModelType) {
    compiler::record_compilation(target.0, status.into(), model_type.0);
}

/// Observes `seconds` in `photon_compilation_duration_seconds{target, model_size}`.
#[pyfunction]
pub(crate) fn observe_compilation_duration(target: Target, parameters: u64, seconds: f64) {
    compiler::observe_compilation_duration(target.0, parameters, seconds);
}

/// `photon_compilation_errors_total{target, error_kind}` += 1.
#[pyfunction]
pub(crate) fn record_compilation_error(target: Target, kind: ErrorKind) {
    compiler::record_compilation_error(target.0, kind.0);
}

/// `photon_cache_hits_total{target}` += 1.
#[pyfunction]
pub(crate) fn record_cache_hit(target: Target) {
    compiler::record_cache_hit(target.0);
}

/// `photon_pass_duration_seconds{pass, target}`: one run of a compiler pass.
#[pyfunction]
pub(crate) fn observe_pass_duration(pass_: Pass, target: Target, seconds: f64) {
    compiler::observe_pass_duration(pass_.0, target.0, seconds);
}

/// `photon_pass_failures_total{pass, target}` += 1.
#[pyfunction]
pub(crate) fn record_pass_failure(pass_: Pass, target: Target) {
    compiler::record_pass_failure(pass_.0, target.0);
}

/// `photon_cache_misses_total{target}` += 1.
#[pyfunction]
pub(crate) fn record_cache_miss(target: Target) {
    compiler::record_cache_miss(target.0);
}

/// Sets `photon_memory_usage_bytes{target, memory}`.
#[pyfunction]
pub(crate) fn set_memory_usage(target: Target, stat: MemoryStat, bytes: u64) {
    compiler::set_memory_usage(target.0, stat.into(), bytes);
}

/// Sets `photon_memory_limit_bytes` (wins over the sampled cgroup limit).
#[pyfunction]
pub(crate) fn set_memory_limit(bytes: u64) {
    compiler::set_memory_limit(bytes);
}

/// Sets `photon_device_status{device_id, device_type}` to 1 (up) or 0.
#[pyfunction]
pub(crate) fn set_device_status(device: DeviceId, device_type: DeviceType, up: bool) {
    hardware::set_device_status(device.0, device_type.into(), up);
}

/// Sets `photon_optical_power_mw{device_id}`.
#[pyfunction]
pub(crate) fn set_optical_power_mw(device: DeviceId, milliwatts: f64) {
    hardware::set_optical_power_mw(device.0, milliwatts);
}

/// Sets `photon_device_temperature_celsius{device_id}`.
#[pyfunction]
pub(crate) fn set_temperature_celsius(device: DeviceId, celsius: f64) {
    hardware::set_temperature_celsius(device.0, celsius);
}

/// Sets `photon_calibration_drift{device_id}`.
#[pyfunction]
pub(crate) fn set_calibration_drift(device: DeviceId, drift: f64) {
    hardware::set_calibration_drift(device.0, drift);
}

/// Observes `seconds` in `photon_inference_latency_seconds{device_type}`.
#[pyfunction]
pub(crate) fn observe_inference_latency(device_type: DeviceType, seconds: f64) {
    hardware::observe_inference_latency(device_type.into(), seconds);
}

/// Sets `photon_active_devices{device_type, location}`.
#[pyfunction]
pub(crate) fn set_active_devices(device_type: DeviceType, location: Location, count: u64) {
    hardware::set_active_devices(device_type.into(), location.0, count);
}

/// Sets `photon_active_sessions`.
#[pyfunction]
pub(crate) fn set_active_sessions(count: u64) {
    runtime::set_active_sessions(count);
}

/// Sets `photon_queue_depth`.
#[pyfunction]
pub(crate) fn set_queue_depth(depth: u64) {
    runtime::set_queue_depth(depth);
}

/// `photon_inference_ops_total{device_type}` += ops; throughput = ops / seconds.
#[pyfunction]
pub(crate) fn record_ops(device_type: DeviceType, ops: u64, seconds: f64) {
    runtime::record_ops(device_type.into(), ops, seconds);
}

/// Sets `photon_throughput_ops_per_second`.
#[pyfunction]
pub(crate) fn set_throughput(ops_per_second: f64) {
    runtime::set_throughput(ops_per_second);
}

/// `photon_runtime_errors_total{error_kind}` += 1.
#[pyfunction]
pub(crate) fn record_runtime_error(kind: ErrorKind) {
    runtime::record_runtime_error(kind.0);
}
