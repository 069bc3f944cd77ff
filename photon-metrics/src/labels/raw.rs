//! A raw handle: an open label value's slot and generation in 32 bits.
//!
//! # Why a handle is a slot *and* a generation, packed in 32 bits
//!
//! A retired value's slot is handed to a later value, and `Copy` handles to
//! the old one may still exist anywhere (the ABA problem). Each slot counts
//! its lives; a handle remembers the life it was made in, and each series
//! remembers the lives of the values it was created for (its *stamp*, see
//! [`crate::labels::LabelSet::stamp`]). The record path compares the two in
//! the word it already loaded to learn that the series exists, so checking
//! costs no extra cache line. Packing both into 32 bits keeps a handle the
//! size it always was (records pass three of them in registers) and keeps
//! [`to_raw`](super::DeviceId::to_raw), which the C ABI passes around, a `u32`. A
//! slot that used up its [`GENERATIONS`] lives is never handed out again,
//! so a generation is never reused: stale handles are told apart for ever.

/// The hard ceiling for any open label's cap.
pub const MAX_CAP: usize = 4096;

/// Bits of a raw handle that hold the slot (`0..=MAX_CAP`).
pub(crate) const SLOT_BITS: u32 = 13;
pub(crate) const SLOT_MASK: u32 = (1 << SLOT_BITS) - 1;
/// Bits of a raw handle that hold the slot's generation.
pub(crate) const GEN_BITS: u32 = 32 - SLOT_BITS;
/// How many values one slot can hold in turn before it is never reused.
pub const GENERATIONS: u32 = 1 << GEN_BITS;
const _: () = assert!(MAX_CAP < (1 << SLOT_BITS));

/// The raw handle of `slot` in its life `generation`.
pub(crate) const fn raw(slot: u32, generation: u32) -> u32 {
    (generation << SLOT_BITS) | slot
}

/// The slot of a raw handle.
#[inline(always)]
pub(crate) const fn raw_slot(raw: u32) -> usize {
    (raw & SLOT_MASK) as usize
}

/// The generation of a raw handle.
#[inline(always)]
pub(crate) const fn raw_generation(raw: u32) -> u32 {
    raw >> SLOT_BITS
}
