//! The protobuf exposition (`application/vnd.google.protobuf;
//! proto=io.prometheus.client.MetricFamily; encoding=delimited`): what
//! Prometheus scrapes to get native histograms.
//!
//! # Why it looks like this
//!
//! The wire format comes from `prost`'s encoding primitives, written
//! straight into the body: no message structs, no per-series allocation.
//! Each series' labels were encoded as `LabelPair` fields once, when the
//! series was created ([`crate::store::table::Series`]), so a scrape copies
//! them like the text formats copy their label text. A nested message is
//! written in place after a one-byte length, which is widened (the body
//! moved) only when it reaches 128 bytes.
//!
//! What the message types are is in [`super::proto`], which also decodes.
//! Families with no series yet are left out (as client_golang does: a
//! `MetricFamily` without a `Metric` carries nothing Prometheus keeps).

use super::escaping::Escaping;
use super::names::ForeignNames;
use crate::catalog::{FamilySpec, Kind};
use crate::export::exemplars::{SPAN_ID_LABEL, TRACE_ID_LABEL};
use crate::store::cell::{CounterCell, GaugeCell, HistogramCell};
use crate::store::exemplar::Exemplar;
use crate::store::foreign::{Description, ForeignName, Handle, DEFAULT_HELP};
use crate::store::native::NativeSnapshot;
use crate::store::{Families, Source, Store, Tables};
use prost::encoding::{encode_key, encode_varint, encoded_len_varint, WireType};

// Field numbers of metrics.proto.
const FAMILY_NAME: u32 = 1;
const FAMILY_HELP: u32 = 2;
const FAMILY_TYPE: u32 = 3;
const FAMILY_METRIC: u32 = 4;
const FAMILY_UNIT: u32 = 5;
const METRIC_GAUGE: u32 = 2;
const METRIC_COUNTER: u32 = 3;
const METRIC_HISTOGRAM: u32 = 7;
const TYPE_COUNTER: u64 = 0;
const TYPE_GAUGE: u64 = 1;
const TYPE_HISTOGRAM: u64 = 4;

/// Renders every family with at least one series, in the text formats'
/// order (catalog, then foreign names sorted).
pub(crate) fn render(
    store: &Store,
    families: &dyn Families,
    escaping: Escaping,
    out: &mut Vec<u8>,
) {
    families.for_each_family(&mut |spec, tables| match tables {
        Tables::Counter(Some(t)) => counters(out, spec, &t),
        Tables::Gauge(Some(t)) => gauges(out, spec, &t),
        Tables::Histogram(Some(t)) => histograms(out, spec, &t),
        _ => {}
    });
    let mut names = ForeignNames::new(escaping);
    store.foreign.for_each(|name, family, description, claims| {
        if let Some(exposed) = names.family(name, family, claims) {
            let exposed = if exposed.is_empty() { name } else { &exposed };
            foreign(out, exposed, family, description, &names);
        }
    });
}

fn counters(out: &mut Vec<u8>, spec: &FamilySpec, table: &Source<'_, CounterCell>) {
    family(out, spec.name, spec.help, TYPE_COUNTER, unit(spec), |out| {
        table.for_each(|series, cell| {
            metric(out, &series.pairs, |out| {
                counter(out, cell, series.created_ns)
            })
        });
    });
}

fn gauges(out: &mut Vec<u8>, spec: &FamilySpec, table: &Source<'_, GaugeCell>) {
    family(out, spec.name, spec.help, TYPE_GAUGE, unit(spec), |out| {
        table.for_each(|series, cell| metric(out, &series.pairs, |out| gauge(out, cell)));
    });
}

fn histograms(out: &mut Vec<u8>, spec: &FamilySpec, table: &Source<'_, HistogramCell>) {
    family(
        out,
        spec.name,
        spec.help,
        TYPE_HISTOGRAM,
        unit(spec),
        |out| {
            table.for_each(|series, cell| {
                metric(out, &series.pairs, |out| {
                    histogram(out, cell, series.created_ns)
                })
            });
        },
    );
}

