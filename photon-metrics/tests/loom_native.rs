//! The native-histogram cell under loom: every interleaving of two
//! observers installing the same chunk (the directory's compare-and-swap)
//! and pushing the same list node (outliers and negative values), with a
//! scrape reading meanwhile. No observation may be lost or counted twice,
//! no chunk installed twice, and what a scrape reads never exceeds what was
//! observed.
//!
//! `cell.rs` is compiled here a second time against loom's atomics (its
//! arithmetic from `index.rs` as it is), so this runs in a plain
//! `cargo test` without `--cfg loom`.

/// What `cell.rs` imports from its parent: loom's model atomics.
mod atomic {
    pub(crate) use loom::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
}
#[allow(dead_code)]
#[path = "../src/store/native/cell.rs"]
mod cell;
#[allow(dead_code)]
#[path = "../src/store/native/index.rs"]
mod index;
use index::*;

use cell::NativeCell;
use loom::sync::Arc;

fn cell() -> Arc<NativeCell> {
    // Schema 0 (one bucket per octave), the directory from 1.0 up.
    Arc::new(NativeCell::new(Layout::new(0, 0.0, 160, 1.0)))
}

fn observed(cell: &NativeCell) -> u64 {
    cell.snapshot().count()
}

#[test]
fn loom_two_observers_install_one_directory_chunk() {
    loom::model(|| {
        let cell = cell();
        let other = {
            let cell = Arc::clone(&cell);
            loom::thread::spawn(move || {
                cell.observe(2.0, 1);
            })
        };
        cell.observe(3.0, 1);
        // A scrape racing the other observer.
        let seen = observed(&cell);
        assert!((1..=2).contains(&seen), "{seen}");
        other.join().unwrap();
        let s = cell.snapshot();
        assert_eq!(s.count(), 2);
        // 2.0 and 3.0 are buckets 1 and 2 at schema 0: both in one chunk.
        assert_eq!(s.positive, vec![(1, 1), (2, 1)]);
    });
}

#[test]
fn loom_two_observers_push_one_list_node() {
    loom::model(|| {
        let cell = cell();
        let other = {
            let cell = Arc::clone(&cell);
            loom::thread::spawn(move || {
                cell.observe(-2.0, 1);
            })
        };
        cell.observe(-2.0, 2);
        let seen = observed(&cell);
        assert!(seen == 2 || seen == 3, "{seen}");
        other.join().unwrap();
        let s = cell.snapshot();
        assert_eq!(s.negative, vec![(1, 3)], "one node, every count");
        assert!(s.positive.is_empty());
    });
}

#[test]
fn loom_a_far_and_a_near_chunk_at_once() {
    loom::model(|| {
        let cell = cell();
        let other = {
            let cell = Arc::clone(&cell);
            loom::thread::spawn(move || {
                cell.observe(f64::INFINITY, 1);
            })
        };
        cell.observe(1.5, 1);
        other.join().unwrap();
        let s = cell.snapshot();
        assert_eq!(s.count(), 2);
        assert_eq!(s.positive.len(), 2);
    });
}
