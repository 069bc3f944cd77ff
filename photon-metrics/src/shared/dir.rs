//! The service's directory: one file per live process (`<pid>.live`, its
//! latest publication), the totals of exited processes (`exited`), the
//! control word scrapes ask for fresh publications through (`control`),
//! and two lock files (`fold.lock`, `listener.lock`).
//!
//! Files are replaced by rename, so a reader sees a whole publication or
//! the one before, never half of one. Exited processes are folded into
//! `exited` under `fold.lock`: their files are first renamed to
//! `<pid>.folding-<n>`, `n` being the fold's number, which `exited`
//! records; a fold that died half way is finished by the next, which
//! knows from `n` whether `exited` already holds them.

use super::retired;
use crate::store::merged::Merger;
use crate::store::saved::{self, Header};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// How recently a process that is gone must have published for the
/// service to count as running still (its workers restarting), rather
/// than as a previous run whose files go.
pub(crate) const RESTART_WINDOW: std::time::Duration = std::time::Duration::from_secs(30);

/// One process: its pid and start time (the two tell a pid reused by
/// another process apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Identity {
    pub(crate) pid: u32,
    pub(crate) started: u64,
}

impl Identity {
    /// This process, now (a forked child is another process than its
    /// parent).
    pub(crate) fn current() -> Identity {
        let pid = std::process::id();
        Identity {
            pid,
            started: started(pid).unwrap_or(0),
        }
    }

    /// This process's parent, now.
    pub(crate) fn parent() -> Identity {
        // SAFETY: getppid cannot fail and touches no memory.
        let pid = u32::try_from(unsafe { libc::getppid() }).unwrap_or(0);
        Identity {
            pid,
            started: started(pid).unwrap_or(0),
        }
    }

    /// Whether the process still runs.
    pub(crate) fn is_alive(&self) -> bool {
        let Ok(pid) = libc::pid_t::try_from(self.pid) else {
            return false;
        };
        // SAFETY: signal 0 checks that the process exists and sends nothing.
        let exists = unsafe { libc::kill(pid, 0) } == 0
            || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        exists && (self.started == 0 || started(self.pid) == Some(self.started))
    }
}

/// A process's start time in clock ticks since boot (`/proc/<pid>/stat`).
#[cfg(target_os = "linux")]
fn started(pid: u32) -> Option<u64> {
    let pid = i32::try_from(pid).ok()?;
    procfs::process::Process::new(pid)
        .ok()?
        .stat()
        .ok()
        .map(|s| s.starttime)
}

#[cfg(not(target_os = "linux"))]
fn started(_: u32) -> Option<u64> {
    None
}

/// An exclusive `flock` on a file: released when dropped or when the
/// process dies, whatever way.
pub(crate) struct Lock {
    _file: File,
}

impl Lock {
    /// Takes the lock, waiting for it when `wait`; `None` when it is held
    /// and not `wait`.
    pub(crate) fn take(path: &Path, wait: bool) -> io::Result<Option<Lock>> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        let op = if wait {
            libc::LOCK_EX
        } else {
            libc::LOCK_EX | libc::LOCK_NB
        };
        loop {
            // SAFETY: a valid open descriptor; flock has no memory effects.
            if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
                return Ok(Some(Lock { _file: file }));
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EWOULDBLOCK) if !wait => return Ok(None),
                _ => return Err(e),
            }
        }
    }
}

/// A `<pid>.live` file as listed, with its header (`None`: not readable
/// as a publication).
struct Live {
    path: PathBuf,
    header: Option<Header>,
}

impl Live {
    /// The process that wrote it.
    fn id(&self) -> Option<Identity> {
        self.header.map(|h| Identity {
            pid: h.pid,
            started: h.started,
        })
    }
}

/// One process's latest publication.
pub(crate) struct Publication {
    pub(crate) bytes: Vec<u8>,
    /// Whether the process still runs.
    pub(crate) alive: bool,
}

/// The directory of one service.
#[derive(Debug)]
pub(crate) struct ServiceDir {
    path: PathBuf,
    /// The control word: the latest publication a scrape asked for.
    control: memmap2::MmapMut,
}

