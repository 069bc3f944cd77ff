//! The values of open labels: [`OpenValue`], the handle an application's
//! label type wraps, and the catalog's six label types, each a `Copy`
//! handle (see [`raw`](super::raw)) made by interning.

use super::open::{current_text, intern, is_live, was_handed_out};
use super::raw::{raw_generation, raw_slot};
use super::{LabelError, LabelText, OpenLabel, RETIRED_VALUE};
use std::fmt;
use std::str::FromStr;

/// The handle an application's open label type wraps: what
/// [`derive(Label)`](crate::Label) needs a newtype to hold, as
/// `pub struct Tenant(OpenValue);`. It is the same 32-bit slot and
/// generation the catalog's open labels are (see the module docs).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpenValue {
    raw: u32,
}

impl fmt::Debug for OpenValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OpenValue").field(&self.raw).finish()
    }
}

#[doc(hidden)]
impl OpenValue {
    pub const OVERFLOW: OpenValue = OpenValue { raw: 0 };

    pub fn intern(label: OpenLabel, value: &str) -> Result<Self, LabelError> {
        intern(label, value).map(|raw| OpenValue { raw })
    }

    pub fn text(self, label: OpenLabel) -> Option<LabelText> {
        current_text(label, raw_slot(self.raw), raw_generation(self.raw))
    }

    pub fn is_live(self, label: OpenLabel) -> bool {
        is_live(label, raw_slot(self.raw), raw_generation(self.raw))
    }

    pub const fn to_raw(self) -> u32 {
        self.raw
    }

    pub fn from_raw(label: OpenLabel, raw: u32) -> Option<Self> {
        was_handed_out(label, raw_slot(raw)).then_some(OpenValue { raw })
    }

    #[inline(always)]
    pub const fn slot(self) -> usize {
        raw_slot(self.raw)
    }

    #[inline(always)]
    pub const fn generation(self) -> u32 {
        raw_generation(self.raw)
    }
}

macro_rules! open_label {
    ($(#[$meta:meta])* $name:ident, $label:ident) => {
        $(#[$meta])*
        ///
        /// An open label: validated by [`new`](Self::new) (not empty, at most
        /// [`MAX_VALUE_LEN`](super::MAX_VALUE_LEN) bytes; any other UTF-8, quotes, backslashes and
        /// newlines included, is kept exactly), interned once, then `Copy`.
        /// Past the label's cap (see [`OpenLabel::default_cap`]) new values
        /// become [`OVERFLOW`](Self::OVERFLOW).
        ///
        /// Four bytes: the interned slot and its generation (see
        /// [`retire`](Self::retire)). The text is looked up when needed.
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name {
            raw: u32,
        }

        impl $name {
            /// The value new values fold into once the cap is reached.
            pub const OVERFLOW: $name = $name { raw: 0 };

            /// The open label this type fills.
            pub const LABEL: OpenLabel = OpenLabel::$label;

            /// Validates and interns a value. Construct once and reuse: the
            /// returned value is `Copy` and records without hashing.
            ///
            /// # Errors
            /// [`LabelError::Empty`] or [`LabelError::TooLong`]. Reaching the
            /// cap is not an error: the result is [`OVERFLOW`](Self::OVERFLOW).
            pub fn new(value: &str) -> Result<Self, LabelError> {
                intern(OpenLabel::$label, value).map(|raw| $name { raw })
            }

            /// The value as exported, or [`RETIRED_VALUE`] once this value
            /// was retired: a [`LabelText`], which reads as a `str` for as
            /// long as it is held (a retired value's text is freed once
            /// nothing holds it).
            pub fn as_str(&self) -> LabelText {
                current_text(OpenLabel::$label, raw_slot(self.raw), raw_generation(self.raw))
                    .unwrap_or(LabelText::constant(RETIRED_VALUE))
            }

            /// Whether this is the overflow value.
            pub const fn is_overflow(&self) -> bool {
                self.raw == 0
            }

            /// Whether this value is still live: interned and not retired.
            pub fn is_live(&self) -> bool {
                is_live(OpenLabel::$label, raw_slot(self.raw), raw_generation(self.raw))
            }

            /// The value's handle as a small integer (its slot and the
            /// slot's generation; 0 is [`OVERFLOW`](Self::OVERFLOW)), stable
            /// for the life of this value in this process: a handle for code
            /// across an FFI boundary (photon-metrics-ffi). It means nothing
            /// in another process.
            pub const fn to_raw(self) -> u32 {
                self.raw
            }

            /// The value whose [`to_raw`](Self::to_raw) is `raw`, or `None`
            /// when no value of this label was ever interned at its slot. A
            /// raw handle of a retired value is returned as it was: records
            /// through it are dropped as stale.
            #[inline]
            pub fn from_raw(raw: u32) -> Option<Self> {
                was_handed_out(OpenLabel::$label, raw_slot(raw)).then_some($name { raw })
            }

            /// The slot, for the series index.
            #[inline(always)]
            pub(crate) const fn slot(self) -> usize {
                raw_slot(self.raw)
            }

            /// The slot's generation, for the series stamp.
            #[inline(always)]
            pub(crate) const fn generation(self) -> u32 {
                raw_generation(self.raw)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.as_str()).finish()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.as_str())
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
open_label! {
    /// One compiler pass (`pass` label): an MLIR pass's argument
    /// (`canonicalize`, `cse`), as `-mlir-timing` names it.
    Pass, Pass
}

#[cfg(test)]
mod raw_tests {
    use super::*;
    use crate::labels::raw::SLOT_MASK;
    use crate::labels::MAX_CAP;

    #[test]
    fn raw_handles_round_trip_and_unknown_slots_are_refused() {
        let t = Target::new("raw-target").unwrap();
        assert_eq!(Target::from_raw(t.to_raw()), Some(t));
        assert_eq!(Target::from_raw(0), Some(Target::OVERFLOW));
        assert_eq!(Target::from_raw(SLOT_MASK), None);
        // A slot past every interned value is not a value.
        assert_eq!(Target::from_raw(MAX_CAP as u32), None);
    }
}
