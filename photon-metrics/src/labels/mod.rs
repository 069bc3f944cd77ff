//! Label types: closed sets are enums, open sets are validated, interned,
//! cardinality-capped newtypes.
//!
//! A label value a user can get wrong is never a bare string here.
//! [`Status`], [`ModelSize`], [`MemoryStat`] and [`DeviceType`] are closed
//! enums: a typo does not compile. [`Target`], [`ModelType`], [`ErrorKind`],
//! [`DeviceId`], [`Location`] and [`Pass`] are open sets: each value is validated once,
//! interned, and from then on is a `Copy` index, so recording with it needs no
//! hashing, locking or allocation.
//!
//! # Cardinality caps
//!
//! Every open label has a cap on the number of distinct values it holds at
//! once (see [`OpenLabel::default_cap`]; change it with [`set_cap`] before
//! the first value of that label is created). Once a label is full, every
//! *new* value maps to the single value `__overflow__`, a warning is logged
//! once for that label, and `photon_metrics_label_overflow_total{label="…"}`
//! counts each folding: every `new()` (or facade record) that asked for a
//! value that did not fit counts once, so one value created twice counts 2. Retiring a value ([`DeviceId::retire`], or idle
//! expiry: [`set_idle_expiry`]) removes its series and frees its slot; see
//! the README's "Series lifecycle". A family's series count is therefore bounded by
//! the product of its labels' slots ([`FamilySpec::max_series`]), so a
//! runaway caller can never take Prometheus down.
//!
//! ```
//! use photon_metrics::labels::{Target, LabelError};
//!
//! let t = Target::new("lightmatter-envise").unwrap();
//! assert_eq!(t.as_str(), "lightmatter-envise");
//! assert_eq!(Target::new(""), Err(LabelError::Empty { label: "target" }));
//! ```
//!
//! # What can reach a label
//!
//! Every label of every catalog family is one of these types, so nothing
//! else can reach one: no error message, file path, model id or other user
//! string becomes a label value except through [`OpenLabel`] values that
//! were validated (non-empty, at most [`MAX_VALUE_LEN`] bytes, never
//! truncated) and counted against their cap. In particular:
//!
//! - an error's `Display` text goes to the span (`otel.status_description`),
//!   never to metrics; its *kind* (the enum variant via
//!   [`ErrorClass`](crate::ErrorClass), or the error type's path) is an
//!   [`ErrorKind`];
//! - a model's id goes to the span (`model_id`), never to metrics; its
//!   architecture is a capped [`ModelType`];
//! - global labels are set by the application's code at install.
//!
//! Series recorded through the `metrics` facade under names outside the
//! catalog carry whatever labels their caller gives; photon escapes them
//! exactly but cannot bound them.
//!
//! [`FamilySpec::max_series`]: crate::catalog::FamilySpec::max_series

mod closed;
mod open;
mod raw;
mod set;
mod settings;
mod text;
mod values;

/// What [`text`] is written against: std and arc-swap here, loom and a
/// lock-based stand-in in `tests/loom_label_text.rs`.
mod sync {
    pub(crate) use arc_swap::ArcSwapOption;
    pub(crate) use std::sync::atomic::{AtomicU32, Ordering};
    pub(crate) use std::sync::Arc;
    /// A loaded text, held without a write to its reference count.
    pub(crate) type Loaded<T> = arc_swap::Guard<Option<Arc<T>>>;
}

pub use closed::{ClosedLabel, DeviceType, DropReason, MemoryStat, ModelSize, Status};
pub use open::{
    OpenDef, OpenLabel, DEFAULT_REUSE_DELAY, MAX_OWN_LABELS, MAX_VALUE_LEN, OVERFLOW_VALUE,
    RETIRED_VALUE,
};
pub use raw::{GENERATIONS, MAX_CAP};
pub use settings::{
    cap, idle_expiry, live_values, overflow_records, set_cap, set_idle_expiry, set_reuse_delay,
    stale_records,
};
pub use text::LabelText;
pub use values::{DeviceId, ErrorKind, Location, ModelType, OpenValue, Pass, Target};

pub(crate) use open::{
    all_labels, begin_retire, count_stale, current_text, finish_retire, idle_values, intern_slots,
    now_ms, own_label_name, seen,
};
pub(crate) use raw::{raw_generation, raw_slot};
pub(crate) use set::{has_duplicate, same_names, same_str, shared_label, stamp};
pub use set::{LabelSet, LabelValue, MAX_LABELS};

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
        (None, Some(open)) => {
            open::intern(open, value).map(|raw| (raw_slot(raw), raw_generation(raw)))
        }
        (None, None) => Ok((0, 0)),
    }
}

