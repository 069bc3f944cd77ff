//! The simulated inference runtime: requests queue, sessions run on the
//! devices that are up, a few fail.

use crate::devices::Fleet;
use crate::rng::Rng;
use photon_metrics::labels::ErrorKind;
use photon_metrics::{hardware, runtime};

pub struct Runtime {
    queue: Vec<runtime::QueueGuard>,
    timeout: ErrorKind,
    no_device: ErrorKind,
}

impl Runtime {
    pub fn new() -> Self {
        Runtime {
            queue: Vec::new(),
            timeout: ErrorKind::new("DeviceTimeout").expect("valid"),
            no_device: ErrorKind::new("NoDeviceAvailable").expect("valid"),
        }
    }

    pub fn step(&mut self, fleet: &Fleet, rng: &mut Rng) {
        for _ in 0..(rng.next_u64() % 4) {
            self.queue.push(runtime::enqueue());
        }
        let serving: Vec<_> = fleet.devices.iter().filter(|d| d.up).collect();
        if serving.is_empty() {
            runtime::record_runtime_error(self.no_device);
            return;
        }
        for _ in 0..(rng.next_u64() % 4).min(self.queue.len() as u64) {
            let _dequeued = self.queue.pop();
            let device = rng.pick(&serving);
            let _session = runtime::start_session();
            let latency = rng.range(0.000_05, 0.004);
            if rng.chance(0.03) {
                runtime::record_runtime_error(self.timeout);
                continue;
            }
            hardware::observe_inference_latency(device.kind, latency);
            runtime::record_ops(device.kind, 4096, latency);
        }
    }
}
