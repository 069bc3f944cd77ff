//! What a fork and an exit do to a process's part in a service.
//!
//! * Before a fork, the forking thread holds the publisher's lock, so no
//!   other thread is half way through a publication the child would
//!   inherit locked.
//! * In the child: a new identity, the parent's records zeroed in the
//!   child's copy of the store, the inherited listener lock let go of
//!   (the parent keeps it), and threads of its own: threads do not
//!   survive a fork.
//! * At `exit()`: one last publication, so a worker that exits loses
//!   nothing.

use super::publisher::Publisher;
use super::service::{EXITING, SERVICE};
use std::cell::RefCell;
use std::sync::{MutexGuard, Once};

thread_local! {
    /// The publisher's lock, held by the forking thread across the fork.
    static HELD: RefCell<Option<MutexGuard<'static, Publisher>>> = const { RefCell::new(None) };
}

/// Registers the fork and exit handlers (once per process).
pub(super) fn on_fork_and_exit() {
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
    if let Some(service) = SERVICE.get() {
        let guard = service.publisher.lock().unwrap_or_else(|e| e.into_inner());
        HELD.with(|held| *held.borrow_mut() = Some(guard));
    }
}

extern "C" fn parent() {
    HELD.with(|held| drop(held.borrow_mut().take()));
}

extern "C" fn child() {
    let Some(service) = SERVICE.get() else { return };
    HELD.with(|held| {
        if let Some(mut publisher) = held.borrow_mut().take() {
            publisher.forked();
        }
    });
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
        // The publisher thread publishes no more: the process is ending,
        // and a write cut short by its end would leave a temporary file.
        EXITING.store(true, std::sync::atomic::Ordering::Release);
        service.publish();
    }
}
