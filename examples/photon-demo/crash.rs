//! The simulated compiler's deliberate crashes, told apart from real panics
//! by their payload type: only these are dressed up as one line and caught;
//! any other panic is reported by Rust's own hook and stops the demo.

use std::any::Any;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};

/// The payload of a deliberate crash (`std::panic::panic_any(SimulatedCrash(…))`).
#[derive(Debug)]
pub struct SimulatedCrash(pub &'static str);

impl fmt::Display for SimulatedCrash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Crashes on purpose: a panic the demo recognises as its own.
pub fn simulate(what: &'static str) -> ! {
    panic::panic_any(SimulatedCrash(what))
}

/// Reports simulated crashes as one line and leaves every other panic to
/// the hook that was installed before (Rust's default: message, location,
/// backtrace hint).
pub fn install_hook() {
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        match info.payload().downcast_ref::<SimulatedCrash>() {
            Some(crash) => eprintln!("photon-demo: simulated compiler crash: {crash}"),
            None => previous(info),
        }
    }));
}

/// Runs `f`, catching a simulated crash (`None`) and letting any other
/// panic unwind on.
pub fn catch_simulated<T>(f: impl FnOnce() -> T) -> Option<T> {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => Some(value),
        Err(payload) if payload.is::<SimulatedCrash>() => None,
        Err(payload) => panic::resume_unwind(payload),
    }
}

/// A panic payload as text, for the message that stops the demo.
pub fn describe(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-text payload".to_string()
    }
}
