//! A store's series saved as bytes that another process of the same
//! program reads back: how the processes of one service
//! ([`crate::shared`]) see each other's series.
//!
//! # Why it looks like this
//!
//! * Every process of a service runs the same program, so a family's
//!   cells have the same shape everywhere: a cell is saved as the words
//!   its [`Cell::save`] writes (counts, sums, native buckets, exemplars)
//!   and added back with [`Cell::add_saved`], exactly, with nothing
//!   converted through a text or protobuf form.
//! * A series is keyed by its label text, which the process that made it
//!   escaped and joined once: the same labels give the same text in every
//!   process.
//! * A family is named, not numbered: registration order can differ
//!   between processes (an application family registers on first use).
//! * The reader trusts nothing: every length is checked against what is
//!   left, and a file that does not parse is refused whole
//!   ([`Malformed`]).
//!
//! Layout, little-endian `u64` words and length-prefixed byte strings:
//! `MAGIC`, the [`Header`], then per family its name, kind and series
//! count, and per series its text, protobuf label pairs, start time,
//! change time (gauges, for [`Merge::Last`](crate::catalog::Merge::Last))
//! and words.

use super::cell::Cell;
use super::table::Series;
use super::view::{Families, Source, Tables};
use crate::catalog::{FamilySpec, Kind};

/// The first word of every saved store (`PHOTONS2`).
const MAGIC: u64 = u64::from_le_bytes(*b"PHOTONS2");

/// The magic word and the header, in bytes.
pub(crate) const HEADER_BYTES: usize = 7 * 8;

/// Who saved a store, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Header {
    /// The process id.
    pub(crate) pid: u32,
    /// When the process started (its `/proc` start time in clock ticks
    /// since boot, or 0 where there is none): with the pid, who it is.
    pub(crate) started: u64,
    /// The publication this is (see [`crate::shared`]).
    pub(crate) generation: u64,
    /// When it was saved, in nanoseconds since the Unix epoch.
    pub(crate) saved_ns: u64,
    /// The process's parent (pid and start time) when it joined: while it
    /// runs, the service runs, even with none of its workers alive (a
    /// gunicorn master restarting all of them).
    pub(crate) parent_pid: u32,
    pub(crate) parent_started: u64,
}

/// A saved store that does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed;