/// A label name used by some family in the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LabelName {
    /// `target`: the compile target (hardware backend), open.
    Target,
    /// `status`: the outcome of a compilation, closed ([`Status`]).
    Status,
    /// `model_type`: the kind of model compiled, open.
    ModelType,
    /// `model_size`: `small` or `large`, derived from the parameter count ([`ModelSize`]).
    ModelSize,
    /// `error_kind`: a bounded error classification, open.
    ErrorKind,
    /// `memory`: which memory figure a gauge holds ([`MemoryStat`]).
    MemoryStat,
    /// `device_id`: one photonic device, open.
    DeviceId,
    /// `device_type`: the device technology, closed ([`DeviceType`]).
    DeviceType,
    /// `location`: where a device runs (rack, site), open.
    Location,
    /// `pass`: one compiler pass (`canonicalize`, `cse`), open.
    Pass,
    /// `label`: which open label overflowed (self-monitoring), closed ([`OpenLabel`]).
    Label,
    /// `reason`: why spans were dropped (self-monitoring), closed ([`DropReason`]).
    DropReason,
    /// An application's closed label, declared with [`derive(Label)`](crate::Label) on an enum.
    OwnClosed {
        /// The label name as exported.
        name: &'static str,
        /// Every value, in slot order.
        values: &'static [&'static str],
    },
    /// An application's open label, declared with [`derive(Label)`](crate::Label) on a newtype.
    OwnOpen {
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
            LabelName::Target => "target",
            LabelName::Status => "status",
            LabelName::ModelType => "model_type",
            LabelName::ModelSize => "model_size",
            LabelName::ErrorKind => "error_kind",
            LabelName::MemoryStat => "memory",
            LabelName::DeviceId => "device_id",
            LabelName::DeviceType => "device_type",
            LabelName::Location => "location",
            LabelName::Pass => "pass",
            LabelName::Label => "label",
            LabelName::DropReason => "reason",
            LabelName::OwnClosed { name, .. } => name,
            LabelName::OwnOpen { name, .. } => name,
        }
    }

    /// The closed set of values, or `None` for an open label.
    pub const fn closed_values(self) -> Option<&'static [&'static str]> {
        match self {
            LabelName::Status => Some(Status::VALUES),
            LabelName::ModelSize => Some(ModelSize::VALUES),
            LabelName::MemoryStat => Some(MemoryStat::VALUES),
            LabelName::DeviceType => Some(DeviceType::VALUES),
            LabelName::Label => Some(OpenLabel::VALUES),
            LabelName::DropReason => Some(DropReason::VALUES),
            LabelName::OwnClosed { values, .. } => Some(values),
            LabelName::OwnOpen { .. }
            | LabelName::Target
            | LabelName::ModelType
            | LabelName::ErrorKind
            | LabelName::DeviceId
            | LabelName::Location
            | LabelName::Pass => None,
        }
    }

    /// The open label behind this name, if it is open.
    pub const fn open(self) -> Option<OpenLabel> {
        match self {
            LabelName::Target => Some(OpenLabel::Target),
            LabelName::ModelType => Some(OpenLabel::ModelType),
            LabelName::ErrorKind => Some(OpenLabel::ErrorKind),
            LabelName::DeviceId => Some(OpenLabel::DeviceId),
            LabelName::Location => Some(OpenLabel::Location),
            LabelName::Pass => Some(OpenLabel::Pass),
            LabelName::OwnOpen { def, .. } => Some(OpenLabel::Own(def)),
            _ => None,
        }
    }

    /// How many distinct values this label can take in a series: the size of
    /// a closed set, or an open label's cap plus one for `__overflow__`.
    pub fn value_slots(self) -> usize {
        if let LabelName::Label = self {
            // The catalog's open labels, then room for every application's.
            return OpenLabel::VALUES.len() + MAX_OWN_LABELS;
        }
        match (self.closed_values(), self.open()) {
            (Some(values), _) => values.len(),
            (None, Some(open)) => cap(open) + 1,
            (None, None) => 1,
        }
    }

    /// Whether a closed label has a value in `slot` now: always within its
    /// set, except the `label` label's room for applications' open labels,
    /// which has one once that label is in use.
    pub(crate) fn has_value(self, slot: usize) -> bool {
        match (self, slot.checked_sub(OpenLabel::VALUES.len())) {
            (LabelName::Label, Some(own)) => own_label_name(own).is_some(),
            _ => true,
        }
    }

    /// The text of the value in `slot` in its life `generation` (see
    /// [`value_slots`](Self::value_slots)), or `None` once an open value's
    /// life is over.
    pub(crate) fn slot_text(self, slot: usize, generation: u32) -> Option<LabelText> {
        if let (LabelName::Label, Some(own)) = (self, slot.checked_sub(OpenLabel::VALUES.len())) {
            return Some(LabelText::constant(
                own_label_name(own).unwrap_or(OVERFLOW_VALUE),
            ));
        }
        match (self.closed_values(), self.open()) {
            (Some(values), _) => Some(LabelText::constant(
                values.get(slot).copied().unwrap_or(OVERFLOW_VALUE),
            )),
            (None, Some(open)) => current_text(open, slot, generation),
            (None, None) => Some(LabelText::constant(OVERFLOW_VALUE)),
        }
    }
}

/// Why a label value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LabelError {
    /// The value was the empty string, which Prometheus treats as "label absent".
    #[error(
        "label `{label}` must not be empty (Prometheus reads an empty value as a missing label)"
    )]
    Empty {
        /// The label name.
        label: &'static str,
    },
    /// The value is longer than [`MAX_VALUE_LEN`] bytes.
    #[error("label `{label}` value is {len} bytes long; the limit is {max} bytes")]
    TooLong {
        /// The label name.
        label: &'static str,
        /// The value's length in bytes.
        len: usize,
        /// The limit, [`MAX_VALUE_LEN`].
        max: usize,
    },
    /// A closed-set label was parsed from text that names no variant.
    #[error("`{value}` is not a valid `{label}`; expected one of: {expected}")]
    UnknownVariant {
        /// The label name.
        label: &'static str,
        /// The text given.
        value: String,
        /// The accepted values, comma-separated.
        expected: String,
    },
    /// [`set_cap`] was called after the label's first value was interned.
    #[error("the cardinality cap of `{label}` is fixed once its first value is created; set it at start-up")]
    CapFrozen {
        /// The label name.
        label: &'static str,
    },
    /// [`set_cap`] was given zero or more than the hard ceiling.
    #[error("cardinality cap {requested} for `{label}` is out of range 1..={max}")]
    CapOutOfRange {
        /// The label name.
        label: &'static str,
        /// The cap asked for.
        requested: usize,
        /// The hard ceiling.
        max: usize,
    },
}