/// What [`ServiceDir::join`] found.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Joined {
    /// Files of a previous run (no process of it alive) that were removed.
    pub(crate) stale_files: usize,
    /// Exited processes' publications folded into the totals.
    pub(crate) folded: usize,
}

impl ServiceDir {
    /// Opens (creating, private to this user) the directory at `path`.
    pub(crate) fn open(path: &Path) -> io::Result<ServiceDir> {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path.join("control"))?;
        if file.metadata()?.len() < 8 {
            file.set_len(8)?;
        }
        // SAFETY: the file is the service's own; its one word is only ever
        // accessed through atomics (see `control`), by every process.
        let control = unsafe { memmap2::MmapOptions::new().len(8).map_mut(&file)? };
        Ok(ServiceDir {
            path: path.to_path_buf(),
            control,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn control(&self) -> &AtomicU64 {
        let ptr = self.control.as_ptr().cast::<AtomicU64>();
        // SAFETY: the mapping is 8 bytes, page-aligned and lives as long as
        // `self`; every process touches the word only atomically.
        unsafe { &*ptr }
    }

    /// Asks every process for a fresh publication; returns its number.
    pub(crate) fn request(&self) -> u64 {
        let generation = self.control().fetch_add(1, Ordering::AcqRel) + 1;
        self.wake();
        generation
    }

    /// Wakes every process waiting in [`wait_for_request`](Self::wait_for_request).
    #[cfg(all(target_os = "linux", target_endian = "little"))]
    fn wake(&self) {
        // SAFETY: FUTEX_WAKE on the control word's low half, a valid
        // shared mapping that lives as long as `self`; it reads nothing.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                self.control().as_ptr().cast::<u32>(),
                libc::FUTEX_WAKE,
                i32::MAX,
            );
        }
    }

    #[cfg(not(all(target_os = "linux", target_endian = "little")))]
    fn wake(&self) {}

