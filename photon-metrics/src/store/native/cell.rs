//! The native buckets of one series: lock-free counters in lazily
//! installed chunks (see the parent module).

use super::atomic::{AtomicPtr, AtomicU64, Ordering};
use super::{bucket_index, index_with, Layout, NativeSnapshot, CHUNK, NEAR};

/// One chunk of bucket counters, on cache lines of its own.
#[repr(align(64))]
struct Chunk([AtomicU64; CHUNK]);

impl Chunk {
    fn boxed() -> *mut Chunk {
        Box::into_raw(Box::new(Chunk(std::array::from_fn(|_| AtomicU64::new(0)))))
    }
}

/// A chunk outside the directory, on the list.
struct Far {
    negative: bool,
    id: i32,
    counts: Chunk,
    next: *mut Far,
}

/// The native buckets of one histogram series.
pub(crate) struct NativeCell {
    layout: Layout,
    zero: AtomicU64,
    nan: AtomicU64,
    near: [AtomicPtr<Chunk>; NEAR],
    far: AtomicPtr<Far>,
}

// SAFETY: the raw pointers are owned chunks, only ever shared as `&Chunk`
// (atomics) and freed in `drop`, when no reference can remain.
unsafe impl Send for NativeCell {}
// SAFETY: as above; every mutation goes through atomics.
unsafe impl Sync for NativeCell {}

impl std::fmt::Debug for NativeCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeCell")
            .field("layout", &self.layout)
            .finish_non_exhaustive()
    }
}

impl Drop for NativeCell {
    fn drop(&mut self) {
        for p in &self.near {
            let p = p.load(Ordering::Acquire);
            if !p.is_null() {
                // SAFETY: installed from `Box::into_raw`, freed only here.
                drop(unsafe { Box::from_raw(p) });
            }
        }
        let mut p = self.far.load(Ordering::Acquire);
        while !p.is_null() {
            // SAFETY: as above, for every node of the list.
            let node = unsafe { Box::from_raw(p) };
            p = node.next;
        }
    }
}

