//! Open label sets: which open labels there are ([`OpenLabel`]: the
//! catalog's six, and each application's [`OpenDef`]), and the interner
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
use super::{ClosedLabel, LabelError};
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

impl OpenLabel {
    /// The default cap: how many distinct values this label holds at once
    /// before folding new ones into `__overflow__`. Retired values
    /// ([`DeviceId::retire`](super::DeviceId::retire), idle expiry) give their slot back.
    ///
    /// | label        | default | why |
    /// |--------------|---------|-----|
    /// | `target`     | 32      | hardware backends a compiler build supports |
    /// | `model_type` | 64      | model architectures (resnet, bert, …), not model ids |
    /// | `error_kind` | 64      | error enum variants |
    /// | `device_id`  | 1024    | devices one process drives |
    /// | `location`   | 64      | racks or sites |
    /// | `pass`       | 256     | an MLIR compiler's passes, plugins included (upstream MLIR registers about 200) |
    pub const fn default_cap(self) -> usize {
        match self {
            OpenLabel::Target => 32,
            OpenLabel::Pass => 256,
            OpenLabel::ModelType | OpenLabel::ErrorKind | OpenLabel::Location => 64,
            OpenLabel::DeviceId => 1024,
            OpenLabel::Own(def) => def.cap,
        }
    }

    /// The default idle expiry: how long a value may go without a record
    /// before it is retired by itself (`None`: never).
    ///
    /// | label        | default | why |
    /// |--------------|---------|-----|
    /// | `target`     | none    | a build's backends are few and fixed; a quiet one is still configured |
    /// | `model_type` | 24 h    | a compile server sees new architectures every day; one unseen for a day has left, and a day is longer than any `rate()` window a dashboard uses |
    /// | `error_kind` | none    | bounded by the code's error enums; `increase(…[7d])` wants the rare ones kept |
    /// | `device_id`  | none    | a silent device is news: its last status must stay until it is retired on purpose |
    /// | `location`   | none    | racks and sites are few and stable |
    /// | `pass`       | none    | a build's passes are fixed; a plugin's are retired when it is unloaded |
    pub const fn default_idle_expiry(self) -> Option<Duration> {
        match self {
            OpenLabel::ModelType => Some(Duration::from_secs(24 * 60 * 60)),
            OpenLabel::Target
            | OpenLabel::ErrorKind
            | OpenLabel::DeviceId
            | OpenLabel::Location
            | OpenLabel::Pass => None,
            OpenLabel::Own(def) => match def.expiry_secs {
                0 => None,
                secs => Some(Duration::from_secs(secs)),
            },
        }
    }
}

/// The open (interned, capped) labels: the catalog's six, and every open
/// label an application declares with [`derive(Label)`](crate::Label); also
/// the values of the self-monitoring `label` label on
/// `photon_metrics_label_overflow_total` and its siblings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OpenLabel {
    /// [`Target`](super::Target).
    Target,
    /// [`ModelType`](super::ModelType).
    ModelType,
    /// [`ErrorKind`](super::ErrorKind).
    ErrorKind,
    /// [`DeviceId`](super::DeviceId).
    DeviceId,
    /// [`Location`](super::Location).
    Location,
    /// [`Pass`](super::Pass).
    Pass,
    /// An application's open label, declared with [`derive(Label)`](crate::Label).
    Own(&'static OpenDef),
}

impl OpenLabel {
    /// The catalog's open labels, in slot order.
    pub const ALL: &'static [OpenLabel] = &[
        OpenLabel::Target,
        OpenLabel::ModelType,
        OpenLabel::ErrorKind,
        OpenLabel::DeviceId,
        OpenLabel::Location,
        OpenLabel::Pass,
    ];

    /// The label's name as exported (also its value in the `label` label).
    pub const fn as_str(self) -> &'static str {
        match self {
            OpenLabel::Target => "target",
            OpenLabel::ModelType => "model_type",
            OpenLabel::ErrorKind => "error_kind",
            OpenLabel::DeviceId => "device_id",
            OpenLabel::Location => "location",
            OpenLabel::Pass => "pass",
            OpenLabel::Own(def) => def.name(),
        }
    }
}

impl ClosedLabel for OpenLabel {
    const NAME: &'static str = "label";
    const VALUES: &'static [&'static str] = &[
        "target",
        "model_type",
        "error_kind",
        "device_id",
        "location",
        "pass",
    ];
    /// The catalog's labels by their order; an application's after them,
    /// in the order they were first used (see [`OpenDef`]).
    #[inline]
    fn slot(self) -> usize {
        match self {
            OpenLabel::Target => 0,
            OpenLabel::ModelType => 1,
            OpenLabel::ErrorKind => 2,
            OpenLabel::DeviceId => 3,
            OpenLabel::Location => 4,
            OpenLabel::Pass => 5,
            OpenLabel::Own(def) => Self::VALUES.len() + def.index(),
        }
    }
}

impl fmt::Display for OpenLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OpenLabel {
    type Err = LabelError;