/// The unit a catalog name ends with (what OpenMetrics' `# UNIT` says).
fn unit(spec: &FamilySpec) -> Option<&'static str> {
    spec.unit.suffix().filter(|u| {
        spec.name
            .strip_suffix(u)
            .is_some_and(|rest| rest.ends_with('_'))
    })
}

fn foreign(
    out: &mut Vec<u8>,
    name: &str,
    family_: &ForeignName,
    description: Option<&Description>,
    names: &ForeignNames,
) {
    let help = description
        .map(|d| &*d.help)
        .filter(|h| !h.is_empty())
        .unwrap_or(DEFAULT_HELP);
    let unit = description.and_then(|d| match d.unit {
        Some(metrics::Unit::Seconds) => Some("seconds"),
        Some(metrics::Unit::Bytes) => Some("bytes"),
        _ => None,
    });
    let kind = match family_.kind {
        Kind::Counter => TYPE_COUNTER,
        Kind::Gauge => TYPE_GAUGE,
        Kind::Histogram => TYPE_HISTOGRAM,
    };
    // Prometheus names a protobuf counter's samples after the family.
    let name = match family_.kind {
        Kind::Counter if !name.ends_with("_total") => format!("{name}_total"),
        _ => name.to_string(),
    };
    family(out, &name, help, kind, unit, |out| {
        names.each_series(family_, |handle, pairs| match handle {
            Handle::Counter(s) => metric(out, pairs, |out| counter(out, &s.cell, s.created_ns)),
            Handle::Gauge(s) => metric(out, pairs, |out| gauge(out, &s.cell)),
            Handle::Histogram(s) => metric(out, pairs, |out| histogram(out, &s.cell, s.created_ns)),
        });
    });
}

/// One delimited `MetricFamily`; dropped again if `metrics` wrote none.
fn family(
    out: &mut Vec<u8>,
    name: &str,
    help: &str,
    kind: u64,
    unit: Option<&str>,
    metrics: impl FnOnce(&mut Vec<u8>),
) {
    let start = out.len();
    delimited(out, |out| {
        string(out, FAMILY_NAME, name);
        string(out, FAMILY_HELP, help);
        varint(out, FAMILY_TYPE, kind);
        if let Some(unit) = unit {
            string(out, FAMILY_UNIT, unit);
        }
        let before = out.len();
        metrics(out);
        if out.len() == before {
            out.truncate(start);
        }
    });
}

/// One `Metric` field: the pre-encoded labels, then the value message.
#[inline]
fn metric(out: &mut Vec<u8>, pairs: &[u8], value: impl FnOnce(&mut Vec<u8>)) {
    message(out, FAMILY_METRIC, |out| {
        out.extend_from_slice(pairs);
        value(out);
    });
}

#[inline]
fn counter(out: &mut Vec<u8>, cell: &CounterCell, created_ns: u64) {
    message(out, METRIC_COUNTER, |out| {
        double(out, 1, cell.get() as f64);
        if let Some(x) = cell.exemplar() {
            exemplar(out, 2, &x);
        }
        timestamp(out, 3, created_ns);
    });
}

#[inline]
fn gauge(out: &mut Vec<u8>, cell: &GaugeCell) {
    message(out, METRIC_GAUGE, |out| double(out, 1, cell.get()));
}

