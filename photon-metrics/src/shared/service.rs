//! This process's part in a service: its publications, its view of the
//! service, and the threads that publish and wait to lead.

use super::dir::{Identity, Lock, ServiceDir};
use super::publisher::Publisher;
use super::retired;
use crate::store::merged::{Merged, Merger};
use crate::store::Store;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// How long a render waits for the other processes' fresh publications
/// before it serves the latest it has.
/// Long enough for a loaded machine to schedule every process's
/// publisher thread, well within Prometheus' default scrape timeout (10 s).
pub const SCRAPE_WAIT: Duration = Duration::from_secs(1);

/// Starts serving `/metrics` for the service: binds and spawns the
/// listener. Called by whichever process leads, when it begins to.
pub(crate) type Serve = Arc<dyn Fn() -> std::io::Result<()> + Send + Sync>;

/// This process's part in a service.
pub(crate) struct Service {
    pub(super) dir: ServiceDir,
    pub(super) store: Arc<Store>,
    pub(super) interval: Duration,
    pub(super) publisher: Mutex<Publisher>,
    /// The listener lock, while this process holds it.
    pub(super) leader: Mutex<Option<Lock>>,
    /// How far this process read the retirement log.
    pub(super) retired: Mutex<u64>,
    /// How to serve, if this service has a listener.
    pub(super) serve: OnceLock<Serve>,
}

/// The process's service, once it joined one.
pub(super) static SERVICE: OnceLock<Service> = OnceLock::new();

/// Set when the process is exiting: only the exit's own publication runs.
pub(super) static EXITING: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Tells the other processes of the service that this one retired a value.
pub(super) fn announce_retirement(label: crate::labels::OpenLabel, value: &str) {
    if let Some(service) = SERVICE.get() {
        if let Err(e) = retired::announce(
            service.dir.path(),
            std::process::id(),
            label.as_str(),
            value,
        ) {
            tracing::warn!(error = %e, label = label.as_str(), "cannot tell the service's other processes of a retirement; they keep the value's series");
        }
    }
}

impl Service {
    /// Publishes this process's store now.
    pub(super) fn publish(&self) {
        self.publish_as(self.dir.requested());
    }

    /// Applies the retirements other processes announced, then publishes
    /// as publication `generation`.
    fn publish_as(&self, generation: u64) {
        self.apply_retirements();
        let mut publisher = self.publisher.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(e) = publisher.publish(&self.dir, &self.store, generation) {
            publisher.failed(&self.dir, e);
        }
    }

    /// Retires here what another process of the service retired.
    fn apply_retirements(&self) {
        let me = std::process::id();
        let retirements = {
            let mut offset = self.retired.lock().unwrap_or_else(|e| e.into_inner());
            retired::read_from(self.dir.path(), &mut offset)
        };
        for r in retirements.into_iter().filter(|r| r.pid != me) {
            let label = crate::labels::all_labels()
                .into_iter()
                .find(|l| l.as_str() == r.label);
            if let Some(label) = label {
                if let Some(raw) = crate::labels::find(label, &r.value) {
                    crate::labels::retire_quietly(label, raw);
                }
            }
        }
    }

    /// The service's series now: this process's, the others' fresh
    /// publications, and the exited processes' totals.
    pub(super) fn view(&self) -> Merged {
        let generation = self.dir.request();
        self.publish_as(generation);
        let me = Identity::current();
        self.dir.await_publications(me, generation, SCRAPE_WAIT);
        let mut merger = Merger::new();
        match self.dir.fold_lock() {
            Ok(_lock) => {
                if let Err(e) = self.dir.fold_locked() {
                    tracing::warn!(error = %e, "folding exited processes' publications failed; they stay as they are");
                }
                if let Some(totals) = self.dir.exited() {
                    let _ = merger.add(&totals, false);
                }
                match self.dir.publications() {
                    Ok(publications) => {
                        for p in publications {
                            let _ = merger.add(&p.bytes, p.alive);
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read the shared metrics directory")
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot lock the shared metrics directory"),
        }
        merger.finish()
    }

    /// The publisher thread, and with `wait_to_lead` a thread that takes
    /// over the listener when the listening process is gone.
    pub(super) fn spawn_threads(&'static self, wait_to_lead: bool) -> std::io::Result<()> {
        std::thread::Builder::new()
            .name("photon-shared-publish".into())
            .spawn(move || self.publish_loop())?;
        if wait_to_lead && self.serve.get().is_some() {
            std::thread::Builder::new()
                .name("photon-shared-lead".into())
                .spawn(move || self.wait_to_lead())?;
        }
        Ok(())
    }

    /// Publishes every interval and whenever a scrape asks, sleeping in
    /// between (on Linux a futex on the control word wakes it: an idle
    /// process wakes once an interval, not once a tick).
    fn publish_loop(&self) {
        let me = std::process::id();
        let mut last = std::time::Instant::now();
        let mut served = self.dir.requested();
        {
            let _gate = super::gate::GATE.read().unwrap_or_else(|e| e.into_inner());
            self.publish();
        }
        loop {
            let left = self.interval.saturating_sub(last.elapsed());
            self.dir.wait_for_request(served, left);
            if std::process::id() != me {
                return; // A forked child runs a loop of its own.
            }
            if EXITING.load(std::sync::atomic::Ordering::Acquire) {
                return;
            }
            let requested = self.dir.requested();
            if requested != served || last.elapsed() >= self.interval {
                let _gate = super::gate::GATE.read().unwrap_or_else(|e| e.into_inner());
                self.publish();
                served = requested;
                last = std::time::Instant::now();
            }
        }
    }

    fn wait_to_lead(&self) {
        let me = Identity::current();
        let lock = match Lock::take(&self.dir.path().join("listener.lock"), true) {
            Ok(Some(lock)) => lock,
            Ok(None) => return,
            Err(e) => {
                tracing::error!(error = %e, "cannot wait for the shared listener lock; this process will never serve /metrics");
                return;
            }
        };
        if Identity::current() != me {
            return;
        }
        let Some(serve) = self.serve.get() else {
            return;
        };
        let mut warned = false;
        loop {
            match serve() {
                Ok(()) => break,
                Err(e) => {
                    if !warned {
                        tracing::error!(error = %e, "took over the service's listener but cannot bind; retrying every second");
                        warned = true;
                    }
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
        }
        tracing::info!(
            pid = me.pid,
            "this process now serves the service's /metrics"
        );
        *self.leader.lock().unwrap_or_else(|e| e.into_inner()) = Some(lock);
    }
}
