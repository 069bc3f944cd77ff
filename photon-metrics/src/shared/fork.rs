//! What a fork and an exit do to a process's part in a service.
//!
//! * Before a fork, the forking thread takes the [`GATE`](super::gate::GATE) for writing and
//!   the publisher's lock: it waits for photon's own threads to finish a
//!   render or a publication (which hold the store's, the labels' and the
//!   registry's locks), so the child inherits none of those locked.
//! * In the child, the listening sockets are closed: the child does not
//!   serve them (its threads are gone), and a copy held open would keep
//!   accepting connections nobody answers after the parent dies, and the
//!   port from the process that takes over.
//! * In the child: a new identity, the parent's records zeroed in the
//!   child's copy of the store, the inherited listener lock let go of
//!   (the parent keeps it), and threads of its own: threads do not
//!   survive a fork.
//! * At `exit()`: one last publication, so a worker that exits loses
//!   nothing.

use super::gate::GATE;
use super::publisher::Publisher;
use super::service::{EXITING, SERVICE};
use std::cell::RefCell;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{MutexGuard, Once, RwLockWriteGuard};

/// What the forking thread holds across the fork.
struct Held {
    _gate: RwLockWriteGuard<'static, ()>,
    publisher: Option<MutexGuard<'static, Publisher>>,
}

thread_local! {
    static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
}

/// Listening sockets a child closes (-1: none), lock-free for the child.
static LISTENING: [AtomicI32; 8] = [const { AtomicI32::new(-1) }; 8];

/// Has a forked child close `fd`, a listening socket of this process.
pub(crate) fn close_in_children(fd: std::os::fd::RawFd) {
    on_fork_and_exit();
    for slot in &LISTENING {
        if slot
            .compare_exchange(-1, fd, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            return;
        }
    }
}

/// Registers the fork and exit handlers (once per process).
pub(crate) fn on_fork_and_exit() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: the handlers are `extern "C"` functions that live for the
        // whole program.
        unsafe {
            libc::pthread_atfork(Some(prepare), Some(parent), Some(child));
            libc::atexit(at_exit);
        }
    });
}

extern "C" fn prepare() {
    let gate = GATE.write().unwrap_or_else(|e| e.into_inner());
    let publisher = SERVICE
        .get()
        .map(|service| service.publisher.lock().unwrap_or_else(|e| e.into_inner()));
    HELD.with(|held| {
        *held.borrow_mut() = Some(Held {
            _gate: gate,
            publisher,
        })
    });
}

extern "C" fn parent() {
    HELD.with(|held| drop(held.borrow_mut().take()));
}

extern "C" fn child() {
    for slot in &LISTENING {
        let fd = slot.swap(-1, Ordering::AcqRel);
        if fd >= 0 {
            // SAFETY: a descriptor this process's listener registered; the
            // child has no thread left that uses it.
            unsafe { libc::close(fd) };
        }
    }
    let held = HELD.with(|held| held.borrow_mut().take());
    let Some(service) = SERVICE.get() else { return };
    if let Some(mut publisher) = held.and_then(|h| h.publisher) {
        publisher.forked();
    }
    service.store.zero_after_fork();
    if let Ok(mut leader) = service.leader.try_lock() {
        // Closing the child's copy leaves the parent's lock in place.
        drop(leader.take());
    }
    if let Err(e) = service.spawn_threads(true) {
        tracing::error!(error = %e, "a forked child cannot start its metrics threads; its records are not published");
    }
}

extern "C" fn at_exit() {
    if let Some(service) = SERVICE.get() {
        let _gate = GATE.read().unwrap_or_else(|e| e.into_inner());
        // The publisher thread publishes no more: the process is ending,
        // and a write cut short by its end would leave a temporary file.
        EXITING.store(true, std::sync::atomic::Ordering::Release);
        service.publish();
    }
}
