//! Which store, if any, is the process-wide `metrics` recorder.
//!
//! Typed families compare the recorder the facade hands them with the one
//! recorded here (one pointer comparison) and, when it is photon's, update
//! their cells directly. `metrics` does not say where it keeps the global
//! recorder, so [`install`] asks once, from a fresh thread (which has no
//! thread-local recorder): at install time, never on a record path.

use super::recorder::PhotonRecorder;
use super::Store;
use metrics::Recorder;
use std::sync::{Arc, OnceLock};

struct Global {
    recorder: usize,
    store: Arc<Store>,
}

static GLOBAL: OnceLock<Global> = OnceLock::new();

/// The address that identifies a recorder.
#[inline(always)]
pub(crate) fn address(recorder: &dyn Recorder) -> usize {
    recorder as *const dyn Recorder as *const () as usize
}

/// Installs `recorder` as the global `metrics` recorder; `Err` when one is
/// installed already (photon's or another).
pub(crate) fn install(recorder: PhotonRecorder) -> Result<(), ()> {
    let store = recorder.store.clone();
    metrics::set_global_recorder(recorder).map_err(drop)?;
    let probed = std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("photon-metrics-install".into())
            .spawn_scoped(s, || metrics::with_recorder(address))
            .ok()
            .and_then(|h| h.join().ok())
    });
    // Without a thread (resource exhaustion), ask here: right unless the
    // caller runs inside `with_local_recorder`, and then merely slower,
    // since records would go through the facade to the same store.
    let recorder = probed.unwrap_or_else(|| metrics::with_recorder(address));
    let _ = GLOBAL.set(Global { recorder, store });
    Ok(())
}

/// The store behind `recorder` if it is photon's global recorder.
#[inline(always)]
pub(crate) fn store_for(recorder: &dyn Recorder) -> Option<&'static Store> {
    let global = GLOBAL.get()?;
    (address(recorder) == global.recorder).then_some(&*global.store)
}
