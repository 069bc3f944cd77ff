//! Typed label sets: the tuple of label types a family is recorded with.
//!
//! Every typed family is declared with the Rust types of its labels, in
//! catalog order (`Family<_, (Target, Status, ModelType)>`), and its
//! constructor compares them with the catalog entry in a `const` context.
//! A family declared with labels in the wrong order, too few or too many is
//! therefore a compile error, not a first-record panic.

use super::{LabelName, LabelText};

/// The most labels a family can have: a series' stamp holds each label's
/// generation, and three of them fill the word below its flag bits.
pub const MAX_LABELS: usize = 3;

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
    use super::super::raw::GEN_BITS;
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

/// A label type: one value of a known label name, with its slot in a
/// family's table and its exported text.
///
/// Implemented by [`derive(Label)`](crate::Label), for the catalog's label
/// types as for an application's; not meant to be implemented by hand.
pub trait LabelValue: Copy + 'static {
    /// The label this type fills.
    const NAME: LabelName;
    /// The slot (enum index, or interned id) of this value.
    #[doc(hidden)]
    fn slot(self) -> usize;
    /// The generation of the slot's value (0 for closed labels).
    #[doc(hidden)]
    fn generation(self) -> u32;
    /// The value as exported ([`RETIRED_VALUE`](super::RETIRED_VALUE) once retired).
    fn text(self) -> LabelText;
    /// Whether the value is still live (always, for closed labels).
    fn is_live(self) -> bool;
}

/// The labels of one family: `()` or a tuple of one to [`MAX_LABELS`]
/// [`LabelValue`]s, in the family's label order.
pub trait LabelSet: Copy + 'static {
    /// The label names, in order.
    const NAMES: &'static [LabelName];
    /// The series index: the dot product of the slots with `strides`.
    #[doc(hidden)]
    fn flat(self, strides: &[usize; MAX_LABELS]) -> usize;
    /// The stamp a series of these values carries (see [`stamp`]).
    #[doc(hidden)]
    fn stamp(self) -> u64;
    /// The first label whose value was retired, if any.
    #[doc(hidden)]
    fn stale(self) -> Option<LabelName>;
    /// The labels as `metrics` labels, for recorders other than photon's.
    #[doc(hidden)]
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
                vec![$(shared_label($t::NAME.as_str(), self.$i.text())),+]
            }
        }
    };
}

tuple_set!(A 0);
tuple_set!(A 0, B 1);
tuple_set!(A 0, B 1, C 2);

/// A label for another recorder: a constant text is lent, an open value's
/// text is copied (it may be freed once its value is retired).
pub(crate) fn shared_label(name: &'static str, text: LabelText) -> metrics::Label {
    match text.as_static() {
        Some(text) => metrics::Label::from_static_parts(name, text),
        None => metrics::Label::new(name, text.to_string()),
    }
}

/// Whether two label lists are the same, usable in `const` assertions.
pub(crate) const fn same_names(a: &[LabelName], b: &[LabelName]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if !same_str(a[i].as_str(), b[i].as_str()) {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether two strings are equal, usable in `const` assertions.
pub(crate) const fn same_str(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether some name appears twice in `names`, usable in `const` assertions.
pub(crate) const fn has_duplicate(names: &[LabelName]) -> bool {
    let mut i = 0;
    while i < names.len() {
        let mut j = i + 1;
        while j < names.len() {
            if same_str(names[i].as_str(), names[j].as_str()) {
                return true;
            }
            j += 1;
        }
        i += 1;
    }
    false
}