    /// The catalog's open labels and every application label in use.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OpenLabel::ALL
            .iter()
            .copied()
            .chain(own_labels())
            .find(|v| v.as_str() == s)
            .ok_or_else(|| LabelError::UnknownVariant {
                label: "label",
                value: s.to_string(),
                expected: <OpenLabel as ClosedLabel>::VALUES.join(", "),
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

static INTERNERS: [Interner; OpenLabel::ALL.len()] = [INTERNER; OpenLabel::ALL.len()];

/// The reuse delay in milliseconds; `u64::MAX` = the default.
pub(super) static REUSE_DELAY_MS: AtomicU64 = AtomicU64::new(u64::MAX);

pub(super) fn interner(label: OpenLabel) -> &'static Interner {
    match label {
        OpenLabel::Own(def) => &def.interner,
        catalog => &INTERNERS[catalog.slot()],
    }
}

/// The most open labels applications may declare in one process.
pub const MAX_OWN_LABELS: usize = 64;

/// An application's open label: its name, default cap and idle expiry,
/// and its interner. [`derive(Label)`](crate::Label) declares one `static`
/// per label type; it is not built by hand.
///
/// A label takes its slot in the self-monitoring `label` label (after the
/// catalog's) the first time one of its values is created, in that order.
pub struct OpenDef {
    name: &'static str,
    cap: usize,
    /// 0: no idle expiry.
    expiry_secs: u64,
    interner: Interner,
    index: OnceLock<usize>,
}

impl OpenDef {
    #[doc(hidden)]
    pub const fn new(name: &'static str, cap: usize, expiry_secs: u64) -> Self {
        OpenDef {
            name,
            cap,
            expiry_secs,
            interner: INTERNER,
            index: OnceLock::new(),
        }
    }

    /// The label's name as exported.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// This label's position among the applications' open labels, taken
    /// on first use (a second label of the same name shares the first's).
    ///
    /// # Panics
    /// When this would be the process's 65th application open label
    /// ([`MAX_OWN_LABELS`]): the `label` label of the self-monitoring
    /// families is sized for that many.
    pub(crate) fn index(&'static self) -> usize {
        *self.index.get_or_init(|| {
            let mut own = OWN.lock().unwrap_or_else(|e| e.into_inner());
            // Two labels of one name (two crates, say): one self-monitoring
            // series for both, rather than two series of one name, which
            // would fail the whole scrape.
            if let Some(index) = own.iter().position(|d| d.name == self.name) {
                crate::warning::warn(|| {
                    tracing::warn!(
                        label = self.name,
                        "two application open labels are named `{}`; they share its self-monitoring series (headroom shows the first)",
                        self.name
                    );
                });
                return index;
            }
            let index = own.len();
            assert!(
                index < MAX_OWN_LABELS,
                "label `{}` would be this process's {}th application open label; the limit is {MAX_OWN_LABELS}",
                self.name,
                index + 1
            );
            own.push(self);
            let _ = OWN_SLOTS[index].set(self);
            index
        })
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

static OWN: Mutex<Vec<&'static OpenDef>> = Mutex::new(Vec::new());
static OWN_SLOTS: [OnceLock<&'static OpenDef>; MAX_OWN_LABELS] =
    [const { OnceLock::new() }; MAX_OWN_LABELS];

/// Every application open label in use, in slot order.
pub(crate) fn own_labels() -> Vec<OpenLabel> {
    OWN.lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|def| OpenLabel::Own(def))
        .collect()
}

/// The catalog's open labels, then every application's in use.
pub(crate) fn all_labels() -> Vec<OpenLabel> {
    let mut all = OpenLabel::ALL.to_vec();
    all.extend(own_labels());
    all
}

/// The name of the application open label in position `index`, if any.
pub(crate) fn own_label_name(index: usize) -> Option<&'static str> {
    OWN_SLOTS.get(index)?.get().map(|def| def.name)
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
    if let OpenLabel::Own(def) = label {
        def.index();
    }
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
            set_cap(OpenLabel::Target, 0),
            Err(LabelError::CapOutOfRange { .. })
        ));
        assert!(matches!(
            set_cap(OpenLabel::Target, MAX_CAP + 1),
            Err(LabelError::CapOutOfRange { .. })
        ));
    }

    #[test]
    fn a_retired_slot_rests_then_serves_a_new_value_in_a_new_generation() {
        // Location: no other unit test fills it. Fill the cap, so the next
        // value can only come from a retired slot.
        set_reuse_delay(Duration::from_millis(50));
        let cap = cap(OpenLabel::Location);
        let values: Vec<Location> = (0..cap)
            .map(|i| Location::new(&format!("gen-rack-{i}")).unwrap())
            .filter(|v| !v.is_overflow())
            .collect();
        let full = Location::new("gen-rack-one-too-many").unwrap();
        assert!(full.is_overflow());
        let old = values[0];
        let slot = begin_retire(OpenLabel::Location, old.to_raw()).unwrap();
        assert_eq!(
            begin_retire(OpenLabel::Location, old.to_raw()),
            None,
            "twice"
        );
        finish_retire(OpenLabel::Location, slot);
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
