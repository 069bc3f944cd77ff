//! `init().install()` with another global `tracing` subscriber already set
//! fails with `SubscriberAlreadySet` and installs nothing else either, so
//! the retry its error suggests (`layers()` for your own subscriber)
//! succeeds and serves `/metrics`. A test binary of its own: the globals
//! are process-wide.

mod support;

use photon_metrics::InitError;
use support::init::quiet_telemetry;
use support::{free_port, http_get};

#[test]
fn install_over_another_subscriber_installs_nothing_and_layers_then_succeeds() {
    tracing::subscriber::set_global_default(tracing_subscriber::registry()).unwrap();

    let port = free_port();
    let err = quiet_telemetry(port).install().unwrap_err();
    assert!(matches!(err, InitError::SubscriberAlreadySet), "{err}");
    // Nothing listens: the failed call took its listener down with it.
    assert!(
        http_get(&format!("http://127.0.0.1:{port}/metrics")).is_err(),
        "the failed install left a listener on {port}"
    );

    let (_layer, guard) = quiet_telemetry(port)
        .layers()
        .unwrap_or_else(|e| panic!("the retry with layers() failed: {e}"));
    assert_eq!(
        guard
            .metrics()
            .and_then(|m| m.local_addr())
            .map(|a| a.port()),
        Some(port)
    );
    let (status, body) = http_get(&format!("http://127.0.0.1:{port}/metrics")).unwrap();
    assert_eq!(status, 200, "{body}");
}
