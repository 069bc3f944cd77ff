//! Open label sets: validated, interned, cardinality-capped newtypes.
//!
//! Interning happens once per distinct value, when the user constructs it
//! (`Target::new("…")`), behind a mutex. The resulting value is `Copy` and
//! carries its slot, so the record path indexes a table with it instead of
//! hashing a string.

use super::{ClosedLabel, LabelError, OpenLabel};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// The value every new label value maps to once its label is at its cap.
pub const OVERFLOW_VALUE: &str = "__overflow__";

/// The longest label value accepted, in bytes. Longer values are refused
/// with [`LabelError::TooLong`] rather than truncated, so two distinct
/// values never merge silently.
pub const MAX_VALUE_LEN: usize = 128;

/// The hard ceiling for any open label's cap.
pub const MAX_CAP: usize = 4096;

impl OpenLabel {
    /// The default cap: how many distinct values this label interns before
    /// folding new ones into `__overflow__`.
    ///
    /// | label        | default | why |
    /// |--------------|---------|-----|
    /// | `target`     | 32      | hardware backends a compiler build supports |
    /// | `model_type` | 64      | model architectures (resnet, bert, …), not model ids |
    /// | `error_kind` | 64      | error enum variants |
    /// | `device_id`  | 1024    | devices one process drives |
    /// | `location`   | 64      | racks or sites |
    pub const fn default_cap(self) -> usize {
        match self {
            OpenLabel::Target => 32,
            OpenLabel::ModelType | OpenLabel::ErrorKind | OpenLabel::Location => 64,
            OpenLabel::DeviceId => 1024,
        }
    }
}

/// One interner per open label.
struct Interner {
    requested_cap: AtomicUsize,
    state: OnceLock<State>,
    warned: AtomicBool,
    /// The highest slot holding a value: slots are handed out in order, so
    /// `slot <= interned` is the whole check of a raw handle (one load).
    interned: AtomicU32,
}

/// Fixed once the first value is interned: tables sized from the cap stay valid.
struct State {
    cap: usize,
    ids: Mutex<HashMap<&'static str, u32>>,
    /// Slot 0 is `__overflow__`; slots `1..=cap` hold interned values.
    texts: Box<[OnceLock<&'static str>]>,
}

#[allow(clippy::declare_interior_mutable_const)] // used only to initialise the static array
const INTERNER: Interner = Interner {
    requested_cap: AtomicUsize::new(0),
    state: OnceLock::new(),
    warned: AtomicBool::new(false),
    interned: AtomicU32::new(0),
};

static INTERNERS: [Interner; 5] = [INTERNER; 5];

fn interner(label: OpenLabel) -> &'static Interner {
    &INTERNERS[label.slot()]
}

impl Interner {
    fn state(&self, label: OpenLabel) -> &State {
        self.state.get_or_init(|| {
            let cap = match self.requested_cap.load(Ordering::Acquire) {
                0 => label.default_cap(),
                n => n,
            };
            let mut texts = Vec::with_capacity(cap + 1);
            texts.resize_with(cap + 1, OnceLock::new);
            let _ = texts[0].set(OVERFLOW_VALUE);
            State {
                cap,
                ids: Mutex::new(HashMap::new()),
                texts: texts.into_boxed_slice(),
            }
        })
    }
}

/// Sets the cardinality cap of an open label. Call it at start-up, before the
/// first value of that label is created; afterwards the cap is fixed (the
/// record tables are sized from it) and this returns
/// [`LabelError::CapFrozen`].
///
/// ```
/// use photon_metrics::labels::{set_cap, cap, OpenLabel, Location};
/// set_cap(OpenLabel::Location, 8).unwrap();
/// assert_eq!(cap(OpenLabel::Location), 8);
/// let _ = Location::new("rack-1").unwrap();
/// assert!(set_cap(OpenLabel::Location, 16).is_err());
/// ```
pub fn set_cap(label: OpenLabel, cap: usize) -> Result<(), LabelError> {
    if cap == 0 || cap > MAX_CAP {
        return Err(LabelError::CapOutOfRange {
            label: label.as_str(),
            requested: cap,
            max: MAX_CAP,
        });
    }
    let i = interner(label);
    if i.state.get().is_some() {
        return Err(LabelError::CapFrozen {
            label: label.as_str(),
        });
    }
    i.requested_cap.store(cap, Ordering::Release);
    Ok(())
}

/// The cap in force for an open label (the default until [`set_cap`]).
pub fn cap(label: OpenLabel) -> usize {
    let i = interner(label);
    match i.state.get() {
        Some(state) => state.cap,
        None => match i.requested_cap.load(Ordering::Acquire) {
            0 => label.default_cap(),
            n => n,
        },
    }
}

/// Freezes the label's cap and returns the number of slots (cap + overflow).
pub(crate) fn intern_slots(label: OpenLabel) -> usize {
    interner(label).state(label).cap + 1
}

/// The text interned in `slot`, `__overflow__` for slot 0 or an empty slot.
pub(crate) fn value_text(label: OpenLabel, slot: usize) -> &'static str {
    let state = interner(label).state(label);
    state
        .texts
        .get(slot)
        .and_then(|t| t.get().copied())
        .unwrap_or(OVERFLOW_VALUE)
}

