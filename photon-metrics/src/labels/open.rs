//! Open label sets: which open labels there are ([`OpenLabel`], each an
//! [`OpenDef`] that [`derive(Label)`](crate::Label) declares, for the
//! catalog's label types as for an application's), and the interner
//! behind each: validation, interning under the cap, retirement, and the
//! bookkeeping idle expiry reads. The values' types are in
//! [`values`](super::values), the handle's packing in [`raw`](super::raw),
//! what an application sets in [`settings`](super::settings), each value's
//! text in [`text`](super::text).
//!
//! Interning happens once per distinct value, when the user constructs it
//! (`Target::new("…")`), behind a mutex. The resulting value is `Copy` and
//! carries its slot and that slot's generation, so the record path indexes
//! a table with it instead of hashing a string, and a copy that outlives
//! its value's retirement is recognised as stale instead of landing in the
//! series of whichever value takes the slot next.
//!

use super::raw::{raw, raw_generation, raw_slot, GENERATIONS};
use super::text::{LabelText, SlotText};
use super::LabelError;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// The value every new label value maps to once its label is at its cap.
pub const OVERFLOW_VALUE: &str = "__overflow__";

/// What [`as_str`](super::DeviceId::as_str) says for a handle whose value was
/// retired: its text is no longer the slot's.
pub const RETIRED_VALUE: &str = "__retired__";

/// The longest label value accepted, in bytes. Longer values are refused
/// with [`LabelError::TooLong`] rather than truncated, so two distinct
/// values never merge silently.
pub const MAX_VALUE_LEN: usize = 128;

/// How long a retired value's slot rests before a new value may take it,
/// unless changed with [`set_reuse_delay`](super::set_reuse_delay).
pub const DEFAULT_REUSE_DELAY: Duration = Duration::from_secs(1);

/// An open (interned, capped) label: the handle of its [`OpenDef`], which
/// [`derive(Label)`](crate::Label) declares, one per label type. Every
/// open label type has one as its `LABEL`
/// ([`DeviceId::LABEL`](super::DeviceId::LABEL)); the functions of
/// [`crate::labels`] that configure or read a label take it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpenLabel(&'static OpenDef);

impl OpenLabel {
    #[doc(hidden)]
    pub const fn new(def: &'static OpenDef) -> Self {
        OpenLabel(def)
    }

    #[doc(hidden)]
    pub const fn def(self) -> &'static OpenDef {
        self.0
    }

    /// The label's name as exported (also its value in the `label` label
    /// of the self-monitoring families).
    pub const fn as_str(self) -> &'static str {
        self.0.name
    }

    /// The default cap, as declared (`#[label(cap = …)]`, else 64): how
    /// many distinct values this label holds at once before folding new
    /// ones into `__overflow__`. Retired values (`retire()`, idle expiry)
    /// give their slot back. The catalog's are documented on each type
    /// ([`DeviceId`](super::DeviceId) and siblings).
    pub const fn default_cap(self) -> usize {
        self.0.cap
    }

    /// The default idle expiry, as declared (`#[label(idle_expiry_secs =
    /// …)]`): how long a value may go without a record before it is retired
    /// by itself (`None`: never).
    pub const fn default_idle_expiry(self) -> Option<Duration> {
        match self.0.expiry_secs {
            0 => None,
            secs => Some(Duration::from_secs(secs)),
        }
    }
}

impl fmt::Debug for OpenLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OpenLabel").field(&self.as_str()).finish()
    }
}

impl fmt::Display for OpenLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OpenLabel {
    type Err = LabelError;

