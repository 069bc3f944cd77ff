//! Families resolve through the `metrics` facade: a user who installs a
//! different global recorder receives them, with help text, and records made
//! before it was installed do not pin the families to the no-op recorder.

use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use photon_metrics::labels::{DeviceId, DeviceType};
use photon_metrics::{hardware, runtime};

#[test]
fn a_users_own_global_recorder_receives_every_family() {
    let opu = DeviceId::new("opu-7").unwrap();
    hardware::set_temperature_celsius(opu, 10.0); // no recorder yet: dropped

    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder
        .install()
        .expect("no other global recorder in this test binary");

    hardware::set_temperature_celsius(opu, 55.5);
    hardware::set_device_status(opu, DeviceType::Pcm, false);
    runtime::set_queue_depth(3);

    let snapshot = snapshotter.snapshot().into_vec();
    let find = |name: &str| {
        snapshot
            .iter()
            .find(|(ck, ..)| ck.key().name() == name)
            .unwrap_or_else(|| panic!("{name} not recorded: {snapshot:?}"))
    };
    let (ck, _, help, value) = find("photon_device_temperature_celsius");
    assert_eq!(*value, DebugValue::Gauge(55.5.into()));
    assert_eq!(
        ck.key()
            .labels()
            .map(|l| (l.key(), l.value()))
            .collect::<Vec<_>>(),
        [("device_id", "opu-7")]
    );
    assert_eq!(
        help.as_deref(),
        Some("Device temperature in degrees Celsius.")
    );
    let (ck, _, _, value) = find("photon_device_status");
    assert_eq!(*value, DebugValue::Gauge(0.0.into()));
    assert!(ck
        .key()
        .labels()
        .any(|l| l.key() == "device_type" && l.value() == "pcm"));
    assert_eq!(find("photon_queue_depth").3, DebugValue::Gauge(3.0.into()));
}
