//! What the drop guards of helpers and macro expansions share: resolving an
//! outcome when the guard is dropped, on every path.

use crate::labels::Status;

/// An outcome that is decided when the guard holding it is dropped.
///
/// A status set explicitly wins. Otherwise a guard dropped while its thread
/// is panicking records [`Status::Panic`] (the panic keeps unwinding), and one
/// dropped normally without a status was abandoned — an `async` future
/// dropped mid-await — and records [`Status::Cancelled`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Outcome(Option<Status>);

impl Outcome {
    /// An undecided outcome.
    pub const fn new() -> Self {
        Outcome(None)
    }

    /// Decides the outcome.
    #[inline]
    pub fn set(&mut self, status: Status) {
        self.0 = Some(status);
    }

    /// The status to record now that the guard is dropping.
    #[inline]
    pub fn resolve(&self) -> Status {
        match self.0 {
            Some(status) => status,
            None if std::thread::panicking() => Status::Panic,
            None => Status::Cancelled,
        }
    }
}