    /// Every open label in use: the catalog's (in use from the first store)
    /// and every application's whose values were created.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let labels = all_labels();
        labels
            .iter()
            .copied()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| LabelError::UnknownVariant {
                label: "label",
                value: s.to_string(),
                expected: labels
                    .iter()
                    .map(|l| l.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// One interner per open label.
pub(super) struct Interner {
    pub(super) requested_cap: AtomicUsize,
    pub(super) state: OnceLock<State>,
    warned: AtomicBool,
    /// The highest slot ever handed out: slots are handed out in order the
    /// first time, so `slot <= handed` is the whole check of a raw handle.
    handed: AtomicU32,
    /// Records dropped because their handle's value was retired.
    pub(super) stale: AtomicU64,
    /// Values folded into `__overflow__` because the label was full.
    pub(super) overflowed: AtomicU64,
    /// Idle expiry in milliseconds: 0 = the label's default, `u64::MAX` = never.
    pub(super) expiry_ms: AtomicU64,
}

/// Fixed once the first value is interned: tables sized from the cap stay valid.
pub(super) struct State {
    pub(super) cap: usize,
    inner: Mutex<Inner>,
    /// Slot 0 is `__overflow__`; slots `1..=cap` hold interned values.
    slots: Box<[Slot]>,
}

/// One slot: which life it is in, whether a value holds it, and its text
/// (read without a lock, as `as_str` and every span field of a label do,
/// on every thread at once; see [`super::text`]).
struct Slot {
    life: SlotText,
    /// When a sweep (or interning) last saw this value recorded, in
    /// milliseconds since [`epoch`].
    seen_ms: AtomicU64,
}

pub(super) struct Inner {
    /// Live values by text, to their raw handle: nothing else of a value
    /// is kept here, so a retired value leaves nothing behind.
    pub(super) ids: HashMap<Box<str>, u32>,
    /// Retired slots waiting to be reused, oldest first, with when.
    resting: VecDeque<(u32, Instant)>,
}

#[allow(clippy::declare_interior_mutable_const)] // used only to initialise the static array
const INTERNER: Interner = Interner {
    requested_cap: AtomicUsize::new(0),
    state: OnceLock::new(),
    warned: AtomicBool::new(false),
    handed: AtomicU32::new(0),
    stale: AtomicU64::new(0),
    overflowed: AtomicU64::new(0),
    expiry_ms: AtomicU64::new(0),
};

/// The reuse delay in milliseconds; `u64::MAX` = the default.
pub(super) static REUSE_DELAY_MS: AtomicU64 = AtomicU64::new(u64::MAX);

pub(super) fn interner(label: OpenLabel) -> &'static Interner {
    &label.0.interner
}

/// An open label: its name, default cap and idle expiry, and its
/// interner. [`derive(Label)`](crate::Label) declares one `static` per
/// label type; it is not built by hand.
///
/// A label is *in use* (listed by the self-monitoring families, parsed by
/// [`OpenLabel`]'s `FromStr`) from its first value, or from the first
/// store for a label of a registered family.
pub struct OpenDef {
    name: &'static str,
    cap: usize,
    /// 0: no idle expiry.
    expiry_secs: u64,
    interner: Interner,
    in_use: OnceLock<()>,
}

impl OpenDef {
    #[doc(hidden)]
    pub const fn new(name: &'static str, cap: usize, expiry_secs: u64) -> Self {
        OpenDef {
            name,
            cap,
            expiry_secs,
            interner: INTERNER,
            in_use: OnceLock::new(),
        }
    }

    /// The label's name as exported.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// Puts the label in use (once): a second label of the same name (two
    /// crates, say) shares the first's self-monitoring series, with a
    /// warning, rather than making two series of one name, which would
    /// fail the whole scrape.
    fn register(&'static self) {
        self.in_use.get_or_init(|| {
            let mut in_use = IN_USE.lock().unwrap_or_else(|e| e.into_inner());
            if in_use.iter().any(|d| d.name == self.name) {
                crate::warning::warn(|| {
                    tracing::warn!(
                        label = self.name,
                        "two open labels are named `{}`; they share its self-monitoring series",
                        self.name
                    );
                });
            }
            in_use.push(self);
        });
    }
}

impl PartialEq for OpenDef {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Eq for OpenDef {}

impl std::hash::Hash for OpenDef {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::ptr::hash(self, state);
    }
}

impl fmt::Debug for OpenDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenDef")
            .field("name", &self.name)
            .field("cap", &self.cap)
            .finish_non_exhaustive()
    }
}

/// Every open label in use, in the order each came into use.
static IN_USE: Mutex<Vec<&'static OpenDef>> = Mutex::new(Vec::new());

/// Puts `label` in use (see [`OpenDef`]).
pub(crate) fn register_label(label: OpenLabel) {
    label.0.register();
}

/// Every open label in use, in the order each came into use.
pub(crate) fn all_labels() -> Vec<OpenLabel> {
    IN_USE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|def| OpenLabel(def))
        .collect()
}

/// Milliseconds since the first call: the clock of idle expiry.
pub(crate) fn now_ms() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_millis() as u64
}

