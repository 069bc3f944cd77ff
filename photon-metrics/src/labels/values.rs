//! The values of open labels: [`OpenValue`], the handle every open label
//! type wraps, and the catalog's open label types, declared with
//! [`derive(Label)`](crate::Label) as an application's are.

use super::open::{current_text, intern, is_live, retire, was_handed_out};
use super::raw::{raw_generation, raw_slot};
use super::{LabelError, LabelText, OpenLabel};
use crate::Label;
use std::fmt;

/// The handle every open label type wraps: what
/// [`derive(Label)`](crate::Label) needs a newtype to hold, as
/// `pub struct Tenant(OpenValue);`: a 32-bit slot and generation (see the
/// module docs).
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

    pub fn retire(self, label: OpenLabel) -> bool {
        retire(label, self.raw)
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

// The catalog's open labels, declared as an application declares its own.
// Each is validated by `new` (not empty, at most `MAX_VALUE_LEN` bytes; any
// other UTF-8, quotes, backslashes and newlines included, is kept exactly),
// interned once, then `Copy`: four bytes, the interned slot and its
// generation. Past its cap new values become `OVERFLOW`.

/// The compile target (`target` label): the hardware backend a model is
/// compiled for. Cap 32: the backends a compiler build supports. No idle
/// expiry: a build's backends are few and fixed; a quiet one is still
/// configured.
#[derive(Label, Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[label(name = "target", cap = 32)]
pub struct Target(OpenValue);

/// The model architecture (`model_type` label), e.g. `resnet50`, `bert`.
/// Not a model id: ids are span fields, never metric labels. Cap 64. Idle
/// expiry 24 h: a compile server sees new architectures every day; one
/// unseen for a day has left, and a day is longer than any `rate()` window
/// a dashboard uses.
#[derive(Label, Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[label(name = "model_type", cap = 64, idle_expiry_secs = 86400)]
pub struct ModelType(OpenValue);

/// A bounded error classification (`error_kind` label): an error enum's
/// variant name, never `Display` text. Cap 64: error enum variants. No idle
/// expiry: bounded by the code's error enums; `increase(…[7d])` wants the
/// rare ones kept.
#[derive(Label, Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[label(name = "error_kind", cap = 64)]
pub struct ErrorKind(OpenValue);

/// One photonic device (`device_id` label). Cap 1024: the devices one
/// process drives. No idle expiry: a silent device is news, so its last
/// status stays until it is retired on purpose.
#[derive(Label, Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[label(name = "device_id", cap = 1024)]
pub struct DeviceId(OpenValue);

/// Where a device runs (`location` label): a rack, a site. Cap 64. No idle
/// expiry: racks and sites are few and stable.
#[derive(Label, Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[label(name = "location", cap = 64)]
pub struct Location(OpenValue);

/// One compiler pass (`pass` label): an MLIR pass's argument
/// (`canonicalize`, `cse`), as `-mlir-timing` names it. Cap 256: an MLIR
/// compiler's passes, plugins included (upstream MLIR registers about
/// 200). No idle expiry: a build's passes are fixed; a plugin's are
/// retired when it is unloaded.
#[derive(Label, Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[label(name = "pass", cap = 256)]
pub struct Pass(OpenValue);

/// The most open labels (the catalog's and applications' together) the
/// self-monitoring families tell apart: past it, their `label` label
/// folds into `__overflow__` like any other.
pub const MAX_OPEN_LABELS: usize = 69;

/// The `label` label of the self-monitoring families
/// (`photon_metrics_label_overflow_total` and its siblings): which open
/// label a figure is about, by its name. Interned from each open label in
/// use, never retired.
#[derive(Label, Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[label(name = "label", cap = 69)]
pub struct MonitoredLabel(OpenValue);

#[cfg(test)]
mod raw_tests {
    use super::*;

    #[test]
    fn the_label_label_tells_max_open_labels_apart() {
        assert_eq!(MonitoredLabel::LABEL.default_cap(), MAX_OPEN_LABELS);
    }
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
