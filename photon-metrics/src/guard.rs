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

/// The span a guard marks as failed when it ends without an outcome: a
/// panic unwinding through it, or a future dropped before it completed.
#[derive(Debug, Default)]
pub(crate) struct GuardSpan(Option<tracing::Span>);

impl GuardSpan {
    pub(crate) fn attach(&mut self, span: &tracing::Span) {
        if !span.is_disabled() {
            self.0 = Some(span.clone());
        }
    }

    /// Marks the span an error with `error_kind` = `panic` or `cancelled`,
    /// the way OpenTelemetry backends read it; nothing for other outcomes
    /// (`Ok` and `Err` are marked where the result is classified).
    pub(crate) fn unfinished(&self, status: Status) {
        let Some(span) = &self.0 else { return };
        let (kind, message) = match status {
            Status::Panic => ("panic", "panicked"),
            Status::Cancelled => ("cancelled", "cancelled: dropped before it completed"),
            Status::Success | Status::Error => return,
        };
        span.record("error_kind", kind);
        span.record("otel.status_code", "ERROR");
        span.record("otel.status_description", message);
    }
}