impl Interner {
    fn state(&self, label: OpenLabel) -> &State {
        self.state.get_or_init(|| {
            let cap = match self.requested_cap.load(Ordering::Acquire) {
                0 => label.default_cap(),
                n => n,
            };
            let mut slots = Vec::with_capacity(cap + 1);
            // The overflow value is always live, in its first and only life.
            slots.push(Slot {
                life: SlotText::always_live(),
                seen_ms: AtomicU64::new(0),
            });
            slots.resize_with(cap + 1, || Slot {
                life: SlotText::new(),
                seen_ms: AtomicU64::new(0),
            });
            State {
                cap,
                inner: Mutex::new(Inner {
                    ids: HashMap::new(),
                    resting: VecDeque::new(),
                }),
                slots: slots.into_boxed_slice(),
            }
        })
    }
}

impl State {
    // A poisoned lock only means another thread panicked mid-update; every
    // update below leaves the state consistent before it can panic (the
    // allocation comes first), so keep using it.
    pub(super) fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn reuse_delay() -> Duration {
    match REUSE_DELAY_MS.load(Ordering::Relaxed) {
        u64::MAX => DEFAULT_REUSE_DELAY,
        ms => Duration::from_millis(ms),
    }
}

/// Freezes the label's cap and returns the number of slots (cap + overflow).
pub(crate) fn intern_slots(label: OpenLabel) -> usize {
    interner(label).state(label).cap + 1
}

/// The text of the value in `slot` in its life `generation`, or `None`
/// when that life is over (or never began).
pub(crate) fn current_text(label: OpenLabel, slot: usize, generation: u32) -> Option<LabelText> {
    if slot == 0 {
        return (generation == 0).then_some(LabelText::constant(OVERFLOW_VALUE));
    }
    let state = interner(label).state(label);
    state
        .slots
        .get(slot)?
        .life
        .read(generation)
        .map(LabelText::shared)
}

/// Whether the value in `slot` is live in its life `generation`.
pub(crate) fn is_live(label: OpenLabel, slot: usize, generation: u32) -> bool {
    let state = interner(label).state(label);
    state
        .slots
        .get(slot)
        .is_some_and(|s| s.life.is_live(generation))
}

/// Counts one record dropped because its `label` value was retired.
#[cold]
pub(crate) fn count_stale(label: OpenLabel) {
    interner(label).stale.fetch_add(1, Ordering::Relaxed);
}

/// Whether `slot` was ever handed out for `label` (0, the overflow, always was).
#[inline]
pub(super) fn was_handed_out(label: OpenLabel, slot: usize) -> bool {
    slot <= interner(label).handed.load(Ordering::Acquire) as usize
}

fn validate(label: OpenLabel, value: &str) -> Result<(), LabelError> {
    if value.is_empty() {
        return Err(LabelError::Empty {
            label: label.as_str(),
        });
    }
    if value.len() > MAX_VALUE_LEN {
        return Err(LabelError::TooLong {
            label: label.as_str(),
            len: value.len(),
            max: MAX_VALUE_LEN,
        });
    }
    Ok(())
}

/// Validates and interns `value`, returning its raw handle (slot and
/// generation).
pub(crate) fn intern(label: OpenLabel, value: &str) -> Result<u32, LabelError> {
    validate(label, value)?;
    label.0.register();
    let interner = interner(label);
    let state = interner.state(label);
    let mut inner = state.inner();
    if let Some(&raw) = inner.ids.get(value) {
        return Ok(raw);
    }
    let Some(slot) = free_slot(interner, state, &mut inner) else {
        drop(inner);
        overflowed(label, interner, state.cap);
        return Ok(0);
    };
    let s = &state.slots[slot as usize];
    s.seen_ms.store(now_ms(), Ordering::Relaxed);
    let generation = s.life.begin(value);
    let raw = raw(slot, generation);
    inner.ids.insert(value.into(), raw);
    Ok(raw)
}

/// A slot for a new value: a never-used one, else the longest-resting
/// retired one if it has rested [`reuse_delay`]; `None` when the label is
/// full.
fn free_slot(interner: &Interner, state: &State, inner: &mut Inner) -> Option<u32> {
    if inner.ids.len() >= state.cap {
        return None;
    }
    let handed = interner.handed.load(Ordering::Relaxed);
    if (handed as usize) < state.cap {
        interner.handed.store(handed + 1, Ordering::Release);
        return Some(handed + 1);
    }
    match inner.resting.front() {
        Some(&(slot, since)) if since.elapsed() >= reuse_delay() => {
            inner.resting.pop_front();
            Some(slot)
        }
        _ => None,
    }
}

#[cold]
fn overflowed(label: OpenLabel, interner: &Interner, cap: usize) {
    if !interner.warned.swap(true, Ordering::Relaxed) {
        crate::warning::warn(|| {
            tracing::warn!(
                label = label.as_str(),
                cap,
                "label `{}` reached its cardinality cap of {cap}; new values are recorded as `{OVERFLOW_VALUE}` (see photon_metrics_label_overflow_total)",
                label.as_str()
            );
        });
    }
    // A plain count the exporter reads at each render, as it reads the
    // stale records: the interner records nothing itself.
    interner.overflowed.fetch_add(1, Ordering::Relaxed);
}

/// First half of a retirement: ends the life of the value behind `raw`, so
/// no handle to it can create a series any more. Returns its slot, or
/// `None` when `raw` is not a live value (already retired, never
/// interned, or the overflow value, which is never retired).
pub(crate) fn begin_retire(label: OpenLabel, raw: u32) -> Option<usize> {
    let slot = raw_slot(raw);
    if slot == 0 {
        return None;
    }
    let state = interner(label).state.get()?;
    let mut inner = state.inner();
    let s = state.slots.get(slot)?;
    // The next life's generation, not live: stale handles fail the check
    // from here on, and no new value can take the slot until
    // `finish_retire` (the series of this life are removed in between).
    s.life
        .end(raw_generation(raw), |text| {
            inner.ids.remove(text);
        })
        .then_some(slot)
}

/// What removes a retired value's series from every store: set by the
/// series lifecycle when the first store is made (the label layer knows no
/// store), so a retirement before any store only ends the value's life.
static REMOVE_SERIES: OnceLock<fn(OpenLabel, usize)> = OnceLock::new();

/// Sets what removes a retired value's series (once; see [`REMOVE_SERIES`]).
pub(crate) fn on_retire(remove: fn(OpenLabel, usize)) {
    let _ = REMOVE_SERIES.set(remove);
}

/// What an explicit retirement (not an idle expiry) tells the other
/// processes of a service: the label and the value's text.
static ANNOUNCE: OnceLock<fn(OpenLabel, &str)> = OnceLock::new();

/// Sets what every explicit retirement announces (once).
pub(crate) fn on_explicit_retire(announce: fn(OpenLabel, &str)) {
    let _ = ANNOUNCE.set(announce);
}

/// Retires the value behind `raw`: ends its life, removes its series from
/// every store, then lets its slot rest for reuse; `false` when it was not
/// live (see [`begin_retire`]).
pub(crate) fn retire(label: OpenLabel, raw: u32) -> bool {
    let text = ANNOUNCE
        .get()
        .and_then(|_| current_text(label, raw_slot(raw), raw_generation(raw)));
    if !retire_quietly(label, raw) {
        return false;
    }
    if let (Some(announce), Some(text)) = (ANNOUNCE.get(), text) {
        announce(label, &text);
    }
    true
}

/// [`retire`], announcing nothing: a retirement another process of the
/// service announced.
pub(crate) fn retire_quietly(label: OpenLabel, raw: u32) -> bool {
    let Some(slot) = begin_retire(label, raw) else {
        return false;
    };
    if let Some(remove) = REMOVE_SERIES.get() {
        remove(label, slot);
    }
    finish_retire(label, slot);
    true
}

/// The live value of `label` whose text is `value`, if there is one
/// (interning nothing).
pub(crate) fn find(label: OpenLabel, value: &str) -> Option<u32> {
    let state = interner(label).state.get()?;
    let inner = state.inner();
    inner.ids.get(value).copied()
}

/// Second half of a retirement: the slot's series are gone, so it may rest
/// and then serve a new value, unless it has used up its generations.
pub(crate) fn finish_retire(label: OpenLabel, slot: usize) {
    let Some(state) = interner(label).state.get() else {
        return;
    };
    let mut inner = state.inner();
    if state.slots[slot].life.word() >> 1 < GENERATIONS {
        inner.resting.push_back((slot as u32, Instant::now()));
    }
}

/// The raw handles of the live values of `label` that no sweep has seen
/// recorded since `before_ms`.
pub(crate) fn idle_values(label: OpenLabel, before_ms: u64) -> Vec<u32> {
    let Some(state) = interner(label).state.get() else {
        return Vec::new();
    };
    let inner = state.inner();
    inner
        .ids
        .values()
        .copied()
        .filter(|raw| state.slots[raw_slot(*raw)].seen_ms.load(Ordering::Relaxed) < before_ms)
        .collect()
}

/// Notes that the value in `slot`, life `generation`, was recorded by `now_ms`.
pub(crate) fn seen(label: OpenLabel, slot: usize, generation: u32, now_ms: u64) {
    if let Some(s) = interner(label)
        .state
        .get()
        .and_then(|st| st.slots.get(slot))
    {
        if s.life.is_live(generation) {
            s.seen_ms.fetch_max(now_ms, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::settings::{cap, set_cap, set_reuse_delay};
    use crate::labels::LabelValue;
    use crate::labels::{DeviceId, ErrorKind, Location, ModelType, MAX_CAP};

    #[test]
    fn same_value_interns_to_same_slot() {
        let a = DeviceId::new("opu-unit-test-a").unwrap();
        let b = DeviceId::new("opu-unit-test-a").unwrap();
        let c = DeviceId::new("opu-unit-test-c").unwrap();
        assert_eq!(a, b);
        assert_ne!(a.slot(), c.slot());
        assert_eq!(a.as_str(), "opu-unit-test-a");
    }

    #[test]
    fn invalid_values_are_errors_not_panics() {
        assert_eq!(
            ModelType::new(""),
            Err(LabelError::Empty {
                label: "model_type"
            })
        );
        let long = "x".repeat(MAX_VALUE_LEN + 1);
        assert_eq!(
            ModelType::new(&long),
            Err(LabelError::TooLong {
                label: "model_type",
                len: MAX_VALUE_LEN + 1,
                max: MAX_VALUE_LEN
            })
        );
        assert!(ModelType::new(&"x".repeat(MAX_VALUE_LEN)).is_ok());
    }

    #[test]
    fn hostile_text_is_kept_verbatim() {
        let v = "a\"b\\c\nd — ünï";
        assert_eq!(ErrorKind::new(v).unwrap().as_str(), v);
    }

    #[test]
    fn cap_out_of_range_is_refused() {
        assert!(matches!(
            set_cap(crate::labels::Target::LABEL, 0),
            Err(LabelError::CapOutOfRange { .. })
        ));
        assert!(matches!(
            set_cap(crate::labels::Target::LABEL, MAX_CAP + 1),
            Err(LabelError::CapOutOfRange { .. })
        ));
    }

    #[test]
    fn a_retired_slot_rests_then_serves_a_new_value_in_a_new_generation() {
        // Location: no other unit test fills it. Fill the cap, so the next
        // value can only come from a retired slot.
        set_reuse_delay(Duration::from_millis(50));
        let cap = cap(crate::labels::Location::LABEL);
        let values: Vec<Location> = (0..cap)
            .map(|i| Location::new(&format!("gen-rack-{i}")).unwrap())
            .filter(|v| !v.is_overflow())
            .collect();
        let full = Location::new("gen-rack-one-too-many").unwrap();
        assert!(full.is_overflow());
        let old = values[0];
        let slot = begin_retire(crate::labels::Location::LABEL, old.to_raw()).unwrap();
        assert_eq!(
            begin_retire(crate::labels::Location::LABEL, old.to_raw()),
            None,
            "twice"
        );
        finish_retire(crate::labels::Location::LABEL, slot);
        assert!(!old.is_live());
        assert_eq!(old.as_str(), RETIRED_VALUE);
        // Resting: the slot is not handed out yet.
        assert!(Location::new("gen-rack-new").unwrap().is_overflow());
        std::thread::sleep(Duration::from_millis(60));
        let new = Location::new("gen-rack-new").unwrap();
        assert_eq!(new.slot(), old.slot());
        assert_eq!(new.generation(), old.generation() + 1);
        assert_ne!(new, old);
        assert_eq!(new.as_str(), "gen-rack-new");
        assert_eq!(old.as_str(), RETIRED_VALUE);
        // The label is full again: a retired value does not come back by itself.
        assert!(Location::new("gen-rack-0").unwrap().is_overflow());
    }
}
