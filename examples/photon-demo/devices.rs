//! The simulated photonic fleet: temperature, optical power and calibration
//! drift wander; `opu-2` goes down for a while and comes back. Under
//! `--churn` one device at a time is decommissioned (its id retired) and
//! replaced by a new board with a fresh id.

use crate::rng::Rng;
use photon_metrics::hardware;
use photon_metrics::labels::{DeviceId, DeviceType, Location};
use std::sync::{Arc, RwLock};

/// What the runtime thread sees of the fleet: the types of devices that are up.
#[derive(Clone, Default)]
pub struct Shared(Arc<RwLock<Vec<DeviceType>>>);

impl Shared {
    pub fn serving(&self) -> Vec<DeviceType> {
        self.0.read().map(|v| v.clone()).unwrap_or_default()
    }
}

pub struct Device {
    pub id: DeviceId,
    pub kind: DeviceType,
    pub location: Location,
    pub up: bool,
    temperature: f64,
    power: f64,
    drift: f64,
}

pub struct Fleet {
    pub devices: Vec<Device>,
    pub shared: Shared,
    forced_down: Option<DeviceId>,
    /// Boards brought up so far (the next new id is `opu-{boards}`).
    boards: usize,
    /// Replacements so far: which device goes next.
    replaced: usize,
}

/// Steps (of 200 ms) in each down/up cycle of `opu-2`: up for 40 s, down for 20 s.
const CYCLE: u64 = 300;
const DOWN_FROM: u64 = 200;

impl Fleet {
    pub fn new(forced_down: Option<&str>) -> Result<Self, String> {
        let spec = [
            ("opu-0", DeviceType::Mzi, "rack-a"),
            ("opu-1", DeviceType::Mzi, "rack-a"),
            ("opu-2", DeviceType::Microring, "rack-b"),
            ("opu-3", DeviceType::Pcm, "rack-b"),
        ];
        let devices = spec
            .iter()
            .enumerate()
            .map(|(i, (id, kind, location))| Device {
                id: DeviceId::new(id).expect("valid device id"),
                kind: *kind,
                location: Location::new(location).expect("valid location"),
                up: true,
                temperature: 38.0 + i as f64,
                power: 12.0,
                drift: 0.0,
            })
            .collect();
        let forced_down = match forced_down {
            None => None,
            Some(id) => {
                let id = DeviceId::new(id).map_err(|e| e.to_string())?;
                if !spec.iter().any(|(known, ..)| *known == id.as_str()) {
                    let known: Vec<_> = spec.iter().map(|(k, ..)| *k).collect();
                    return Err(format!(
                        "--device-down: unknown device `{id}`; the fleet is {}",
                        known.join(", ")
                    ));
                }
                Some(id)
            }
        };
        Ok(Fleet {
            devices,
            shared: Shared::default(),
            forced_down,
            boards: spec.len(),
            replaced: 0,
        })
    }

    /// Decommissions one device and brings up a new board in its place:
    /// the forced-down one first (so its DeviceFailure resolves), then in
    /// turn. Retiring the id removes its series from every family at once.
    pub fn replace_one(&mut self) {
        let n = self.devices.len();
        let i = self
            .devices
            .iter()
            .position(|d| Some(d.id) == self.forced_down)
            .unwrap_or(self.replaced % n);
        self.replaced += 1;
        let new_id = format!("opu-{}", self.boards);
        self.boards += 1;
        let Ok(id) = DeviceId::new(&new_id) else {
            return;
        };
        if id.is_overflow() {
            // Every free slot is still resting: keep the old board a while.
            return;
        }
        let old = std::mem::replace(&mut self.devices[i].id, id);
        tracing::info!(device_id = %old, replacement = %id, "device decommissioned");
        old.retire();
        let d = &mut self.devices[i];
        d.up = true;
        d.drift = 0.0;
    }

    pub fn step(&mut self, tick: u64, rng: &mut Rng) {
        let forced_down = self.forced_down;
        for (i, d) in self.devices.iter_mut().enumerate() {
            let was_up = d.up;
            if i == 2 {
                d.up = tick % CYCLE < DOWN_FROM;
            }
            if Some(d.id) == forced_down {
                d.up = false;
            }
            if d.up != was_up {
                if d.up {
                    tracing::info!(device_id = %d.id, "device back up");
                } else {
                    tracing::warn!(device_id = %d.id, "device down");
                }
            }
            d.temperature = (d.temperature + rng.range(-0.3, 0.32)).clamp(30.0, 85.0);
            d.power = (d.power + rng.range(-0.2, 0.2)).clamp(8.0, 16.0);
            d.drift += rng.range(0.0, 0.0004);
            if d.drift > 0.05 {
                d.drift = 0.0; // recalibrated
            }
            hardware::set_device_status(d.id, d.kind, d.up);
            hardware::set_temperature_celsius(d.id, d.temperature);
            hardware::set_optical_power_mw(d.id, if d.up { d.power } else { 0.0 });
            hardware::set_calibration_drift(d.id, d.drift);
        }
        if let Ok(mut serving) = self.shared.0.write() {
            *serving = self
                .devices
                .iter()
                .filter(|d| d.up)
                .map(|d| d.kind)
                .collect();
        }
        for kind in DeviceType::ALL {
            for location in self.locations() {
                let n = self
                    .devices
                    .iter()
                    .filter(|d| d.up && d.kind == *kind && d.location == location)
                    .count();
                if self
                    .devices
                    .iter()
                    .any(|d| d.kind == *kind && d.location == location)
                {
                    hardware::set_active_devices(*kind, location, n as u64);
                }
            }
        }
    }

    fn locations(&self) -> Vec<Location> {
        let mut seen: Vec<Location> = Vec::new();
        for d in &self.devices {
            if !seen.contains(&d.location) {
                seen.push(d.location);
            }
        }
        seen
    }
}
