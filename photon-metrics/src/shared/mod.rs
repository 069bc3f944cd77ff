//! One service, many processes: the worker processes of a pre-fork
//! server (gunicorn, uvicorn `--workers N`), a pool of compile workers,
//! served as one `/metrics`.
//!
//! Every process of the service names the same directory
//! ([`PrometheusExporterBuilder::shared_dir`], or the
//! `PHOTON_METRICS_SHARED_DIR` environment variable a launcher sets for
//! Python and C++ workers alike), and then:
//!
//! * **records as a single process does**: the record path is the same
//!   code, into the process's own store; nothing is added to it;
//! * **publishes** its store to the directory (`<pid>.live`) from a
//!   background thread every [`DEFAULT_INTERVAL`] (or
//!   [`PrometheusExporterBuilder::shared_interval`]), at once when a scrape
//!   asks, and once more when it exits through `exit()`;
//! * **exactly one process listens**: the first to take the directory's
//!   listener lock binds the port; the others wait on the lock, and when
//!   the listening process dies, whatever way, one of them takes over.
//!   Workers that all call `install()` with the same port get no
//!   "address in use";
//! * **any render serves the service**: the process's own store read now,
//!   the other live processes' publications (fresh: a scrape asks each
//!   for one and waits up to [`SCRAPE_WAIT`]), and the totals of exited
//!   processes, merged: counters and histograms (classic and native
//!   buckets) add up, the earliest start time and the newest exemplar of
//!   each bucket are kept, and gauges combine as their family declares
//!   ([`Merge`](crate::catalog::Merge): sum of live processes by default;
//!   the catalog's device temperatures are the latest value).
//!
//! # Forks, exits and restarts
//!
//! * A process that installed and then forks (gunicorn `--preload`) gives
//!   each child a store of its own: at the fork the child's copy is
//!   zeroed (what the parent recorded stays the parent's), the child
//!   publishes under its own pid from a thread of its own, and it waits
//!   to take over the listener like any other worker.
//! * An exited process's counters and histograms are folded into the
//!   directory's `exited` totals and its file removed, so the directory
//!   holds one file per live process plus one, however many workers come
//!   and go. Its gauges leave with it.
//! * A service started when no process of the directory is alive, no
//!   parent of one (a gunicorn master restarting every worker at once)
//!   and none published in the last 30 s starts from zero: what a
//!   previous run (or a crash) left is removed and counted in a warning
//!   (on stderr when no `tracing` subscriber is set).
//! * Every process joining folds the exited processes' files, so the
//!   directory stays small between scrapes too.
//!
//! # What a process's death takes with it
//!
//! A process killed outright (`SIGKILL`, the OOM killer) takes what it
//! recorded since its latest publication: at most one interval of
//! records. One that exits through `exit()` (a normal return, Python's
//! `sys.exit`, a gunicorn worker's restart) publishes first and loses
//! nothing.
//!
//! # Retirement
//!
//! A value one process retires (`retire()`; an idle expiry is not one) is
//! retired in every process: the retirement goes to the directory's log,
//! which every process applies before its next publication, and the
//! value's series leave the exited processes' totals. As in one process,
//! the next scrape shows the retired series' final values once.
//!
//! # What stays per process
//!
//! * Label caps: each process caps its own values, so the service can
//!   show up to (processes × cap) values of a label.
//! * Idle expiry: a value idle in one process may be busy in another;
//!   each expires its own. The exited processes' totals keep their series
//!   until the value is retired or the service restarts.
//! * Series of names no family declares (the `metrics` facade's foreign
//!   names) are served by the listening process from its own store only;
//!   declare a family to have a series merged.
//!
//! # Costs
//!
//! Nothing on the record path. Per publication, a walk of the process's
//! series into a file; per scrape, every live process publishes and the
//! listening one reads and merges every publication: 0.41 s for 64
//! processes × 11,000 series on 2 cores (`benches/shared.rs`). On disk,
//! one publication per live process plus the exited totals, whose size
//! is that of their series, not of how many processes exited.
//!
//! [`PrometheusExporterBuilder::shared_dir`]: crate::export::prometheus::PrometheusExporterBuilder::shared_dir
//! [`PrometheusExporterBuilder::shared_interval`]: crate::export::prometheus::PrometheusExporterBuilder::shared_interval

