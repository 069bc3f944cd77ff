//! Typed label sets: the tuple of label types a family is recorded with.
//!
//! Every typed family is declared with the Rust types of its labels, in
//! catalog order (`Family<_, (Target, Status, ModelType)>`), and its
//! constructor compares them with the catalog entry in a `const` context.
//! A family declared with labels in the wrong order, too few or too many is
//! therefore a compile error, not a first-record panic.

use super::{
    DeviceId, DeviceType, DropReason, ErrorKind, LabelName, Location, MemoryStat, ModelSize,
    ModelType, OpenLabel, Pass, Status, Target,
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

/// A series' *stamp*: which lives of its open labels' slots it belongs to.
///
/// The table keeps one per series, in the word the record path loads to
/// learn that the series exists, and a record compares it with the stamp
/// of its own label handles: equal means the series is this value's. Bits:
///
/// * 63, [`LIVE`](stamp::LIVE): the series exists (0 is "no series");
/// * 62, [`IDLE`](stamp::IDLE): set by an idle-expiry sweep, cleared by the
///   next record (which therefore takes the cold path once per sweep);
/// * `GEN_BITS * i ..`: the generation of the label in position `i`
///   (0 for closed labels and the overflow value).
pub(crate) mod stamp {
    use super::super::open::GEN_BITS;
    use super::MAX_LABELS;

    /// The series exists.
    pub(crate) const LIVE: u64 = 1 << 63;
    /// No record since the last idle-expiry sweep.
    pub(crate) const IDLE: u64 = 1 << 62;
    const _: () = assert!(
        MAX_LABELS as u32 * GEN_BITS <= 62,
        "the generations of every label of a family fit below the flag bits"
    );

    /// The stamp bits of generation `generation` in label position `i`.
    #[inline(always)]
    pub(crate) const fn part(i: usize, generation: u32) -> u64 {
        (generation as u64) << (GEN_BITS as usize * i)
    }

    /// The generation of label position `i` in `stamp`.
    pub(crate) const fn generation(stamp: u64, i: usize) -> u32 {
        ((stamp >> (GEN_BITS as usize * i)) & ((1 << GEN_BITS) - 1)) as u32
    }
}

/// One label value of a known label name: its slot in the family table and
/// its exported text.
pub(crate) trait LabelValue: Copy {
    /// The catalog label this type fills.
    const NAME: LabelName;
    /// The slot (enum index, or interned id) of this value.
    fn slot(self) -> usize;
    /// The generation of the slot's value (0 for closed labels).
    fn generation(self) -> u32;
    /// The value as exported ([`RETIRED_VALUE`](super::RETIRED_VALUE) once retired).
    fn text(self) -> &'static str;
    /// Whether the value is still live (always, for closed labels).
    fn is_live(self) -> bool;
}

macro_rules! closed_value {
    ($($ty:ident => $name:ident),* $(,)?) => {$(
        impl LabelValue for $ty {
            const NAME: LabelName = LabelName::$name;
            #[inline(always)]
            fn slot(self) -> usize {
                self as usize
            }
            #[inline(always)]
            fn generation(self) -> u32 {
                0
            }
            fn text(self) -> &'static str {
                self.as_str()
            }
            fn is_live(self) -> bool {
                true
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
            #[inline(always)]
            fn generation(self) -> u32 {
                $ty::generation(self)
            }
            fn text(self) -> &'static str {
                self.as_str()
            }
            fn is_live(self) -> bool {
                $ty::is_live(&self)
            }
        }
    )*};
}

open_value!(Target, ModelType, ErrorKind, DeviceId, Location, Pass);

/// The labels of one family, as a tuple of [`LabelValue`]s in catalog order.
pub(crate) trait LabelSet: Copy {
    /// The label names, in order.
    const NAMES: &'static [LabelName];
    /// The series index: the dot product of the slots with `strides`.
    fn flat(self, strides: &[usize; MAX_LABELS]) -> usize;
    /// The stamp a series of these values carries (see [`stamp`]).
    fn stamp(self) -> u64;
    /// The first label whose value was retired, if any.
    fn stale(self) -> Option<LabelName>;
    /// The labels as `metrics` labels, for recorders other than photon's.
    fn to_labels(self) -> Vec<metrics::Label>;
}

impl LabelSet for () {
    const NAMES: &'static [LabelName] = &[];
    #[inline(always)]
    fn flat(self, _: &[usize; MAX_LABELS]) -> usize {
        0
    }
    #[inline(always)]
    fn stamp(self) -> u64 {
        stamp::LIVE
    }
    fn stale(self) -> Option<LabelName> {
        None
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
            #[inline(always)]
            fn stamp(self) -> u64 {
                stamp::LIVE $(| stamp::part($i, self.$i.generation()))+
            }
            fn stale(self) -> Option<LabelName> {
                $(if !self.$i.is_live() {
                    return Some($t::NAME);
                })+
                None
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
