//! # photon-metrics-py
//!
//! The photon-metrics catalog from Python, as the `photon_metrics` package
//! (built with maturin; `python/photon_metrics/__init__.py` adds the
//! `instrument_compile` decorator). The same families, typed labels, caps
//! and one `/metrics` per process as the Rust library, which records for it.
//!
//! Label values are interned once (`Target("mzi-64x64")`) into small
//! immutable objects; records take them, so a typo is a `LabelError` at the
//! place the value is made and nothing reaches `/metrics` unvalidated.

// One idea a file, as in photon-metrics-ffi; each imports only what it
// uses, from the files below it: error, then labels, then lifecycle,
// record, timers, families and exporter, and this file registers them.
mod error;
mod exporter;
mod families;
mod label_value;
mod labels;
mod lifecycle;
mod record;
mod timers;

use crate::error::{ExporterError, LabelError, PhotonError};
use crate::exporter::{install_exporter, render};
use crate::families::Family;
use crate::label_value::LabelValue;
use crate::labels::{
    DeviceId, DeviceType, ErrorKind, Location, MemoryStat, ModelType, OpenLabel, Pass, Status,
    Target,
};
use crate::lifecycle::{set_label_cap, set_label_idle_expiry};
use crate::record::{
    observe_compilation_duration, observe_inference_latency, observe_pass_duration,
    record_cache_hit, record_cache_miss, record_compilation, record_compilation_error, record_ops,
    record_pass_failure, record_runtime_error, set_active_devices, set_active_sessions,
    set_calibration_drift, set_device_status, set_memory_limit, set_memory_usage,
    set_optical_power_mw, set_queue_depth, set_temperature_celsius, set_throughput,
};
use crate::timers::{compile_timer, inference_timer, CompileTimer, InferenceTimerContext};
use pyo3::prelude::*;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("PhotonError", py.get_type::<PhotonError>())?;
    m.add("LabelError", py.get_type::<LabelError>())?;
    m.add("ExporterError", py.get_type::<ExporterError>())?;
    m.add_class::<Target>()?;
    m.add_class::<ModelType>()?;
    m.add_class::<ErrorKind>()?;
    m.add_class::<DeviceId>()?;
    m.add_class::<Location>()?;
    m.add_class::<Pass>()?;
    m.add_class::<Status>()?;
    m.add_class::<DeviceType>()?;
    m.add_class::<MemoryStat>()?;
    m.add_class::<OpenLabel>()?;
    m.add_class::<Family>()?;
    m.add_class::<LabelValue>()?;
    m.add_function(wrap_pyfunction!(set_label_cap, m)?)?;
    m.add_function(wrap_pyfunction!(set_label_idle_expiry, m)?)?;
    m.add_class::<CompileTimer>()?;
    m.add_class::<InferenceTimerContext>()?;
    m.add_function(wrap_pyfunction!(install_exporter, m)?)?;
    m.add_function(wrap_pyfunction!(render, m)?)?;
    m.add_function(wrap_pyfunction!(exporter::publish_shared, m)?)?;
    m.add_function(wrap_pyfunction!(compile_timer, m)?)?;
    m.add_function(wrap_pyfunction!(inference_timer, m)?)?;
    m.add_function(wrap_pyfunction!(record_compilation, m)?)?;
    m.add_function(wrap_pyfunction!(observe_compilation_duration, m)?)?;
    m.add_function(wrap_pyfunction!(record_compilation_error, m)?)?;
    m.add_function(wrap_pyfunction!(observe_pass_duration, m)?)?;
    m.add_function(wrap_pyfunction!(record_pass_failure, m)?)?;
    m.add_function(wrap_pyfunction!(record_cache_hit, m)?)?;
    m.add_function(wrap_pyfunction!(record_cache_miss, m)?)?;
    m.add_function(wrap_pyfunction!(set_memory_usage, m)?)?;
    m.add_function(wrap_pyfunction!(set_memory_limit, m)?)?;
    m.add_function(wrap_pyfunction!(set_device_status, m)?)?;
    m.add_function(wrap_pyfunction!(set_optical_power_mw, m)?)?;
    m.add_function(wrap_pyfunction!(set_temperature_celsius, m)?)?;
    m.add_function(wrap_pyfunction!(set_calibration_drift, m)?)?;
    m.add_function(wrap_pyfunction!(observe_inference_latency, m)?)?;
    m.add_function(wrap_pyfunction!(set_active_devices, m)?)?;
    m.add_function(wrap_pyfunction!(set_active_sessions, m)?)?;
    m.add_function(wrap_pyfunction!(set_queue_depth, m)?)?;
    m.add_function(wrap_pyfunction!(record_ops, m)?)?;
    m.add_function(wrap_pyfunction!(set_throughput, m)?)?;
    m.add_function(wrap_pyfunction!(record_runtime_error, m)?)?;
    Ok(())
}
