//! The simulated inference runtime, instrumented with
//! `#[instrument_inference]`: requests queue (a drop guard per request),
//! calls run on devices that are up, a few time out.

use crate::devices::Shared;
use crate::rng::Rng;
use photon_metrics::labels::DeviceType;
use photon_metrics::{instrument_inference, runtime, ErrorClass};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[derive(Debug, ErrorClass)]
enum RuntimeError {
    DeviceTimeout,
    NoDeviceAvailable,
}

/// Operations per batch: one 64×64 matrix–vector product per sample.
const OPS_PER_SAMPLE: u64 = 64 * 64;

#[instrument_inference(device = device, ops = batch * OPS_PER_SAMPLE)]
fn infer(device: DeviceType, batch: u64, rng: &mut Rng) -> Result<(), RuntimeError> {
    let base = match device {
        DeviceType::Mzi => 0.000_2,
        DeviceType::Microring => 0.000_5,
        DeviceType::Pcm => 0.001_5,
        DeviceType::Hybrid | DeviceType::Simulator => 0.004,
        // A technology newer than this demo: as slow as the slowest.
        _ => 0.004,
    };
    std::thread::sleep(Duration::from_secs_f64(
        base * batch as f64 * rng.range(0.5, 1.5),
    ));
    if rng.chance(0.02) {
        return Err(RuntimeError::DeviceTimeout);
    }
    Ok(())
}

/// Serves requests on the calling thread until `stop` is set.
pub fn run(fleet: Shared, seed: u64, stop: &AtomicBool) {
    let mut rng = Rng::new(seed);
    let mut queue: VecDeque<runtime::QueueGuard> = VecDeque::new();
    while !stop.load(Ordering::Relaxed) {
        // Arrivals average 1.5 per tick, service up to 2: the queue breathes but stays bounded.
        for _ in 0..(rng.next_u64() % 4) {
            queue.push_back(runtime::enqueue());
        }
        let serving: Vec<DeviceType> = fleet.serving();
        for _ in 0..(rng.next_u64() % 5) {
            let Some(request) = queue.pop_front() else {
                break;
            };
            drop(request); // dequeued
            let _ = match serving.is_empty() {
                true => no_device(),
                false => infer(*rng.pick(&serving), 1 + rng.next_u64() % 8, &mut rng),
            };
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn no_device() -> Result<(), RuntimeError> {
    runtime::record_runtime_error(RuntimeError::NoDeviceAvailable.error_kind());
    Err(RuntimeError::NoDeviceAvailable)
}
