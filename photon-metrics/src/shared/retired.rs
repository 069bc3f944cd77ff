//! Retirements across the service: a value one process retires
//! (`retire()`, not an idle expiry) is retired in every process, and its
//! series leave the exited processes' totals too.
//!
//! The directory's `retired` file is a log every process appends its
//! explicit retirements to (one `write` of one record) and reads on
//! before each publication, so once every live process has published
//! after the log last changed, every one of them has applied it: then the
//! log is emptied, and it never holds more than the retirements of one
//! publication interval or [`LOG_LIMIT`] bytes, whichever is more.
//!
//! A record: the pid (`u32`), then the label's name and the value's text,
//! each a `u16` length and its bytes, little-endian.

use std::fs::{self, OpenOptions};
use std::io::{self, Read as _, Seek as _, SeekFrom, Write as _};
use std::path::Path;

/// Past this size the folding process empties the log once every live
/// process has applied it.
pub(crate) const LOG_LIMIT: u64 = 64 * 1024;

/// One announced retirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Retirement {
    pub(crate) pid: u32,
    pub(crate) label: String,
    pub(crate) value: String,
}

impl Retirement {
    /// Whether a series with this label text (`name="value",…`, escaped)
    /// has the retired value.
    pub(crate) fn matches(&self, text: &str) -> bool {
        // An escaped value holds no `"` unescaped, so a pair found between
        // commas (or the ends) is a whole label pair, never part of a value.
        let mut pair = String::new();
        crate::store::table::push_label(&mut pair, &self.label, &self.value);
        text == pair
            || text.starts_with(&format!("{pair},"))
            || text.ends_with(&format!(",{pair}"))
            || text.contains(&format!(",{pair},"))
    }
}

/// Appends a retirement to the log.
pub(crate) fn announce(dir: &Path, pid: u32, label: &str, value: &str) -> io::Result<()> {
    let mut record = Vec::with_capacity(8 + label.len() + value.len());
    record.extend_from_slice(&pid.to_le_bytes());
    for text in [label, value] {
        let len = u16::try_from(text.len()).map_err(io::Error::other)?;
        record.extend_from_slice(&len.to_le_bytes());
        record.extend_from_slice(text.as_bytes());
    }
    let mut log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("retired"))?;
    // One write: appends of one record never interleave with another's.
    log.write_all(&record)
}

/// The log read from `*offset` on (from the start if it was emptied since);
/// `*offset` moves past what was read whole.
pub(crate) fn read_from(dir: &Path, offset: &mut u64) -> Vec<Retirement> {
    let Ok(mut log) = fs::File::open(dir.join("retired")) else {
        return Vec::new();
    };
    let len = log.metadata().map_or(0, |m| m.len());
    if len < *offset {
        *offset = 0; // Emptied since.
    }
    if len == *offset || log.seek(SeekFrom::Start(*offset)).is_err() {
        return Vec::new();
    }
    let mut buf = Vec::new();
    if log.read_to_end(&mut buf).is_err() {
        return Vec::new();
    }
    let (records, used) = parse(&buf);
    *offset += used as u64;
    records
}

/// The whole records in `buf`, and the bytes they take.
fn parse(buf: &[u8]) -> (Vec<Retirement>, usize) {
    let mut out = Vec::new();
    let mut at = 0;
    loop {
        let mut p = at;
        let Some(pid) = buf.get(p..p + 4) else { break };
        let pid = u32::from_le_bytes(pid.try_into().expect("4 bytes"));
        p += 4;
        let mut texts = Vec::new();
        for _ in 0..2 {
            let Some(len) = buf.get(p..p + 2) else { break };
            let len = usize::from(u16::from_le_bytes(len.try_into().expect("2 bytes")));
            p += 2;
            let Some(text) = buf.get(p..p + len) else {
                break;
            };
            p += len;
            texts.push(String::from_utf8_lossy(text).into_owned());
        }
        let [label, value]: [String; 2] = match texts.try_into() {
            Ok(t) => t,
            Err(_) => break, // A record still being written.
        };
        out.push(Retirement { pid, label, value });
        at = p;
    }
    (out, at)
}

/// The log's length and when it last changed, in nanoseconds since the
/// Unix epoch.
pub(crate) fn state(dir: &Path) -> Option<(u64, u64)> {
    let meta = fs::metadata(dir.join("retired")).ok()?;
    let changed = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    Some((meta.len(), u64::try_from(changed).unwrap_or(u64::MAX)))
}

/// Empties the log.
pub(crate) fn empty(dir: &Path) -> io::Result<()> {
    OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(dir.join("retired"))
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_a_partial_one_waits() {
        let dir = std::env::temp_dir().join(format!("photon-retired-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        announce(&dir, 7, "model_type", "resnet\"50").unwrap();
        announce(&dir, 8, "device_id", "opu-1").unwrap();
        let mut offset = 0;
        let read = read_from(&dir, &mut offset);
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].value, "resnet\"50");
        assert_eq!(read[1].pid, 8);
        assert!(read_from(&dir, &mut offset).is_empty());
        // Half a record: not read, and not skipped.
        let mut log = OpenOptions::new()
            .append(true)
            .open(dir.join("retired"))
            .unwrap();
        log.write_all(&9u32.to_le_bytes()).unwrap();
        assert!(read_from(&dir, &mut offset).is_empty());
        log.write_all(&[1, 0, b'l', 1, 0, b'v']).unwrap();
        assert_eq!(read_from(&dir, &mut offset)[0].value, "v");
        // Emptied: read from the start again.
        empty(&dir).unwrap();
        announce(&dir, 1, "l", "w").unwrap();
        assert_eq!(read_from(&dir, &mut offset)[0].value, "w");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_retirement_matches_whole_label_pairs_only() {
        let r = Retirement {
            pid: 1,
            label: "model_type".into(),
            value: "resnet".into(),
        };
        assert!(r.matches("target=\"a\",model_type=\"resnet\""));
        assert!(r.matches("model_type=\"resnet\",status=\"ok\""));
        assert!(r.matches("model_type=\"resnet\""));
        assert!(!r.matches("model_type=\"resnet50\""));
        assert!(!r.matches("other_model_type=\"resnet\""));
    }
}
