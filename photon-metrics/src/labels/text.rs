//! An open label value's text: read by any thread without a lock, given
//! back when the value is retired.
//!
//! # Why the text carries its generation
//!
//! A slot holds one value at a time, in numbered lives (its *generation*,
//! see the parent module). A `Copy` handle remembers the life it was made
//! in and may be read long after that life ended and the slot took another
//! value. Each life's text is its own allocation, shared through an
//! [`ArcSwapOption`]: a reader loads it without a lock or a write to a shared
//! counter (arc-swap's guards), and the allocation is freed when the slot
//! lets go of it (at retirement) *and* the last reader has dropped its
//! guard. Nothing is leaked, so a label's memory is bounded by its live
//! values, not by every value it ever saw.
//!
//! The allocation also records the generation it was made for, and a
//! reader compares that with its handle's: a text from another life is
//! refused by the text itself, so no ordering between the slot's word and
//! its text is needed for "never another value's text". The word is checked
//! as well, so a retired value reads as retired even before its text is
//! dropped. `tests/loom_label_text.rs` compiles this file against loom and a
//! lock-based stand-in for arc-swap and checks every interleaving of a
//! reader racing a retirement and the next value.

use super::sync::{Arc, ArcSwapOption, AtomicU32, Loaded, Ordering};
use std::fmt;
use std::ops::Deref;

/// One life's text, with the life it belongs to.
pub(crate) struct Interned {
    generation: u32,
    text: Box<str>,
}

/// The word of a slot in life `generation`, live or not.
pub(crate) const fn word(generation: u32, live: bool) -> u32 {
    (generation << 1) | live as u32
}

/// A slot's life and its text.
pub(crate) struct SlotText {
    /// `generation << 1 | live`. Changed only under the interner's lock.
    word: AtomicU32,
    /// The text of the current life while it is live; `None` before the
    /// first value and after a retirement.
    text: ArcSwapOption<Interned>,
}

impl SlotText {
    /// A slot never used: life 0, not live, no text.
    pub(crate) fn new() -> Self {
        SlotText {
            word: AtomicU32::new(word(0, false)),
            text: ArcSwapOption::new(None),
        }
    }

    /// A slot live in life 0 for ever with no text of its own (the
    /// overflow value, whose text is a constant).
    pub(crate) fn always_live() -> Self {
        let slot = SlotText::new();
        slot.word.store(word(0, true), Ordering::Relaxed);
        slot
    }

    /// The slot's word now (see [`word`]).
    pub(crate) fn word(&self) -> u32 {
        self.word.load(Ordering::Acquire)
    }

    /// Whether life `generation` is the slot's current, live one.
    pub(crate) fn is_live(&self, generation: u32) -> bool {
        self.word() == word(generation, true)
    }

    /// Begins the slot's next life (the one its word names) with `text`
    /// and returns its generation. The caller holds the interner's lock
    /// and has checked that the slot is free.
    pub(crate) fn begin(&self, text: &str) -> u32 {
        let generation = self.word.load(Ordering::Relaxed) >> 1;
        self.text.store(Some(Arc::new(Interned {
            generation,
            text: text.into(),
        })));
        // After the text, so a handle that sees the slot live finds a text.
        self.word.store(word(generation, true), Ordering::Release);
        generation
    }

    /// Ends life `generation`: from here on no handle of it reads as live,
    /// and the slot lets go of its text (freed once the last reader drops
    /// its guard). `forget` sees the text first (the caller's index of live
    /// values drops it). Returns whether that life was the live one. Under
    /// the interner's lock.
    pub(crate) fn end(&self, generation: u32, forget: impl FnOnce(&str)) -> bool {
        if self.word.load(Ordering::Relaxed) != word(generation, true) {
            return false;
        }
        self.word
            .store(word(generation + 1, false), Ordering::Release);
        if let Some(text) = &*self.text.load() {
            forget(&text.text);
        }
        self.text.store(None);
        true
    }

    /// The text of life `generation` while it is live.
    pub(crate) fn read(&self, generation: u32) -> Option<Reading> {
        let loaded = self.text.load();
        match &*loaded {
            Some(text) if text.generation == generation => {}
            _ => return None,
        }
        self.is_live(generation).then_some(Reading(loaded))
    }
}

/// A loaded text, held for as long as it is read.
pub(crate) struct Reading(Loaded<Interned>);

impl Reading {
    fn as_str(&self) -> &str {
        // `read` only builds a `Reading` over a text.
        self.0.as_ref().map_or("", |t| &t.text)
    }
}

/// The text of a label value as exported: what
/// [`DeviceId::as_str`](crate::labels::DeviceId::as_str) and the other open
/// labels' `as_str` return. It dereferences to `str` and compares with
/// strings.
///
/// It borrows the value's text for as long as it is held (a retired value's
/// text is freed once nothing holds it), so keep it for a statement, not
/// for the life of the program: copy it into a `String` to keep it.
///
/// ```
/// use photon_metrics::labels::Target;
/// let target = Target::new("lightmatter-envise").unwrap();
/// let text = target.as_str();
/// assert_eq!(text, "lightmatter-envise");
/// assert_eq!(text.len(), 18);
/// let kept: String = text.to_string();
/// assert_eq!(kept, "lightmatter-envise");
/// ```
pub struct LabelText(Repr);

enum Repr {
    Constant(&'static str),
    Shared(Reading),
}

impl LabelText {
    /// A text that is a constant (overflow, retired, closed values).
    pub(crate) const fn constant(text: &'static str) -> Self {
        LabelText(Repr::Constant(text))
    }

    pub(crate) fn shared(reading: Reading) -> Self {
        LabelText(Repr::Shared(reading))
    }

    /// The text, when it is a constant that lives for the whole program.
    pub fn as_static(&self) -> Option<&'static str> {
        match self.0 {
            Repr::Constant(text) => Some(text),
            Repr::Shared(_) => None,
        }
    }
}

/// A constant text (a closed label's value, say).
impl From<&'static str> for LabelText {
    fn from(text: &'static str) -> Self {
        LabelText::constant(text)
    }
}

impl Deref for LabelText {
    type Target = str;
    fn deref(&self) -> &str {
        match &self.0 {
            Repr::Constant(text) => text,
            Repr::Shared(reading) => reading.as_str(),
        }
    }
}

impl AsRef<str> for LabelText {
    fn as_ref(&self) -> &str {
        self
    }
}

impl fmt::Display for LabelText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

impl fmt::Debug for LabelText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl PartialEq for LabelText {
    fn eq(&self, other: &LabelText) -> bool {
        **self == **other
    }
}

impl Eq for LabelText {}

impl PartialEq<str> for LabelText {
    fn eq(&self, other: &str) -> bool {
        &**self == other
    }
}

impl PartialEq<&str> for LabelText {
    fn eq(&self, other: &&str) -> bool {
        &**self == *other
    }
}

impl PartialEq<String> for LabelText {
    fn eq(&self, other: &String) -> bool {
        **self == **other
    }
}

impl PartialEq<LabelText> for &str {
    fn eq(&self, other: &LabelText) -> bool {
        *self == &**other
    }
}

impl PartialEq<LabelText> for str {
    fn eq(&self, other: &LabelText) -> bool {
        self == &**other
    }
}

// A text may be read on one thread and dropped on another (a span field
// recorded in a task that moves).
const _: fn() = || {
    fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<LabelText>();
};
