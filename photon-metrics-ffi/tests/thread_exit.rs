//! The C ABI called from a thread-local's destructor, after the thread's
//! last-error slot is gone: what a C++ `thread_local` timer or cache does
//! when its thread exits. Every call must return its code; none may abort.

use photon_metrics_ffi::error::*;
use photon_metrics_ffi::labels::*;
use std::ffi::CStr;
use std::sync::Mutex;

/// What the destructor saw: the code of a failing call and the message.
static SEEN: Mutex<Option<(PhotonCode, String)>> = Mutex::new(None);

struct CallsAtThreadExit;

impl Drop for CallsAtThreadExit {
    fn drop(&mut self) {
        // A failing call sets the last error; then the message is read.
        let mut out = PhotonTarget { slot: 0 };
        // SAFETY: breaks the contract on purpose (a NULL value): NULL is
        // refused before anything is read, so the call fails, which is what
        // this needs; `out` is a writable local.
        let code = unsafe { photon_target_new(std::ptr::null(), 3, &mut out) };
        // SAFETY: `photon_last_error_message` returns this thread's last
        // message or, once this thread's thread-locals are being destroyed
        // (now), a static text; both NUL-terminated, and no call runs before
        // it is copied.
        let message = unsafe { CStr::from_ptr(photon_last_error_message()) }
            .to_string_lossy()
            .into_owned();
        *SEEN.lock().unwrap() = Some((code, message));
    }
}

thread_local! {
    static AT_EXIT: CallsAtThreadExit = const { CallsAtThreadExit };
}

#[test]
fn the_abi_at_thread_exit_returns_codes_instead_of_aborting() {
    std::thread::spawn(|| {
        // Registered first, so destroyed after the last-error slot, which
        // the failing call below registers (destructors run last-in first-out).
        AT_EXIT.with(|_| {});
        let mut out = PhotonTarget { slot: 0 };
        assert_eq!(
            // SAFETY: breaks the contract on purpose (a NULL value): NULL is
            // refused before anything is read, so the call fails; `out` is a
            // writable local.
            unsafe { photon_target_new(std::ptr::null(), 3, &mut out) },
            PHOTON_ERR_NULL_ARGUMENT
        );
        // SAFETY: `photon_last_error_message` returns this thread's last
        // message, alive until the next failing call on this thread (none
        // before the assert below), NUL-terminated.
        let message = unsafe { CStr::from_ptr(photon_last_error_message()) };
        assert!(message.to_str().unwrap().contains("NULL"));
    })
    .join()
    .unwrap();
    let (code, message) = SEEN.lock().unwrap().take().expect("the destructor ran");
    assert_eq!(code, PHOTON_ERR_NULL_ARGUMENT);
    assert!(message.contains("thread is exiting"), "{message}");
}
