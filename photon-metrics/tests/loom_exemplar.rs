//! The exemplar seqlock under loom: every interleaving of a writer and a
//! reader, and every stale value the C++ memory model lets a `Relaxed` load
//! return (which is what AArch64 does and x86 never shows).
//!
//! The seqlock's source is compiled here a second time against loom's
//! atomics, so this runs in a plain `cargo test` without `--cfg loom` and
//! without rebuilding the crate.

/// What `seqlock.rs` imports from its parent: loom's model atomics.
mod atomic {
    pub(crate) use loom::hint::spin_loop;
    pub(crate) use loom::sync::atomic::{fence, AtomicU64, Ordering};
}

#[path = "../src/store/exemplar/seqlock.rs"]
mod seqlock;

use loom::sync::Arc;
use seqlock::SeqLock;

/// Two exemplars that differ in every word. The model keeps two words (a
/// trace id and a span id) rather than the slot's five: the protocol does
/// not depend on `N`, and every extra word multiplies the interleavings
/// (two words: under a second, exhaustively; three: five seconds).
const FIRST: [u64; 2] = [0x1111_7ace, 0x1111_5fa1];
const SECOND: [u64; 2] = [0x2222_7ace, 0x2222_5fa1];

#[test]
fn loom_a_reader_never_sees_words_of_two_writes() {
    loom::model(|| {
        let lock = Arc::new(SeqLock::<2>::new());
        let writer = {
            let lock = Arc::clone(&lock);
            loom::thread::spawn(move || {
                assert!(lock.try_write(|| FIRST));
                assert!(lock.try_write(|| SECOND));
            })
        };
        // A scrape racing both writes.
        if let Some(words) = lock.read() {
            assert!(
                words == FIRST || words == SECOND,
                "a torn exemplar was accepted: {words:x?} (trace id of one write, span id of another)"
            );
        }
        writer.join().unwrap();
        assert_eq!(lock.read(), Some(SECOND), "the last write is what stays");
    });
}

#[test]
fn loom_a_writer_that_finds_another_mid_write_skips() {
    loom::model(|| {
        let lock = Arc::new(SeqLock::<2>::new());
        let other = {
            let lock = Arc::clone(&lock);
            loom::thread::spawn(move || lock.try_write(|| [1, 1]))
        };
        let mine = lock.try_write(|| [2, 2]);
        let theirs = other.join().unwrap();
        assert!(mine || theirs, "at least one writer wins");
        let words = lock.read().expect("a write finished");
        assert!(
            (mine && words == [2, 2]) || (theirs && words == [1, 1]),
            "what is read is one winner's write: {words:?}"
        );
    });
}
