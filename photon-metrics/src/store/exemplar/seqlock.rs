//! A seqlock over `N` words: one writer at a time wins, the others skip;
//! readers never block a writer and retry a torn read.
//!
//! # Why the orderings are what they are
//!
//! The words are plain `Relaxed` atomics (so a torn read is a wrong value,
//! never undefined behaviour), and the sequence number alone says whether
//! what a reader saw belongs to one write. That needs, as in crossbeam's
//! `SeqLock` and Boehm's "Can seqlocks get along with programming language
//! memory models?":
//!
//! * writer: mark the sequence odd (`fetch_or`, which also tells a writer
//!   that finds it odd already to skip), then `fence(Release)`, then the
//!   word stores, then publish the next even sequence with `Release`. The fence
//!   is what makes any word store a reader can see carry the odd mark with
//!   it; without it (the read-modify-write alone orders nothing *after*
//!   itself), AArch64 may make a new trace id visible while the sequence
//!   still reads even and unchanged, and the reader accepts a mixture.
//! * reader: load the sequence with `Acquire`, load the words, then
//!   `fence(Acquire)`, then load the sequence again: if it is unchanged and
//!   even, no word came from a write that had begun.
//!
//! `tests/loom_exemplar.rs` compiles this file against loom's atomics and
//! checks every interleaving and every permitted stale read of a writer
//! racing a reader; it fails when the writer's fence is removed. The atomics
//! come from the parent's `atomic` module so that file can swap them.

use super::atomic::{fence, spin_loop, AtomicU64, Ordering};

/// How many times a reader retries a torn or in-progress read before it
/// gives up (a scrape serves the sample without an exemplar then).
const READ_ATTEMPTS: usize = 8;

/// `N` words written and read as one value.
#[derive(Debug)]
pub(crate) struct SeqLock<const N: usize> {
    /// Even: stable; odd: a write is in progress; 0: never written.
    seq: AtomicU64,
    words: [AtomicU64; N],
}

impl<const N: usize> SeqLock<N> {
    /// A lock that has never been written: [`read`](Self::read) is `None`.
    pub(crate) fn new() -> Self {
        Self {
            seq: AtomicU64::new(0),
            words: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    /// Writes the words `make` returns, unless another writer is mid-write
    /// (then it returns `false` without calling `make`: both values are
    /// equally recent, and the hot path must not wait).
    pub(crate) fn try_write(&self, make: impl FnOnce() -> [u64; N]) -> bool {
        // One read-modify-write both tests and takes the lock: or-ing in the
        // odd bit leaves a busy lock as it was. Acquire: this write's words
        // are ordered after the previous writer's, whose Release store it read.
        let seq = self.seq.fetch_or(1, Ordering::Acquire);
        if seq & 1 == 1 {
            return false;
        }
        // Release: a reader that sees any word below also sees the odd mark
        // above (see the module docs).
        fence(Ordering::Release);
        for (word, value) in self.words.iter().zip(make()) {
            word.store(value, Ordering::Relaxed);
        }
        // seq + 1 to seq + 2 with a read-modify-write rather than a store:
        // on hardware either is right, but loom orders a plain store loosely
        // against a losing writer's concurrent `fetch_or` (it lets that
        // odd value come last), and the model must check the code that runs.
        // This is the cold path: only sampled spans write exemplars.
        self.seq.fetch_add(1, Ordering::Release);
        true
    }

    /// The words of one complete write, or `None` if nothing was ever
    /// written (or writers kept it busy for every retry).
    pub(crate) fn read(&self) -> Option<[u64; N]> {
        for _ in 0..READ_ATTEMPTS {
            let before = self.seq.load(Ordering::Acquire);
            if before == 0 {
                return None;
            }
            if before & 1 == 1 {
                spin_loop();
                continue;
            }
            let words = std::array::from_fn(|i| self.words[i].load(Ordering::Relaxed));
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == before {
                return Some(words);
            }
        }
        None
    }
}
