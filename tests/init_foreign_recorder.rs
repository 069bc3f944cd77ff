//! The one exception `init().install()` documents to all or nothing:
//! another `metrics` recorder already global is found only after photon's
//! subscriber is set, which then stays. The error says which, and no
//! listener is left. A test binary of its own: the globals are process-wide.

mod support;

use photon_metrics::export::ExportError;
use photon_metrics::InitError;
use support::init::quiet_telemetry;
use support::{free_port, http_get};

#[test]
fn a_foreign_metrics_recorder_is_found_after_the_subscriber_is_set() {
    metrics::set_global_recorder(metrics::NoopRecorder).unwrap();
    let port = free_port();
    let err = quiet_telemetry(port).install().unwrap_err();
    assert!(
        matches!(err, InitError::Export(ExportError::ForeignRecorder)),
        "{err}"
    );
    assert!(
        http_get(&format!("http://127.0.0.1:{port}/metrics")).is_err(),
        "no listener after the failed install"
    );
    // As documented: photon's subscriber stayed.
    let err = quiet_telemetry(port).install().unwrap_err();
    assert!(matches!(err, InitError::SubscriberAlreadySet), "{err}");
}