mod dir;
pub(crate) mod fork;
pub(crate) mod gate;
mod publisher;
mod retired;
mod service;

use crate::store::Store;
use dir::{Identity, Lock, ServiceDir};
use publisher::Publisher;
pub(crate) use service::Serve;
pub use service::SCRAPE_WAIT;
use service::{announce_retirement, Service, SERVICE};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// The environment variable that names the service's directory.
pub const SHARED_DIR_ENV: &str = "PHOTON_METRICS_SHARED_DIR";

/// How often a process publishes its store when no scrape asks sooner.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);

/// How a process joins a service.
#[derive(Debug, Clone)]
pub(crate) struct SharedConfig {
    pub(crate) dir: PathBuf,
    pub(crate) interval: Duration,
}

/// The directory is unusable: it cannot be created, written or locked.
#[derive(Debug, thiserror::Error)]
#[error("cannot use `{}` as the shared metrics directory: {source}", dir.display())]
pub struct SharedDirError {
    dir: PathBuf,
    #[source]
    source: std::io::Error,
}

/// A process's part in a service, before its store exists.
pub(crate) struct Joining {
    dir: ServiceDir,
    interval: Duration,
    /// The listener lock, if this process took it.
    leader: Option<Lock>,
}

impl Joining {
    /// Opens the directory and joins the service (see [`ServiceDir::join`]).
    /// With `listen`, tries to become the listening process.
    pub(crate) fn open(config: &SharedConfig, listen: bool) -> Result<Joining, SharedDirError> {
        let error = |source| SharedDirError {
            dir: config.dir.clone(),
            source,
        };
        let dir = ServiceDir::open(&config.dir).map_err(error)?;
        let joined = dir.join(Identity::current()).map_err(error)?;
        if joined.stale_files > 0 {
            // Said even with no subscriber: Python and C++ processes have none.
            crate::warning::warn(|| {
                tracing::warn!(
                    dir = %config.dir.display(),
                    files = joined.stale_files,
                    "the shared metrics directory held files of a previous run ({} of them; no process of it alive, none published in the last {} s); removed them, the service starts from zero",
                    joined.stale_files,
                    dir::RESTART_WINDOW.as_secs()
                );
            });
        }
        let leader = if listen {
            Lock::take(&dir.path().join("listener.lock"), false).map_err(error)?
        } else {
            None
        };
        Ok(Joining {
            dir,
            interval: config.interval,
            leader,
        })
    }

    /// Whether this process is to listen now.
    pub(crate) fn leads(&self) -> bool {
        self.leader.is_some()
    }

    /// Starts the process's part: its publications, and every render of
    /// `store` serving the service. With `serve` and no lead yet, a thread
    /// waits to take over the listener.
    pub(crate) fn start(self, store: Arc<Store>, serve: Option<Serve>) -> std::io::Result<()> {
        let leads = self.leads();
        // Retirements announced before this process joined are not its.
        let log_end = retired::state(self.dir.path()).map_or(0, |(len, _)| len);
        let service = Service {
            publisher: Mutex::new(Publisher::new(Identity::current(), self.dir.requested())),
            dir: self.dir,
            store: store.clone(),
            interval: self.interval,
            leader: Mutex::new(self.leader),
            retired: Mutex::new(log_end),
            serve: OnceLock::new(),
        };
        if let Some(serve) = serve {
            let _ = service.serve.set(serve);
        }
        if SERVICE.set(service).is_err() {
            return Err(std::io::Error::other(
                "this process already joined a service",
            ));
        }
        let service = SERVICE.get().expect("just set");
        crate::labels::on_explicit_retire(announce_retirement);
        store.serve_service(Box::new(|_| service.view()));
        fork::on_fork_and_exit();
        service.spawn_threads(!leads)
    }
}

/// Publishes this process's store to its service's directory now, if it
/// joined one: for a process about to end without `exit()` (Python's
/// `os._exit`, which `multiprocessing` workers end with; `_exit` in C), so
/// it loses nothing. Returns whether it published.
pub fn publish_now() -> bool {
    match SERVICE.get() {
        Some(service) => {
            service.publish();
            true
        }
        None => false,
    }
}

/// The directory of the service this process joined, if any.
pub fn joined_dir() -> Option<&'static Path> {
    SERVICE.get().map(|s| s.dir.path())
}