fn histogram(out: &mut Vec<u8>, cell: &HistogramCell, created_ns: u64) {
    let s = cell.snapshot(true, true);
    let classic = s.cumulative.last().copied().unwrap_or(0);
    message(out, METRIC_HISTOGRAM, |out| {
        let count = s.native.as_ref().map_or(classic, NativeSnapshot::count);
        varint(out, 1, count);
        double(out, 2, s.sum);
        let bounds = cell.bounds();
        for (i, cumulative) in s.cumulative.iter().enumerate() {
            let upper = bounds.get(i).copied().unwrap_or(f64::INFINITY);
            let x = s.exemplars[i];
            // `+Inf` is the count; its bucket is written only to carry an
            // exemplar, as client_golang does.
            if i == bounds.len() && x.is_none() {
                continue;
            }
            message(out, 3, |out| {
                varint(out, 1, *cumulative);
                double(out, 2, upper);
                if let Some(x) = x {
                    exemplar(out, 3, &x);
                }
            });
        }
        if let Some(mut native) = s.native {
            let max = cell.native().map_or(u32::MAX, |n| n.layout().max_buckets);
            native.reduce_to(max);
            sint(out, 5, i64::from(native.schema));
            double(out, 6, native.zero_threshold);
            varint(out, 7, native.zero);
            buckets(out, 9, 10, &native.negative);
            buckets(out, 12, 13, &native.positive);
            if native.positive.is_empty() && native.negative.is_empty() {
                // A span of no buckets: marks the histogram native even
                // before its first observation, as client_golang does.
                message(out, 12, |out| {
                    sint(out, 1, 0);
                    varint(out, 2, 0);
                });
            }
            // The classic buckets' exemplars serve the native histogram
            // too (each the latest of its range), oldest first.
            let mut exemplars: Vec<Exemplar> = s.exemplars.iter().flatten().copied().collect();
            exemplars.sort_by_key(|x| x.timestamp_ms);
            for x in &exemplars {
                exemplar(out, 16, x);
            }
        }
        timestamp(out, 15, created_ns);
    });
}

/// The spans (field `span`) and deltas (field `delta`, packed) of one
/// sign's populated buckets, sorted by index.
fn buckets(out: &mut Vec<u8>, span: u32, delta: u32, buckets: &[(i32, u64)]) {
    if buckets.is_empty() {
        return;
    }
    let mut previous: Option<i32> = None;
    let mut start = 0;
    let mut spans = Vec::new();
    for (i, &(k, _)) in buckets.iter().enumerate() {
        match previous {
            Some(p) if k == p + 1 => {}
            _ => {
                if let Some(p) = previous {
                    spans.push((start, p));
                }
                start = k;
            }
        }
        previous = Some(k);
        let _ = i;
    }
    if let Some(p) = previous {
        spans.push((start, p));
    }
    let mut last_end: Option<i32> = None;
    for &(first, last) in &spans {
        let offset = match last_end {
            None => first,
            Some(end) => first - end - 1,
        };
        message(out, span, |out| {
            sint(out, 1, i64::from(offset));
            varint(out, 2, (last - first + 1) as u64);
        });
        last_end = Some(last);
    }
    message(out, delta, |out| {
        let mut prev = 0i64;
        for &(_, n) in buckets {
            let n = n as i64;
            encode_varint(zigzag(n - prev), out);
            prev = n;
        }
    });
}

fn exemplar(out: &mut Vec<u8>, tag: u32, x: &Exemplar) {
    message(out, tag, |out| {
        let mut id = [0u8; 32];
        label_pair(out, TRACE_ID_LABEL, hex(&mut id, x.context.trace_id, 32));
        label_pair(
            out,
            SPAN_ID_LABEL,
            hex(&mut id, u128::from(x.context.span_id), 16),
        );
        double(out, 2, x.value);
        timestamp(out, 3, x.timestamp_ms.saturating_mul(1_000_000));
    });
}

fn hex(buf: &mut [u8; 32], value: u128, digits: usize) -> &str {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for i in 0..digits {
        buf[digits - 1 - i] = DIGITS[((value >> (4 * i)) & 0xf) as usize];
    }
    std::str::from_utf8(&buf[..digits]).unwrap_or_default()
}

fn label_pair(out: &mut Vec<u8>, name: &str, value: &str) {
    message(out, 1, |out| {
        string(out, 1, name);
        string(out, 2, value);
    });
}

