//! One catalog family's series: a flat array of cells addressed by label
//! slots, allocated in chunks on first use.
//!
//! # Why it looks like this
//!
//! * A series is found by arithmetic, not by hashing: each label
//!   contributes its slot (enum index or interned id), combined mixed-radix
//!   into one flat index. Recording is two loads (chunk, then the slot's
//!   "created" check) and the cell's own atomic.
//! * Memory is bounded by design: a family can never hold more than the
//!   product of its labels' slots (caps for open labels, set sizes for
//!   closed ones), and only the chunks actually touched are allocated.
//! * Each series keeps its label text, escaped and joined with the global
//!   labels exactly once, when the series is created; a scrape copies it.

use super::cell::Cell;
use super::escape;
use crate::catalog::FamilySpec;
use crate::labels::{LabelName, MAX_LABELS};
use std::sync::OnceLock;

/// Series per lazily allocated chunk.
pub(crate) const CHUNK: usize = 64;

/// How a family's label slots map to one flat series index: fixed once the
/// labels' caps are frozen (when the table is created).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    labels: usize,
    radix: [usize; MAX_LABELS],
    /// `strides[i]` = product of `radix[i + 1..]`.
    pub(crate) strides: [usize; MAX_LABELS],
    total: usize,
}

impl Layout {
    /// Freezes the caps of the family's open labels.
    pub(crate) fn new(spec: &FamilySpec) -> Self {
        let mut radix = [1; MAX_LABELS];
        for (r, label) in radix.iter_mut().zip(spec.labels) {
            *r = slots(*label);
        }
        let mut strides = [0; MAX_LABELS];
        let mut total = 1;
        for i in (0..spec.labels.len()).rev() {
            strides[i] = total;
            total *= radix[i];
        }
        Layout {
            labels: spec.labels.len(),
            radix,
            strides,
            total,
        }
    }

    /// The label slots of a flat index.
    fn slots(&self, mut index: usize) -> [usize; MAX_LABELS] {
        let mut slots = [0; MAX_LABELS];
        for i in (0..self.labels).rev() {
            slots[i] = index % self.radix[i];
            index /= self.radix[i];
        }
        slots
    }
}

/// Slots a label contributes; freezes an open label's cap.
fn slots(label: LabelName) -> usize {
    match label.open() {
        Some(open) => crate::labels::intern_slots(open),
        None => label.value_slots(),
    }
}

/// [`CHUNK`] series: their encoded labels (each set once its series
/// exists) apart from their cells, so the line a record reads to check that
/// its series exists is never the line another thread is writing to.
pub(crate) struct Chunk<C> {
    texts: [OnceLock<Box<str>>; CHUNK],
    cells: [C; CHUNK],
}

/// One family's series.
pub(crate) struct Table<C> {
    pub(crate) spec: &'static FamilySpec,
    pub(crate) layout: Layout,
    /// The global labels that apply to this family, encoded
    /// (`name="value",…`); a family label of the same name wins.
    globals: Box<str>,
    chunks: Box<[OnceLock<Box<Chunk<C>>>]>,
}

impl<C: Cell> Table<C> {
    pub(crate) fn new(spec: &'static FamilySpec, globals: &[(String, String)]) -> Self {
        let layout = Layout::new(spec);
        let mut encoded = String::new();
        for (name, value) in globals {
            if spec.labels.iter().any(|l| l.as_str() == name) {
                continue;
            }
            push_label(&mut encoded, name, value);
        }
        let mut chunks = Vec::new();
        chunks.resize_with(layout.total.div_ceil(CHUNK), OnceLock::new);
        let table = Table {
            spec,
            layout,
            globals: encoded.into_boxed_str(),
            chunks: chunks.into_boxed_slice(),
        };
        if spec.all_labels_closed() {
            // Every series of a family with only closed labels (or none)
            // exists from the start, at 0.
            for index in 0..table.layout.total {
                table.cell(index);
            }
        }
        table
    }

    /// The cell of the series at `index` (a flat index from the layout),
    /// created on first use.
    #[inline(always)]
    pub(crate) fn cell(&self, index: usize) -> &C {
        if let Some(chunk) = self.chunks.get(index / CHUNK).and_then(OnceLock::get) {
            let i = index % CHUNK;
            if chunk.texts[i].get().is_some() {
                return &chunk.cells[i];
            }
        }
        self.create(index)
    }

    #[cold]
    #[inline(never)]
    fn create(&self, index: usize) -> &C {
        let bounds = self.spec.buckets.unwrap_or(&[]);
        let chunk = self.chunks[index / CHUNK].get_or_init(|| {
            Box::new(Chunk {
                texts: std::array::from_fn(|_| OnceLock::new()),
                cells: std::array::from_fn(|_| C::new(bounds)),
            })
        });
        let i = index % CHUNK;
        chunk.texts[i].get_or_init(|| self.encode(index));
        &chunk.cells[i]
    }

    fn encode(&self, index: usize) -> Box<str> {
        let slots = self.layout.slots(index);
        let mut text = String::new();
        for (label, slot) in self.spec.labels.iter().zip(slots) {
            push_label(&mut text, label.as_str(), label.slot_text(slot));
        }
        if !self.globals.is_empty() {
            if !text.is_empty() {
                text.push(',');
            }
            text.push_str(&self.globals);
        }
        text.into_boxed_str()
    }

    /// Every created series, in index order: its label text and cell.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&str, &C)) {
        for chunk in self.chunks.iter().filter_map(OnceLock::get) {
            for (text, cell) in chunk.texts.iter().zip(&chunk.cells) {
                if let Some(text) = text.get() {
                    f(text, cell);
                }
            }
        }
    }
}

/// Appends `name="escaped value"`, comma-separated from what is there.
pub(crate) fn push_label(out: &mut String, name: &str, value: &str) {
    if !out.is_empty() {
        out.push(',');
    }
    out.push_str(name);
    out.push_str("=\"");
    escape::label_value(out, value);
    out.push('"');
}
