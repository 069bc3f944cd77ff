//! Photonic hardware families: device health, optics, temperature,
//! calibration, inference latency and active devices.
//!
//! | family | kind | labels | unit |
//! |---|---|---|---|
//! | `photon_device_status` | gauge | `device_id`, `device_type` | 0 = down, 1 = up |
//! | `photon_optical_power_mw` | gauge | `device_id` | milliwatts |
//! | `photon_device_temperature_celsius` | gauge | `device_id` | °C |
//! | `photon_calibration_drift` | gauge | `device_id` | ratio (0 = calibrated) |
//! | `photon_inference_latency_seconds` | histogram (1 µs … 5 s) | `device_type` | seconds |
//! | `photon_active_devices` | gauge | `device_type`, `location` | count |
//!
//! `device_type` is a closed enum; `device_id` and `location` are open,
//! interned and capped (1024 and 64 values by default).
//!
//! Example PromQL:
//! - devices down: `photon_device_status == 0`
//! - hottest device: `max by (device_id) (photon_device_temperature_celsius)`
//! - drift trend: `deriv(photon_calibration_drift[15m])`
//! - p99 latency: `histogram_quantile(0.99, sum by (le, device_type) (rate(photon_inference_latency_seconds_bucket[5m])))`
//!
//! ```
//! use photon_metrics::hardware;
//! use photon_metrics::labels::{DeviceId, DeviceType, Location};
//!
//! let opu = DeviceId::new("opu-0").unwrap();
//! hardware::set_device_status(opu, DeviceType::Mzi, true);
//! hardware::set_temperature_celsius(opu, 41.5);
//! hardware::set_optical_power_mw(opu, 12.0);
//! hardware::set_calibration_drift(opu, 0.002);
//! hardware::set_active_devices(DeviceType::Mzi, Location::new("rack-a").unwrap(), 4);
//! hardware::observe_inference_latency(DeviceType::Mzi, 0.000_35);
//! ```

use crate::catalog::declared;
use crate::engine::Engine;
use crate::handle::{GaugeHandle, HistogramHandle, IntGaugeHandle};
use crate::labels::{DeviceId, DeviceType, Location};
use crate::store::cell::{GaugeCell, HistogramCell};

static STATUS: &Engine<GaugeCell, (DeviceId, DeviceType)> = &declared::DEVICE_STATUS.0;
static POWER: &Engine<GaugeCell, (DeviceId,)> = &declared::OPTICAL_POWER.0;
static TEMPERATURE: &Engine<GaugeCell, (DeviceId,)> = &declared::DEVICE_TEMPERATURE.0;
static DRIFT: &Engine<GaugeCell, (DeviceId,)> = &declared::CALIBRATION_DRIFT.0;
static LATENCY: &Engine<HistogramCell, (DeviceType,)> = &declared::INFERENCE_LATENCY.0;
static ACTIVE: &Engine<GaugeCell, (DeviceType, Location)> = &declared::ACTIVE_DEVICES.0;

/// Sets `photon_device_status{device_id, device_type}` to 1 (up) or 0 (down).
#[inline]
pub fn set_device_status(device: DeviceId, device_type: DeviceType, up: bool) {
    STATUS.set((device, device_type), if up { 1.0 } else { 0.0 });
}

/// Sets `photon_optical_power_mw{device_id}`.
#[inline]
pub fn set_optical_power_mw(device: DeviceId, milliwatts: f64) {
    POWER.set((device,), milliwatts);
}

/// Sets `photon_device_temperature_celsius{device_id}`.
#[inline]
pub fn set_temperature_celsius(device: DeviceId, celsius: f64) {
    TEMPERATURE.set((device,), celsius);
}

/// Sets `photon_calibration_drift{device_id}` (dimensionless, 0 = calibrated).
#[inline]
pub fn set_calibration_drift(device: DeviceId, drift: f64) {
    DRIFT.set((device,), drift);
}

/// Observes one inference call's latency in `photon_inference_latency_seconds{device_type}`.
#[inline]
pub fn observe_inference_latency(device_type: DeviceType, seconds: f64) {
    LATENCY.observe((device_type,), seconds);
}

/// Sets `photon_active_devices{device_type, location}`.
#[inline]
pub fn set_active_devices(device_type: DeviceType, location: Location, count: u64) {
    ACTIVE.set_count((device_type, location), count);
}

/// A [handle](crate::handle) to `photon_device_status{device_id, device_type}`
/// (set 1 for up, 0 for down).
pub fn device_status(device: DeviceId, device_type: DeviceType) -> GaugeHandle {
    STATUS.handle((device, device_type))
}

/// A [handle](crate::handle) to `photon_optical_power_mw{device_id}`.
pub fn optical_power_mw(device: DeviceId) -> GaugeHandle {
    POWER.handle((device,))
}

/// A [handle](crate::handle) to `photon_device_temperature_celsius{device_id}`.
pub fn temperature_celsius(device: DeviceId) -> GaugeHandle {
    TEMPERATURE.handle((device,))
}

/// A [handle](crate::handle) to `photon_calibration_drift{device_id}`.
pub fn calibration_drift(device: DeviceId) -> GaugeHandle {
    DRIFT.handle((device,))
}

/// A [handle](crate::handle) to `photon_inference_latency_seconds{device_type}`.
pub fn inference_latency(device_type: DeviceType) -> HistogramHandle {
    LATENCY.handle((device_type,))
}

/// A [handle](crate::handle) to `photon_active_devices{device_type, location}`,
/// an integer gauge.
pub fn active_devices(device_type: DeviceType, location: Location) -> IntGaugeHandle {
    ACTIVE.int_handle((device_type, location))
}