fn timestamp(out: &mut Vec<u8>, tag: u32, ns: u64) {
    message(out, tag, |out| {
        varint(out, 1, ns / 1_000_000_000);
        let nanos = ns % 1_000_000_000;
        if nanos != 0 {
            varint(out, 2, nanos);
        }
    });
}

#[inline]
fn varint(out: &mut Vec<u8>, tag: u32, value: u64) {
    encode_key(tag, WireType::Varint, out);
    encode_varint(value, out);
}

#[inline]
fn sint(out: &mut Vec<u8>, tag: u32, value: i64) {
    encode_key(tag, WireType::Varint, out);
    encode_varint(zigzag(value), out);
}

#[inline]
fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

#[inline]
fn double(out: &mut Vec<u8>, tag: u32, value: f64) {
    encode_key(tag, WireType::SixtyFourBit, out);
    out.extend_from_slice(&value.to_le_bytes());
}

#[inline]
fn string(out: &mut Vec<u8>, tag: u32, value: &str) {
    encode_key(tag, WireType::LengthDelimited, out);
    encode_varint(value.len() as u64, out);
    out.extend_from_slice(value.as_bytes());
}

/// A length-delimited field `tag` whose body `body` writes.
#[inline]
fn message(out: &mut Vec<u8>, tag: u32, body: impl FnOnce(&mut Vec<u8>)) {
    encode_key(tag, WireType::LengthDelimited, out);
    delimited(out, body);
}

/// A varint length, then the body `body` writes: written in place after a
/// one-byte length, moved only if the body turns out 128 bytes or longer.
#[inline]
fn delimited(out: &mut Vec<u8>, body: impl FnOnce(&mut Vec<u8>)) {
    let at = out.len();
    out.push(0);
    body(out);
    if out.len() <= at {
        // The body took back its own length byte (an empty family).
        return;
    }
    let len = out.len() - at - 1;
    if len < 0x80 {
        out[at] = len as u8;
        return;
    }
    let width = encoded_len_varint(len as u64);
    let mut prefix = [0u8; 10];
    let mut cursor = &mut prefix[..];
    encode_varint(len as u64, &mut cursor);
    out.splice(at..=at, prefix[..width].iter().copied());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::encode::proto::{BucketSpan, Histogram};
    use prost::Message as _;

    fn decode_spans(buckets_: &[(i32, u64)]) -> (Vec<BucketSpan>, Vec<i64>) {
        let mut out = Vec::new();
        buckets(&mut out, 12, 13, buckets_);
        let h = Histogram::decode(&out[..]).unwrap();
        (h.positive_span, h.positive_delta)
    }

    #[test]
    fn spans_and_deltas_describe_the_buckets() {
        let (spans, deltas) = decode_spans(&[(-2, 3), (-1, 5), (3, 1), (4, 1), (10, 7)]);
        let spans: Vec<(i32, u32)> = spans
            .iter()
            .map(|s| (s.offset.unwrap(), s.length.unwrap()))
            .collect();
        assert_eq!(spans, [(-2, 2), (3, 2), (5, 1)]);
        assert_eq!(deltas, [3, 2, -4, 0, 6]);
    }

    #[test]
    fn long_bodies_get_wide_lengths() {
        for len in [0usize, 1, 127, 128, 300, 20_000] {
            let mut out = vec![0xAA];
            message(&mut out, 1, |out| out.extend(std::iter::repeat_n(7u8, len)));
            let mut rest = &out[1..];
            let (tag, wire) = prost::encoding::decode_key(&mut rest).unwrap();
            assert_eq!((tag, wire), (1, WireType::LengthDelimited));
            let n = prost::encoding::decode_varint(&mut rest).unwrap();
            assert_eq!(n as usize, len);
            assert_eq!(rest.len(), len);
        }
    }
}