    /// Waits until a publication later than `seen` is asked for, or
    /// `timeout` passes (or a signal comes: the caller looks again).
    #[cfg(all(target_os = "linux", target_endian = "little"))]
    pub(crate) fn wait_for_request(&self, seen: u64, timeout: std::time::Duration) {
        if self.requested() != seen {
            return;
        }
        let ts = libc::timespec {
            tv_sec: libc::time_t::try_from(timeout.as_secs()).unwrap_or(libc::time_t::MAX),
            tv_nsec: libc::c_long::from(timeout.subsec_nanos() as i32),
        };
        // SAFETY: FUTEX_WAIT (shared, across processes) on the control
        // word's low half, which the kernel compares with `seen`'s before
        // sleeping; `ts` outlives the call. The word is little-endian's
        // low half (little-endian: the other platforms poll).
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                self.control().as_ptr().cast::<u32>(),
                libc::FUTEX_WAIT,
                seen as u32,
                &ts as *const libc::timespec,
            );
        }
    }

    #[cfg(not(all(target_os = "linux", target_endian = "little")))]
    pub(crate) fn wait_for_request(&self, seen: u64, timeout: std::time::Duration) {
        let tick = std::time::Duration::from_millis(10);
        let deadline = std::time::Instant::now() + timeout;
        while self.requested() == seen && std::time::Instant::now() < deadline {
            std::thread::sleep(tick);
        }
    }

    /// The latest publication asked for.
    pub(crate) fn requested(&self) -> u64 {
        self.control().load(Ordering::Acquire)
    }

    fn live_path(&self, id: Identity) -> PathBuf {
        self.path.join(format!("{}.live", id.pid))
    }

    /// Joins the service as `me`: if no process of the directory is alive,
    /// this is a new run of the service, and what the last one left is
    /// removed first (a service restart starts from zero, as a single
    /// process does).
    pub(crate) fn join(&self, me: Identity) -> io::Result<Joined> {
        let _lock = Lock::take(&self.path.join("fold.lock"), true)?;
        // The service still runs while any of its processes does, or the
        // parent of any (a master restarting all its workers at once), or
        // one published within the restart window (a master that is PID 1
        // in a container, which says nothing as a parent).
        let mut running = false;
        for live in self.lives()? {
            let id = live.id();
            let Some(header) = live.header else {
                continue;
            };
            let parent = Identity {
                pid: header.parent_pid,
                started: header.parent_started,
            };
            let recent = crate::store::table::now_ns().saturating_sub(header.saved_ns)
                < RESTART_WINDOW.as_nanos() as u64;
            if id.is_some_and(|i| i != me && i.is_alive())
                || (parent.pid > 1 && parent.is_alive())
                || (id.is_some_and(|i| i != me) && recent)
            {
                running = true;
                break;
            }
        }
        let mut joined = Joined::default();
        if running {
            // Fold what exited since: the directory stays one file per
            // live process, scraped or not.
            joined.folded = self.fold_locked()?;
        } else {
            for entry in fs::read_dir(&self.path)? {
                let entry = entry?;
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if name.ends_with(".live")
                    || name.contains(".folding-")
                    || ["exited", "retired", "retired.applied"].contains(&&*name)
                {
                    fs::remove_file(entry.path())?;
                    joined.stale_files += 1;
                }
            }
        }
        // Visible before the lock goes: a process joining after this one
        // must not take the service for gone while this one has not
        // published yet (and remove what exited processes left).
        let mut empty = Vec::new();
        let parent = Identity::parent();
        let header = Header {
            pid: me.pid,
            started: me.started,
            generation: self.requested(),
            saved_ns: crate::store::table::now_ns(),
            parent_pid: parent.pid,
            parent_started: parent.started,
        };
        saved::save(
            &crate::store::merged::Merger::new().finish(),
            header,
            &mut |_, _, _| 0,
            &mut empty,
        );
        self.publish(me, &empty)?;
        Ok(joined)
    }

    /// Every `<pid>.live` file with its header, read once.
    fn lives(&self) -> io::Result<Vec<Live>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.path)? {
            let entry = entry?;
            if !entry.file_name().to_string_lossy().ends_with(".live") {
                continue;
            }
            let header = read_header(&entry.path());
            out.push(Live {
                path: entry.path(),
                header,
            });
        }
        Ok(out)
    }

    /// Replaces this process's publication with `bytes`.
    pub(crate) fn publish(&self, me: Identity, bytes: &[u8]) -> io::Result<()> {
        let tmp = self.path.join(format!(".{}.tmp", me.pid));
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        drop(file);
        fs::rename(&tmp, self.live_path(me))
    }

    /// The live processes' publications, each with whether its process
    /// still runs.
    pub(crate) fn publications(&self) -> io::Result<Vec<Publication>> {
        let mut out = Vec::new();
        for live in self.lives()? {
            let id = live.id();
            let Ok(bytes) = fs::read(&live.path) else {
                continue; // Folded away since the listing.
            };
            let alive = id.is_some_and(|i| i.is_alive());
            out.push(Publication { bytes, alive });
        }
        Ok(out)
    }

    /// Waits up to `wait` until every live process other than `me` has
    /// published `generation` or later.
    pub(crate) fn await_publications(
        &self,
        me: Identity,
        generation: u64,
        wait: std::time::Duration,
    ) {
        let deadline = std::time::Instant::now() + wait;
        loop {
            let Ok(lives) = self.lives() else { return };
            let behind = lives.iter().any(|live| {
                live.id().is_some_and(|i| i != me && i.is_alive())
                    && live.header.is_some_and(|h| h.generation < generation)
            });
            if !behind || std::time::Instant::now() >= deadline {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }

    /// The exited processes' totals, if any.
    pub(crate) fn exited(&self) -> Option<Vec<u8>> {
        fs::read(self.path.join("exited")).ok()
    }

    /// Holds off folds (and joins) while held: what a reader of the totals
    /// and the publications holds, so no exited process is counted twice
    /// or not at all.
    pub(crate) fn fold_lock(&self) -> io::Result<Lock> {
        Lock::take(&self.path.join("fold.lock"), true).map(|l| l.expect("waited for"))
    }

    /// Folds the publications of processes that no longer run into the
    /// totals and removes their files; returns how many were folded. The
    /// caller holds [`fold_lock`](Self::fold_lock).
    pub(crate) fn fold_locked(&self) -> io::Result<usize> {
        let totals = self.exited();
        let number = totals
            .as_deref()
            .and_then(|t| saved::header(t).ok())
            .map_or(0, |h| h.generation);
        // Finish a fold that died half way: its files are in the totals
        // if the totals carry its number.
        let mut pending = Vec::new();
        for entry in fs::read_dir(&self.path)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some((_, n)) = name.split_once(".folding-") {
                match n.parse::<u64>() {
                    Ok(n) if n <= number => fs::remove_file(entry.path())?,
                    _ => pending.push(entry.path()),
                }
            }
        }
        // Retirements since the last fold leave the totals too.
        let applied_path = self.path.join("retired.applied");
        let mut applied: u64 = fs::read_to_string(&applied_path)
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(0);
        let retirements = retired::read_from(&self.path, &mut applied);
        self.remove_orphan_temporaries()?;
        let next = number + 1;
        for live in self.lives()? {
            if live.id().is_some_and(|i| i.is_alive()) {
                continue;
            }
            let path = live.path;
            let mut folding = path.clone().into_os_string();
            folding.push(format!(".folding-{next}"));
            let folding = PathBuf::from(folding);
            fs::rename(&path, &folding)?;
            pending.push(folding);
        }
        if pending.is_empty() && retirements.is_empty() {
            self.empty_retired_log(applied)?;
            return Ok(0);
        }
        let skip = |text: &str| retirements.iter().any(|r| r.matches(text));
        let mut merger = Merger::new();
        if let Some(t) = &totals {
            let _ = merger.add_except(t, false, &skip);
        }
        for path in &pending {
            if let Ok(bytes) = fs::read(path) {
                if merger.add_except(&bytes, false, &skip).is_err() {
                    tracing::warn!(file = %path.display(), "an exited process's publication does not parse; it was dropped");
                }
            }
        }
        let merged = merger.finish();
        let mut out = Vec::new();
        let header = Header {
            generation: next,
            saved_ns: crate::store::table::now_ns(),
            ..Header::default()
        };
        saved::save(&merged, header, &mut |_, _, _| 0, &mut out);
        let tmp = self.path.join(".exited.tmp");
        fs::write(&tmp, &out)?;
        fs::rename(&tmp, self.path.join("exited"))?;
        for path in &pending {
            fs::remove_file(path)?;
        }
        if !retirements.is_empty() {
            fs::write(&applied_path, applied.to_string())?;
        }
        self.empty_retired_log(applied)?;
        Ok(pending.len())
    }

    /// Removes the temporary files (`.<pid>.tmp`) of processes that died
    /// while writing a publication.
    fn remove_orphan_temporaries(&self) -> io::Result<()> {
        for entry in fs::read_dir(&self.path)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let pid = name
                .strip_prefix('.')
                .and_then(|n| n.strip_suffix(".tmp"))
                .and_then(|n| n.parse::<u32>().ok());
            if let Some(pid) = pid {
                let id = Identity { pid, started: 0 };
                if !id.is_alive() {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        Ok(())
    }

    /// Empties the retirement log once it is past [`retired::LOG_LIMIT`],
    /// the totals applied all of it (`applied`), and every live process
    /// published since it last changed (so applied it too).
    fn empty_retired_log(&self, applied: u64) -> io::Result<()> {
        let Some((len, changed_ns)) = retired::state(&self.path) else {
            return Ok(());
        };
        if len < retired::LOG_LIMIT || applied != len {
            return Ok(());
        }
        for live in self.lives()? {
            let behind = live.id().is_some_and(|i| i.is_alive())
                && live.header.is_none_or(|h| h.saved_ns <= changed_ns);
            if behind {
                return Ok(());
            }
        }
        retired::empty(&self.path)?;
        fs::write(self.path.join("retired.applied"), "0")
    }
}

fn read_header(path: &Path) -> Option<Header> {
    use std::io::Read as _;
    let mut buf = [0u8; saved::HEADER_BYTES];
    File::open(path).ok()?.read_exact(&mut buf).ok()?;
    saved::header(&buf).ok()
}
