//! Exemplars: which trace a recent observation came from.
//!
//! # Why it looks like this
//!
//! * The record path must pay (almost) nothing when no sampled span is
//!   current, so the trace context is not looked up through `tracing` or
//!   OpenTelemetry at record time. A tracing layer
//!   ([`ExemplarLayer`](crate::export::exemplars::ExemplarLayer)) pushes the
//!   context of each sampled span onto a per-thread stack when the span is
//!   entered and pops it on exit; recording reads the top of that stack: one
//!   thread-local load and a branch.
//! * Each counter and each histogram bucket keeps the *latest* exemplar in a
//!   fixed slot: no allocation, no lock. A slot is a [`seqlock`] over
//!   atomics: a writer that finds another writer mid-update skips (both
//!   exemplars are equally recent), and a reader that sees a torn update
//!   retries a few times, then serves the sample without an exemplar. The
//!   seqlock's orderings are model-checked with loom.

mod seqlock;

use seqlock::SeqLock;
use std::cell::Cell;

/// The atomics [`seqlock`] is written against; `tests/loom_exemplar.rs`
/// compiles that file against loom's instead.
mod atomic {
    pub(super) use std::hint::spin_loop;
    pub(super) use std::sync::atomic::{fence, AtomicU64, Ordering};
}

/// The W3C ids of a sampled span: what an exemplar links to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceContext {
    /// The 128-bit trace id (non-zero).
    pub trace_id: u128,
    /// The 64-bit span id (non-zero).
    pub span_id: u64,
}

/// How many nested entered spans a thread tracks; deeper spans record no
/// exemplar (their values are still recorded).
const DEPTH: usize = 32;

struct Stack {
    depth: Cell<usize>,
    frames: [Cell<Option<TraceContext>>; DEPTH],
}

thread_local! {
    static STACK: Stack = const {
        Stack {
            depth: Cell::new(0),
            frames: [const { Cell::new(None) }; DEPTH],
        }
    };
}

/// Pushes the context of a span being entered (`None` for an unsampled span,
/// which hides any sampled span below it).
pub(crate) fn push(context: Option<TraceContext>) {
    let _ = STACK.try_with(|s| {
        let depth = s.depth.get();
        if let Some(frame) = s.frames.get(depth) {
            frame.set(context);
        }
        s.depth.set(depth + 1);
    });
}

/// Pops the context pushed by the matching [`push`].
pub(crate) fn pop() {
    let _ = STACK.try_with(|s| s.depth.set(s.depth.get().saturating_sub(1)));
}

/// The sampled span current on this thread, if any.
#[inline(always)]
pub(crate) fn current() -> Option<TraceContext> {
    STACK
        .try_with(|s| match s.depth.get() {
            0 => None,
            d => s.frames.get(d - 1).and_then(Cell::get),
        })
        .ok()
        .flatten()
}

/// One exemplar as read at scrape time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Exemplar {
    pub context: TraceContext,
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
}

/// The latest exemplar of one counter or bucket: trace id (high, low),
/// span id, value bits, timestamp.
#[derive(Debug)]
pub(crate) struct ExemplarSlot(SeqLock<5>);

impl Default for ExemplarSlot {
    fn default() -> Self {
        Self(SeqLock::new())
    }
}

impl ExemplarSlot {
    /// Records `value` as this slot's exemplar if a sampled span is current.
    #[inline(always)]
    pub(crate) fn offer(&self, value: f64) {
        if let Some(context) = current() {
            self.write(context, value);
        }
    }

    #[cold]
    #[inline(never)]
    fn write(&self, context: TraceContext, value: f64) {
        // A writer that loses to another skips: both exemplars are equally recent.
        self.0.try_write(|| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            [
                (context.trace_id >> 64) as u64,
                context.trace_id as u64,
                context.span_id,
                value.to_bits(),
                now,
            ]
        });
    }

    /// Takes `other`'s exemplar if it is newer than this slot's (or this
    /// slot has none).
    pub(crate) fn keep_newer(&self, other: &ExemplarSlot) {
        self.keep_newer_words(other.words());
    }

    /// The slot's five words as [`keep_newer_words`](Self::keep_newer_words)
    /// takes them (all 0: no exemplar), for a store's saved copy.
    pub(crate) fn words(&self) -> [u64; 5] {
        self.0.read().unwrap_or([0; 5])
    }

    /// Takes the exemplar of `theirs` (another slot's [`words`](Self::words))
    /// if it is newer than this slot's.
    pub(crate) fn keep_newer_words(&self, theirs: [u64; 5]) {
        // Word 4 is the exemplar's time in milliseconds; 0: none.
        if theirs[4] == 0 {
            return;
        }
        if self.0.read().is_some_and(|mine| mine[4] >= theirs[4]) {
            return;
        }
        self.0.try_write(|| theirs);
    }

    /// Forgets the exemplar (a series re-created for another value) by
    /// writing an empty one (timestamp 0), through the lock like any write:
    /// resetting the sequence instead would let a reader mid-read match an
    /// old sequence number against words of a later write. A writer holds
    /// the lock for five stores, so waiting for it is short.
    pub(crate) fn clear(&self) {
        while !self.0.try_write(|| [0; 5]) {
            std::hint::spin_loop();
        }
    }

    /// The latest exemplar, or `None` if there is none (or a writer kept it
    /// busy for every retry).
    pub(crate) fn read(&self) -> Option<Exemplar> {
        let [hi, lo, span, value, timestamp_ms] = self.0.read()?;
        if timestamp_ms == 0 {
            // Cleared.
            return None;
        }
        Some(Exemplar {
            context: TraceContext {
                trace_id: (u128::from(hi) << 64) | u128::from(lo),
                span_id: span,
            },
            value: f64::from_bits(value),
            timestamp_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: TraceContext = TraceContext {
        trace_id: 0x0123_4567_89ab_cdef_0011_2233_4455_6677,
        span_id: 0x8899_aabb_ccdd_eeff,
    };

    #[test]
    fn no_exemplar_outside_a_sampled_span() {
        let slot = ExemplarSlot::default();
        slot.offer(1.0);
        assert_eq!(slot.read(), None);
        push(None); // an unsampled span
        slot.offer(1.0);
        pop();
        assert_eq!(slot.read(), None);
    }

    #[test]
    fn the_innermost_span_wins_and_exit_restores() {
        let slot = ExemplarSlot::default();
        let inner = TraceContext { span_id: 7, ..CTX };
        push(Some(CTX));
        push(Some(inner));
        slot.offer(2.5);
        assert_eq!(slot.read().unwrap().context, inner);
        pop();
        slot.offer(3.5);
        let e = slot.read().unwrap();
        assert_eq!((e.context, e.value), (CTX, 3.5));
        assert!(e.timestamp_ms > 1_600_000_000_000);
        pop();
        assert_eq!(current(), None);
    }
}