/// Saves every series of `families` into `out`. `changed` gives a gauge
/// series' change time (0 for every other kind).
pub(crate) fn save(
    families: &dyn Families,
    header: Header,
    changed: &mut dyn FnMut(&'static FamilySpec, &Series, u64) -> u64,
    out: &mut Vec<u8>,
) {
    word(out, MAGIC);
    word(out, u64::from(header.pid));
    word(out, header.started);
    word(out, header.generation);
    word(out, header.saved_ns);
    word(out, u64::from(header.parent_pid));
    word(out, header.parent_started);
    let mut words = Vec::new();
    families.for_each_family(&mut |spec, tables| match tables {
        Tables::Counter(Some(t)) => family(out, spec, &t, &mut words, &mut |_, _, _| 0),
        Tables::Gauge(Some(t)) => family(out, spec, &t, &mut words, changed),
        Tables::Histogram(Some(t)) => family(out, spec, &t, &mut words, &mut |_, _, _| 0),
        _ => {}
    });
}

fn family<C: Cell>(
    out: &mut Vec<u8>,
    spec: &'static FamilySpec,
    source: &Source<'_, C>,
    words: &mut Vec<u64>,
    changed: &mut dyn FnMut(&'static FamilySpec, &Series, u64) -> u64,
) {
    let mut count = 0u64;
    source.for_each(|_, _| count += 1);
    if count == 0 {
        return;
    }
    bytes(out, spec.name.as_bytes());
    word(out, kind_word(spec.kind));
    let at = out.len();
    word(out, 0);
    let mut written = 0u64;
    source.for_each(|series, cell| {
        words.clear();
        cell.save(words);
        bytes(out, series.text.as_bytes());
        bytes(out, &series.pairs);
        word(out, series.created_ns);
        let first = words.first().copied().unwrap_or(0);
        word(out, changed(spec, series, first));
        word(out, words.len() as u64);
        for w in words.iter() {
            word(out, *w);
        }
        written += 1;
    });
    // A series may have come or gone between the two walks.
    out[at..at + 8].copy_from_slice(&written.to_le_bytes());
}

fn kind_word(kind: Kind) -> u64 {
    match kind {
        Kind::Counter => 0,
        Kind::Gauge => 1,
        Kind::Histogram => 2,
    }
}

fn word(out: &mut Vec<u8>, w: u64) {
    out.extend_from_slice(&w.to_le_bytes());
}

fn bytes(out: &mut Vec<u8>, b: &[u8]) {
    word(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// One saved series, as read back.
pub(crate) struct SavedSeries<'a> {
    pub(crate) text: &'a str,
    pub(crate) pairs: &'a [u8],
    pub(crate) created_ns: u64,
    pub(crate) changed_ns: u64,
    pub(crate) words: Vec<u64>,
}

/// Reads a saved store: its header, then `f` for every series with its
/// family's name and kind. Checks the whole file before calling `f` once,
/// so a malformed file adds nothing.
pub(crate) fn read<'a>(
    buf: &'a [u8],
    mut f: impl FnMut(&'a str, Kind, SavedSeries<'a>),
) -> Result<Header, Malformed> {
    let header = walk(buf, &mut |_, _, _| {})?;
    walk(buf, &mut f)?;
    Ok(header)
}

fn walk<'a>(
    buf: &'a [u8],
    f: &mut dyn FnMut(&'a str, Kind, SavedSeries<'a>),
) -> Result<Header, Malformed> {
    let header = header(buf)?;
    let mut r = Reader(&buf[HEADER_BYTES..]);
    while !r.0.is_empty() {
        let name = std::str::from_utf8(r.bytes()?).map_err(|_| Malformed)?;
        let kind = match r.word()? {
            0 => Kind::Counter,
            1 => Kind::Gauge,
            2 => Kind::Histogram,
            _ => return Err(Malformed),
        };
        let count = r.word()?;
        for _ in 0..count {
            let text = std::str::from_utf8(r.bytes()?).map_err(|_| Malformed)?;
            let pairs = r.bytes()?;
            let created_ns = r.word()?;
            let changed_ns = r.word()?;
            let n = usize::try_from(r.word()?).map_err(|_| Malformed)?;
            if n > r.0.len() / 8 {
                return Err(Malformed);
            }
            let words = (0..n).map(|_| r.word()).collect::<Result<_, _>>()?;
            f(
                name,
                kind,
                SavedSeries {
                    text,
                    pairs,
                    created_ns,
                    changed_ns,
                    words,
                },
            );
        }
    }
    Ok(header)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn word(&mut self) -> Result<u64, Malformed> {
        let (w, rest) = self.0.split_first_chunk::<8>().ok_or(Malformed)?;
        self.0 = rest;
        Ok(u64::from_le_bytes(*w))
    }

    fn bytes(&mut self) -> Result<&'a [u8], Malformed> {
        let n = usize::try_from(self.word()?).map_err(|_| Malformed)?;
        if n > self.0.len() {
            return Err(Malformed);
        }
        let (b, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(b)
    }
}

/// The header of a saved store, without reading the rest.
pub(crate) fn header(buf: &[u8]) -> Result<Header, Malformed> {
    let mut r = Reader(buf);
    if r.word()? != MAGIC {
        return Err(Malformed);
    }
    Ok(Header {
        pid: u32::try_from(r.word()?).map_err(|_| Malformed)?,
        started: r.word()?,
        generation: r.word()?,
        saved_ns: r.word()?,
        parent_pid: u32::try_from(r.word()?).map_err(|_| Malformed)?,
        parent_started: r.word()?,
    })
}
