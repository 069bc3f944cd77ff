//! An open label's text under loom: a reader holding a handle of one life
//! races the value's retirement and the next value taking the slot. It must
//! read its own text or nothing (never the next value's), and every text
//! must be freed once nothing holds it (loom fails an execution that ends
//! with an `Arc` still alive).
//!
//! `src/labels/text.rs` is compiled here a second time against loom's
//! atomics and `Arc`, with a lock-based stand-in for arc-swap's
//! `ArcSwapOption`: a load that clones the pointer under the lock is what
//! arc-swap's guard promises (a whole, live pointer, never a freed one), so
//! the model checks our protocol (the generation in the text, the word
//! beside it, when the slot lets go) rather than arc-swap's own, which its
//! maintainers test.

/// What `text.rs` imports from its parent.
mod sync {
    pub(crate) use loom::sync::atomic::{AtomicU32, Ordering};
    pub(crate) use loom::sync::Arc;
    use std::ops::Deref;

    /// arc-swap's `ArcSwapOption`, as far as `text.rs` uses it.
    pub(crate) struct ArcSwapOption<T>(loom::sync::Mutex<Option<Arc<T>>>);

    impl<T> ArcSwapOption<T> {
        pub(crate) fn new(value: Option<Arc<T>>) -> Self {
            ArcSwapOption(loom::sync::Mutex::new(value))
        }
        pub(crate) fn load(&self) -> Loaded<T> {
            Loaded(self.0.lock().unwrap().clone())
        }
        pub(crate) fn store(&self, value: Option<Arc<T>>) {
            // The old text is dropped after the lock is released, as
            // arc-swap drops it after the swap.
            let old = std::mem::replace(&mut *self.0.lock().unwrap(), value);
            drop(old);
        }
    }

    /// arc-swap's guard: the loaded pointer, held.
    pub(crate) struct Loaded<T>(Option<Arc<T>>);

    impl<T> Deref for Loaded<T> {
        type Target = Option<Arc<T>>;
        fn deref(&self) -> &Option<Arc<T>> {
            &self.0
        }
    }
}

#[allow(dead_code)] // the public text type is not what the model drives
#[path = "../src/labels/text.rs"]
mod text;

use loom::sync::Arc;
use text::SlotText;

#[test]
fn loom_a_handle_reads_its_own_text_or_none_while_its_slot_changes_hands() {
    loom::model(|| {
        let slot = Arc::new(SlotText::new());
        let first = slot.begin("tenant-a");
        assert_eq!(first, 0);
        let retirer = {
            let slot = Arc::clone(&slot);
            loom::thread::spawn(move || {
                // Retirement, then the next value in the same slot (the
                // interner does both under its lock, on any thread).
                let mut forgot = None;
                assert!(slot.end(first, |text| forgot = Some(text.to_owned())));
                assert_eq!(forgot.as_deref(), Some("tenant-a"));
                slot.begin("tenant-b")
            })
        };
        // A stale copy of the first handle, read while that happens.
        let text = slot
            .read(first)
            .map(|t| text::LabelText::shared(t).to_string());
        assert!(
            text.is_none() || text.as_deref() == Some("tenant-a"),
            "a handle of the first life read {text:?}"
        );
        let second = retirer.join().unwrap();
        assert_eq!(second, first + 1);
        assert!(slot.read(first).is_none(), "the first life is over");
        assert_eq!(
            slot.read(second)
                .map(|t| text::LabelText::shared(t).to_string())
                .as_deref(),
            Some("tenant-b")
        );
    });
}

#[test]
fn loom_a_reading_held_across_retirement_keeps_its_text_and_then_frees_it() {
    loom::model(|| {
        let slot = Arc::new(SlotText::new());
        let life = slot.begin("session-1");
        let reader = {
            let slot = Arc::clone(&slot);
            loom::thread::spawn(move || {
                // Held while the slot lets go: it still reads its text.
                if let Some(held) = slot.read(life) {
                    loom::thread::yield_now();
                    assert_eq!(text::LabelText::shared(held).to_string(), "session-1");
                }
            })
        };
        assert!(slot.end(life, |_| {}));
        assert!(!slot.is_live(life));
        reader.join().unwrap();
        // Nothing holds the text now; loom reports the execution failed if
        // its `Arc` outlives the model (a leak).
        assert!(slot.read(life).is_none());
    });
}