/// Whether `slot` holds an interned value of `label` (0, the overflow, always does).
#[inline]
fn is_interned(label: OpenLabel, slot: u32) -> bool {
    slot <= interner(label).interned.load(Ordering::Acquire)
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

/// Validates and interns `value`, returning its slot.
pub(crate) fn intern(label: OpenLabel, value: &str) -> Result<u32, LabelError> {
    validate(label, value)?;
    let interner = interner(label);
    let state = interner.state(label);
    // A poisoned lock only means another thread panicked mid-insert; the map
    // is still consistent (insert is the last step), so keep using it.
    let mut ids = state.ids.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(&id) = ids.get(value) {
        return Ok(id);
    }
    if ids.len() >= state.cap {
        drop(ids);
        overflowed(label, interner, state.cap);
        return Ok(0);
    }
    // Leaked on purpose: at most `cap` strings per label for the life of the
    // process, and a `&'static str` lets every series key borrow it for free.
    let text: &'static str = Box::leak(value.to_owned().into_boxed_str());
    let id = ids.len() as u32 + 1;
    let _ = state.texts[id as usize].set(text);
    ids.insert(text, id);
    // After the text is set, so a handle that passes is_interned has its text.
    interner.interned.store(id, Ordering::Release);
    Ok(id)
}

#[cold]
fn overflowed(label: OpenLabel, interner: &Interner, cap: usize) {
    if !interner.warned.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            label = label.as_str(),
            cap,
            "label `{}` reached its cardinality cap of {cap}; new values are recorded as `{OVERFLOW_VALUE}` (see photon_metrics_label_overflow_total)",
            label.as_str()
        );
    }
    crate::selfmon::record_label_overflow(label);
}

macro_rules! open_label {
    ($(#[$meta:meta])* $name:ident, $label:ident) => {
        $(#[$meta])*
        ///
        /// An open label: validated by [`new`](Self::new) (not empty, at most
        /// [`MAX_VALUE_LEN`] bytes; any other UTF-8, quotes, backslashes and
        /// newlines included, is kept exactly), interned once, then `Copy`.
        /// Past the label's cap (see [`OpenLabel::default_cap`]) new values
        /// become [`OVERFLOW`](Self::OVERFLOW).
        ///
        /// Four bytes: the interned slot. The text is looked up when needed.
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name {
            slot: u32,
        }

        impl $name {
            /// The value new values fold into once the cap is reached.
            pub const OVERFLOW: $name = $name { slot: 0 };

            /// The open label this type fills.
            pub const LABEL: OpenLabel = OpenLabel::$label;

            /// Validates and interns a value. Construct once and reuse: the
            /// returned value is `Copy` and records without hashing.
            ///
            /// # Errors
            /// [`LabelError::Empty`] or [`LabelError::TooLong`]. Reaching the
            /// cap is not an error: the result is [`OVERFLOW`](Self::OVERFLOW).
            pub fn new(value: &str) -> Result<Self, LabelError> {
                intern(OpenLabel::$label, value).map(|slot| $name { slot })
            }

            /// The value as exported.
            pub fn as_str(&self) -> &'static str {
                value_text(OpenLabel::$label, self.slot as usize)
            }

            /// Whether this is the overflow value.
            pub const fn is_overflow(&self) -> bool {
                self.slot == 0
            }

            /// The value's interned slot, a small integer stable for the
            /// life of this process (0 is [`OVERFLOW`](Self::OVERFLOW)): a
            /// handle for code across an FFI boundary (photon-metrics-ffi).
            /// It means nothing in another process.
            pub const fn to_raw(self) -> u32 {
                self.slot
            }

            /// The value whose [`to_raw`](Self::to_raw) is `raw`, or `None`
            /// when no value of this label was interned at that slot.
            #[inline]
            pub fn from_raw(raw: u32) -> Option<Self> {
                is_interned(OpenLabel::$label, raw).then_some($name { slot: raw })
            }

            #[inline]
            pub(crate) const fn slot(self) -> usize {
                self.slot as usize
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.as_str()).finish()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = LabelError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::new(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = LabelError;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                $name::new(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }
    };
}

open_label! {
    /// The compile target (`target` label): the hardware backend a model is compiled for.
    Target, Target
}
open_label! {
    /// The model architecture (`model_type` label), e.g. `resnet50`, `bert`. Not a model id:
    /// ids are span fields, never metric labels.
    ModelType, ModelType
}
open_label! {
    /// A bounded error classification (`error_kind` label): an error enum's
    /// variant name, never `Display` text.
    ErrorKind, ErrorKind
}
open_label! {
    /// One photonic device (`device_id` label).
    DeviceId, DeviceId
}
open_label! {
    /// Where a device runs (`location` label): a rack, a site.
    Location, Location
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_value_interns_to_same_slot() {
        let a = DeviceId::new("opu-unit-test-a").unwrap();
        let b = DeviceId::new("opu-unit-test-a").unwrap();
        let c = DeviceId::new("opu-unit-test-c").unwrap();
        assert_eq!(a, b);
        assert_ne!(a.slot(), c.slot());
        assert_eq!(value_text(OpenLabel::DeviceId, a.slot()), "opu-unit-test-a");
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
}

#[cfg(test)]
mod raw_tests {
    use super::*;

    #[test]
    fn raw_handles_round_trip_and_unknown_slots_are_refused() {
        let loc = Location::new("raw-rack").unwrap();
        assert_eq!(Location::from_raw(loc.to_raw()), Some(loc));
        assert_eq!(Location::from_raw(0), Some(Location::OVERFLOW));
        assert_eq!(Location::from_raw(u32::MAX), None);
        // A slot past every interned value is not a value.
        assert_eq!(Location::from_raw(MAX_CAP as u32), None);
    }
}
