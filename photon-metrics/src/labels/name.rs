//! [`LabelName`]: a label as a family holds it, its name and its values
//! (a closed set, or an open label's interner), and the slot a value
//! takes in it.

use super::open::{current_text, intern, OVERFLOW_VALUE};
use super::raw::{raw_generation, raw_slot};
use super::settings::cap;
use super::{LabelError, LabelText, OpenDef, OpenLabel};

/// The slot of `value` for `label` and the generation of that slot's
/// value: its index in a closed set (generation 0), or its interned handle
/// (interning it, under the label's cap) for an open label. Both come from
/// one interning, so they name the same value even if it is retired next.
pub(crate) fn slot_of(label: LabelName, value: &str) -> Result<(usize, u32), LabelError> {
    match (label.closed_values(), label.open()) {
        (Some(values), _) => values
            .iter()
            .position(|v| *v == value)
            .map(|slot| (slot, 0))
            .ok_or_else(|| LabelError::UnknownVariant {
                label: label.as_str(),
                value: value.to_string(),
                expected: values.join(", "),
            }),
        (None, Some(open)) => intern(open, value).map(|raw| (raw_slot(raw), raw_generation(raw))),
        (None, None) => Ok((0, 0)),
    }
}

/// A label of some family: its exported name and its values, a closed set
/// or an open label's interner. Every label type's
/// [`LabelValue::NAME`](super::LabelValue::NAME); [`derive(Label)`](crate::Label) writes it, for the
/// catalog's label types as for an application's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LabelName {
    /// A closed label, declared with [`derive(Label)`](crate::Label) on an enum.
    Closed {
        /// The label name as exported.
        name: &'static str,
        /// Every value, in slot order.
        values: &'static [&'static str],
    },
    /// An open label, declared with [`derive(Label)`](crate::Label) on a newtype.
    Open {
        /// The label name as exported (the same as `def`'s, kept here so
        /// that `const` checks can read it without reading a `static`).
        name: &'static str,
        /// The label's interner and defaults.
        def: &'static OpenDef,
    },
}

impl LabelName {
    /// The label name as exported.
    pub const fn as_str(self) -> &'static str {
        match self {
            LabelName::Closed { name, .. } | LabelName::Open { name, .. } => name,
        }
    }

    /// The closed set of values, or `None` for an open label.
    pub const fn closed_values(self) -> Option<&'static [&'static str]> {
        match self {
            LabelName::Closed { values, .. } => Some(values),
            LabelName::Open { .. } => None,
        }
    }

    /// The open label behind this name, if it is open.
    pub const fn open(self) -> Option<OpenLabel> {
        match self {
            LabelName::Open { def, .. } => Some(OpenLabel::new(def)),
            LabelName::Closed { .. } => None,
        }
    }

    /// How many distinct values this label can take in a series: the size of
    /// a closed set, or an open label's cap plus one for `__overflow__`.
    pub fn value_slots(self) -> usize {
        match self {
            LabelName::Closed { values, .. } => values.len(),
            LabelName::Open { def, .. } => cap(OpenLabel::new(def)) + 1,
        }
    }

    /// The text of the value in `slot` in its life `generation` (see
    /// [`value_slots`](Self::value_slots)), or `None` once an open value's
    /// life is over.
    pub(crate) fn slot_text(self, slot: usize, generation: u32) -> Option<LabelText> {
        match self {
            LabelName::Closed { values, .. } => Some(LabelText::constant(
                values.get(slot).copied().unwrap_or(OVERFLOW_VALUE),
            )),
            LabelName::Open { def, .. } => current_text(OpenLabel::new(def), slot, generation),
        }
    }
}