impl NativeCell {
    pub(crate) fn new(layout: Layout) -> Self {
        NativeCell {
            layout,
            zero: AtomicU64::new(0),
            nan: AtomicU64::new(0),
            near: std::array::from_fn(|_| AtomicPtr::new(std::ptr::null_mut())),
            far: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// Heap bytes one chunk of buckets takes (for the memory bound).
    pub(crate) const CHUNK_BYTES: usize = std::mem::size_of::<Far>();

    /// Counts `count` observations of `value`; returns its bucket index
    /// if it is positive and above the zero bucket.
    #[inline(always)]
    pub(crate) fn observe(&self, value: f64, count: u64) -> Option<i32> {
        let magnitude = value.abs();
        // NaN compares with nothing, so it takes this branch too: the
        // negated comparison says so in one instruction.
        #[allow(clippy::neg_cmp_op_on_partial_ord)]
        let small = !(magnitude > self.layout.zero_threshold);
        if small {
            self.small(value, count);
            return None;
        }
        let key = index_with(magnitude, self.layout.schema, self.layout.table);
        let id = key >> CHUNK.trailing_zeros();
        let offset = (key & (CHUNK as i32 - 1)) as usize;
        let slot = id.wrapping_sub(self.layout.base) as u32 as usize;
        let positive = value > 0.0;
        let chunk = match self.near.get(slot) {
            Some(near) if positive => {
                let p = near.load(Ordering::Acquire);
                if p.is_null() {
                    self.install_near(near)
                } else {
                    // SAFETY: a non-null pointer is an installed chunk,
                    // which lives as long as `self`.
                    unsafe { &*p }
                }
            }
            _ => self.far_chunk(!positive, id),
        };
        chunk.0[offset].fetch_add(count, Ordering::Release);
        positive.then_some(key)
    }

    #[cold]
    fn small(&self, value: f64, count: u64) {
        if value.is_nan() {
            self.nan.fetch_add(count, Ordering::Release);
        } else {
            self.zero.fetch_add(count, Ordering::Release);
        }
    }

    #[cold]
    fn install_near(&self, near: &AtomicPtr<Chunk>) -> &Chunk {
        let fresh = Chunk::boxed();
        match near.compare_exchange(
            std::ptr::null_mut(),
            fresh,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            // SAFETY: installed; lives as long as `self`.
            Ok(_) => unsafe { &*fresh },
            Err(theirs) => {
                // SAFETY: ours was never shared.
                drop(unsafe { Box::from_raw(fresh) });
                // SAFETY: theirs is installed.
                unsafe { &*theirs }
            }
        }
    }

    /// The chunk `id` of the given sign from the list, added if missing.
    #[cold]
    fn far_chunk(&self, negative: bool, id: i32) -> &Chunk {
        let mut fresh: *mut Far = std::ptr::null_mut();
        loop {
            let head = self.far.load(Ordering::Acquire);
            let mut p = head;
            while !p.is_null() {
                // SAFETY: list nodes live as long as `self`.
                let node = unsafe { &*p };
                if node.negative == negative && node.id == id {
                    if !fresh.is_null() {
                        // SAFETY: ours was never shared.
                        drop(unsafe { Box::from_raw(fresh) });
                    }
                    return &node.counts;
                }
                p = node.next;
            }
            if fresh.is_null() {
                fresh = Box::into_raw(Box::new(Far {
                    negative,
                    id,
                    counts: Chunk(std::array::from_fn(|_| AtomicU64::new(0))),
                    next: std::ptr::null_mut(),
                }));
            }
            // SAFETY: not yet shared; ours to write.
            unsafe { (*fresh).next = head };
            if self
                .far
                .compare_exchange(head, fresh, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                // SAFETY: installed; lives as long as `self`.
                return unsafe { &(*fresh).counts };
            }
            // Someone else pushed: look again (they may have added `id`).
        }
    }

    /// Adds every count of `other` (a cell of the same layout) to this one's.
    pub(crate) fn add_from(&self, other: &NativeCell) {
        self.zero
            .fetch_add(other.zero.load(Ordering::Acquire), Ordering::Release);
        self.nan
            .fetch_add(other.nan.load(Ordering::Acquire), Ordering::Release);
        other.each_chunk(|negative, id, theirs| {
            if theirs.0.iter().all(|c| c.load(Ordering::Relaxed) == 0) {
                return;
            }
            let mine = self.chunk(negative, id);
            for (a, b) in mine.0.iter().zip(theirs.0.iter()) {
                a.fetch_add(b.load(Ordering::Acquire), Ordering::Release);
            }
        });
    }

    /// The chunk `id` of a sign, installed if it is not yet.
    fn chunk(&self, negative: bool, id: i32) -> &Chunk {
        let slot = id.wrapping_sub(self.layout.base) as u32 as usize;
        match self.near.get(slot) {
            Some(near) if !negative => {
                let p = near.load(Ordering::Acquire);
                if p.is_null() {
                    self.install_near(near)
                } else {
                    // SAFETY: a non-null pointer is an installed chunk,
                    // which lives as long as `self`.
                    unsafe { &*p }
                }
            }
            _ => self.far_chunk(negative, id),
        }
    }

    /// Appends the counts as [`add_saved`](Self::add_saved) reads them:
    /// the zero and NaN counts, the number of non-empty chunks, then each
    /// chunk's sign, id and [`CHUNK`] counts.
    pub(crate) fn save(&self, out: &mut Vec<u64>) {
        out.push(self.zero.load(Ordering::Acquire));
        out.push(self.nan.load(Ordering::Acquire));
        let at = out.len();
        out.push(0);
        let mut chunks = 0;
        self.each_chunk(|negative, id, chunk| {
            let counts: [u64; CHUNK] = std::array::from_fn(|i| chunk.0[i].load(Ordering::Acquire));
            if counts.iter().any(|&c| c != 0) {
                chunks += 1;
                out.push(u64::from(negative));
                out.push(i64::from(id) as u64);
                out.extend_from_slice(&counts);
            }
        });
        out[at] = chunks;
    }

    /// Adds counts [`save`](Self::save)d from a cell of the same layout;
    /// `None` (having added a part) when `words` end too soon or name a
    /// chunk no cell of this layout has.
    pub(crate) fn add_saved(&self, words: &mut std::slice::Iter<'_, u64>) -> Option<()> {
        let mut next = || words.next().copied();
        self.zero.fetch_add(next()?, Ordering::Release);
        self.nan.fetch_add(next()?, Ordering::Release);
        let chunks = next()?;
        for _ in 0..chunks {
            let negative = next()? != 0;
            let id = i32::try_from(next()? as i64).ok()?;
            if !Self::chunk_ids(&self.layout).contains(&id) {
                return None;
            }
            let counts: Vec<u64> = (0..CHUNK).map(|_| next()).collect::<Option<_>>()?;
            let mine = self.chunk(negative, id);
            for (a, b) in mine.0.iter().zip(counts) {
                a.fetch_add(b, Ordering::Release);
            }
        }
        Some(())
    }

    /// Heap bytes of the chunks installed now (each counted as a list
    /// node, the larger kind).
    pub(crate) fn heap_bytes(&self) -> usize {
        let mut chunks = 0;
        self.each_chunk(|_, _, _| chunks += 1);
        chunks * Self::CHUNK_BYTES
    }

    /// Zeroes every count (the chunks stay).
    pub(crate) fn reset(&self) {
        self.zero.store(0, Ordering::Relaxed);
        self.nan.store(0, Ordering::Relaxed);
        self.each_chunk(|_, _, chunk| {
            for c in &chunk.0 {
                c.store(0, Ordering::Relaxed);
            }
        });
    }

    fn each_chunk(&self, mut f: impl FnMut(bool, i32, &Chunk)) {
        for (i, near) in self.near.iter().enumerate() {
            let p = near.load(Ordering::Acquire);
            if !p.is_null() {
                // SAFETY: installed chunks live as long as `self`.
                f(false, self.layout.base + i as i32, unsafe { &*p });
            }
        }
        let mut p = self.far.load(Ordering::Acquire);
        while !p.is_null() {
            // SAFETY: list nodes live as long as `self`.
            let node = unsafe { &*p };
            f(node.negative, node.id, &node.counts);
            p = node.next;
        }
    }

    /// The chunk ids either sign can have: from the zero threshold to
    /// infinity.
    fn chunk_ids(layout: &Layout) -> std::ops::RangeInclusive<i32> {
        // The smallest magnitude above the zero bucket, and infinity.
        let above = f64::from_bits(layout.zero_threshold.to_bits() + 1);
        let low = bucket_index(above, layout.schema).div_euclid(CHUNK as i32);
        let high = bucket_index(f64::INFINITY, layout.schema).div_euclid(CHUNK as i32);
        low..=high
    }

    /// The most heap bytes one cell of `layout` can ever hold: every chunk
    /// of both signs, from the zero threshold to infinity.
    pub(crate) fn max_heap_bytes(layout: &Layout) -> usize {
        let (low, high) = Self::chunk_ids(layout).into_inner();
        let per_sign = (high - low + 1) as usize;
        // Positive chunks in the directory are bare; all others are list nodes.
        let near = (layout.base.max(low)..(layout.base + NEAR as i32).min(high + 1)).len();
        near * std::mem::size_of::<Chunk>() + (2 * per_sign - near) * Self::CHUNK_BYTES
    }

    /// The populated buckets at the recording schema, unreduced.
    pub(crate) fn snapshot(&self) -> NativeSnapshot {
        let mut positive = Vec::new();
        let mut negative = Vec::new();
        self.each_chunk(|neg, id, chunk| {
            let out = if neg { &mut negative } else { &mut positive };
            for (i, c) in chunk.0.iter().enumerate() {
                let n = c.load(Ordering::Acquire);
                if n != 0 {
                    out.push((id * CHUNK as i32 + i as i32, n));
                }
            }
        });
        positive.sort_unstable_by_key(|b| b.0);
        negative.sort_unstable_by_key(|b| b.0);
        NativeSnapshot {
            schema: self.layout.schema,
            zero_threshold: self.layout.zero_threshold,
            zero: self.zero.load(Ordering::Acquire),
            nan: self.nan.load(Ordering::Acquire),
            positive,
            negative,
        }
    }

    /// The bucket indices the directory covers: `[first, first + len)`.
    pub(crate) fn near_keys(layout: &Layout) -> (i32, usize) {
        (layout.base * CHUNK as i32, NEAR * CHUNK)
    }

    pub(crate) fn layout(&self) -> &Layout {
        &self.layout
    }
}
