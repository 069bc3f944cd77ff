//! Typed label sets: the tuple of label types a family is recorded with.
//!
//! Every typed family is declared with the Rust types of its labels, in
//! catalog order (`Family<_, (Target, Status, ModelType)>`), and its
//! constructor compares them with the catalog entry in a `const` context.
//! A family declared with labels in the wrong order, too few or too many is
//! therefore a compile error, not a first-record panic.

use super::{
    DeviceId, DeviceType, DropReason, ErrorKind, LabelName, Location, MemoryStat, ModelSize,
    ModelType, OpenLabel, Status, Target,
};
use crate::catalog::CATALOG;

/// The most labels any catalog family has, derived from the catalog.
pub(crate) const MAX_LABELS: usize = {
    let mut max = 0;
    let mut i = 0;
    while i < CATALOG.len() {
        if CATALOG[i].labels.len() > max {
            max = CATALOG[i].labels.len();
        }
        i += 1;
    }
    max
};

/// One label value of a known label name: its slot in the family table and
/// its exported text.
pub(crate) trait LabelValue: Copy {
    /// The catalog label this type fills.
    const NAME: LabelName;
    /// The slot (enum index, or interned id) of this value.
    fn slot(self) -> usize;
    /// The value as exported.
    fn text(self) -> &'static str;
}

macro_rules! closed_value {
    ($($ty:ident => $name:ident),* $(,)?) => {$(
        impl LabelValue for $ty {
            const NAME: LabelName = LabelName::$name;
            #[inline(always)]
            fn slot(self) -> usize {
                self as usize
            }
            fn text(self) -> &'static str {
                self.as_str()
            }
        }
    )*};
}

closed_value! {
    Status => Status,
    ModelSize => ModelSize,
    MemoryStat => MemoryStat,
    DeviceType => DeviceType,
    OpenLabel => Label,
    DropReason => DropReason,
}

macro_rules! open_value {
    ($($ty:ident),* $(,)?) => {$(
        impl LabelValue for $ty {
            const NAME: LabelName = LabelName::$ty;
            #[inline(always)]
            fn slot(self) -> usize {
                $ty::slot(self)
            }
            fn text(self) -> &'static str {
                self.as_str()
            }
        }
    )*};
}

open_value!(Target, ModelType, ErrorKind, DeviceId, Location);

/// The labels of one family, as a tuple of [`LabelValue`]s in catalog order.
pub(crate) trait LabelSet: Copy {
    /// The label names, in order.
    const NAMES: &'static [LabelName];
    /// The series index: the dot product of the slots with `strides`.
    fn flat(self, strides: &[usize; MAX_LABELS]) -> usize;
    /// The labels as `metrics` labels, for recorders other than photon's.
    fn to_labels(self) -> Vec<metrics::Label>;
}

impl LabelSet for () {
    const NAMES: &'static [LabelName] = &[];
    #[inline(always)]
    fn flat(self, _: &[usize; MAX_LABELS]) -> usize {
        0
    }
    fn to_labels(self) -> Vec<metrics::Label> {
        Vec::new()
    }
}

macro_rules! tuple_set {
    ($($t:ident $i:tt),+) => {
        impl<$($t: LabelValue),+> LabelSet for ($($t,)+) {
            const NAMES: &'static [LabelName] = &[$($t::NAME),+];
            #[inline(always)]
            fn flat(self, strides: &[usize; MAX_LABELS]) -> usize {
                0 $(+ self.$i.slot() * strides[$i])+
            }
            fn to_labels(self) -> Vec<metrics::Label> {
                vec![$(metrics::Label::from_static_parts($t::NAME.as_str(), self.$i.text())),+]
            }
        }
    };
}

tuple_set!(A 0);
tuple_set!(A 0, B 1);
tuple_set!(A 0, B 1, C 2);

// A family with more labels than the tuples above would not compile its
// `Family` declaration; say so here, where the fix is.
const _: () = assert!(
    MAX_LABELS <= 3,
    "add a tuple_set! arm for the catalog's longest label list"
);

/// Whether two label lists are the same, usable in `const` assertions.
pub(crate) const fn same_names(a: &[LabelName], b: &[LabelName]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] as u8 != b[i] as u8 {
            return false;
        }
        i += 1;
    }
    true
}
