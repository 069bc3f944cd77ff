//! The exposition formats: Prometheus text 0.0.4, OpenMetrics 1.0.0 (with
//! exemplars and `_created`) and the protobuf format (with native
//! histograms), chosen by the scraper's `Accept` header, with the name
//! escaping it asks for (Prometheus 3's `escaping=`; see [`Escaping`]).
//!
//! Rendering is a walk over the store that copies each series' pre-encoded
//! label text (or protobuf label pairs) and formats its numbers; nothing is
//! escaped or allocated per series. Catalog families come first, in catalog
//! order, each with `# HELP`, `# TYPE` and (where the name carries it)
//! `# UNIT` even before its first record; then the facade's other series,
//! sorted by name.
//!
//! ```
//! use photon_metrics::export::encode::{Escaping, Exposition, Format};
//! // What Prometheus 2.x sends: OpenMetrics preferred.
//! let accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;\
//!               version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
//! assert_eq!(Format::negotiate(Some(accept)), Format::OpenMetrics);
//! assert_eq!(Format::negotiate(Some("text/plain")), Format::Text);
//! assert_eq!(Format::negotiate(None), Format::Text);
//! // What Prometheus sends with native histograms on: protobuf first.
//! let accept = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;\
//!               encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,*/*;q=0.1";
//! assert_eq!(Format::negotiate(Some(accept)), Format::Protobuf);
//! // Prometheus 3 with UTF-8 names.
//! let e = Exposition::negotiate(Some("text/plain;version=1.0.0;escaping=allow-utf-8"));
//! assert_eq!(e.escaping, Escaping::AllowUtf8);
//! ```

mod escaping;
mod names;
mod number;
pub mod proto;
mod protobuf;

pub(crate) use number::go_float;

use super::exemplars::{SPAN_ID_LABEL, TRACE_ID_LABEL};
use crate::catalog::{FamilySpec, Kind};
use crate::store::cell::{CounterCell, GaugeCell, HistogramCell};
use crate::store::exemplar::Exemplar;
use crate::store::foreign::{Description, ForeignName, Handle, DEFAULT_HELP};
use crate::store::table::Series;
use crate::store::{escape, Families, Source, Store, Tables};
pub use escaping::Escaping;
use names::ForeignNames;
use std::io::Write as _;

/// An exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// Prometheus text format 0.0.4: what `curl` and most tools read.
    Text,
    /// OpenMetrics 1.0.0: exemplars and `_created`; what Prometheus asks for.
    OpenMetrics,
    /// The protobuf format (`MetricFamily` messages, varint-delimited): the
    /// only one that carries native histograms; what Prometheus asks for
    /// with native histograms on. Binary: see
    /// [`PrometheusExporter::render_bytes`](crate::export::prometheus::PrometheusExporter::render_bytes).
    Protobuf,
}

/// A negotiated exposition: the format and the name escaping, and whether
/// the scraper named an escaping (then the `Content-Type` says which).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Exposition {
    /// The format.
    pub format: Format,
    /// The escaping of names that are not legacy names.
    pub escaping: Escaping,
    /// Whether the request named the escaping.
    pub explicit: bool,
}

impl From<Format> for Exposition {
    fn from(format: Format) -> Self {
        Exposition {
            format,
            escaping: Escaping::Underscores,
            explicit: false,
        }
    }
}

impl Exposition {
    /// The exposition to answer a request with, from its `Accept` header,
    /// as Prometheus' own client does it: the acceptable media range with
    /// the highest `q` wins (the earlier one on a tie); protobuf for
    /// `application/vnd.google.protobuf` with
    /// `proto=io.prometheus.client.MetricFamily` and `encoding=delimited`;
    /// OpenMetrics for `application/openmetrics-text` with version 1.0.0,
    /// 0.0.1 or none; text for `text/plain` (version 0.0.4, 1.0.0 or none),
    /// `text/*` and `*/*`; text when nothing matches or there is no header.
    /// The winning range's `escaping` (if valid) is the escaping.
    pub fn negotiate(accept: Option<&str>) -> Exposition {
        let Some(accept) = accept else {
            return Format::Text.into();
        };
        let mut best: Option<(f32, Exposition)> = None;
        for range in accept.split(',') {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or_default().to_ascii_lowercase();
            let mut q = 1.0f32;
            let mut version = None;
            let mut proto = None;
            let mut encoding = None;
            let mut escaping = None;
            for param in parts {
                let Some((k, v)) = param.split_once('=') else {
                    continue;
                };
                let v = v.trim().trim_matches('"');
                match k.trim().to_ascii_lowercase().as_str() {
                    "q" => q = v.parse().unwrap_or(0.0),
                    "version" => version = Some(v.to_string()),
                    "proto" => proto = Some(v.to_string()),
                    "encoding" => encoding = Some(v.to_string()),
                    "escaping" => escaping = Escaping::parse(v),
                    _ => {}
                }
            }
            let format = match (media.as_str(), version.as_deref()) {
                ("application/vnd.google.protobuf", _)
                    if proto.as_deref() == Some("io.prometheus.client.MetricFamily")
                        && encoding.as_deref() == Some("delimited") =>
                {
                    Format::Protobuf
                }
                ("application/openmetrics-text", None | Some("1.0.0" | "0.0.1")) => {
                    Format::OpenMetrics
                }
                ("text/plain", None | Some("0.0.4" | "1.0.0")) | ("text/*" | "*/*", _) => {
                    Format::Text
                }
                _ => continue,
            };
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                let exposition = Exposition {
                    format,
                    escaping: escaping.unwrap_or_default(),
                    explicit: escaping.is_some(),
                };
                best = Some((q, exposition));
            }
        }
        best.map_or(Format::Text.into(), |(_, e)| e)
    }

    /// The `Content-Type` to answer with: the format's, and the escaping
    /// when the request named one.
    pub fn content_type(&self) -> &'static str {
        macro_rules! with_escaping {
            ($base:literal) => {
                match (self.explicit, self.escaping) {
                    (false, _) => $base,
                    (true, Escaping::AllowUtf8) => concat!($base, "; escaping=allow-utf-8"),
                    (true, Escaping::Underscores) => concat!($base, "; escaping=underscores"),
                    (true, Escaping::Dots) => concat!($base, "; escaping=dots"),
                    (true, Escaping::Values) => concat!($base, "; escaping=values"),
                }
            };
        }
        match self.format {
            Format::Text => with_escaping!("text/plain; version=0.0.4; charset=utf-8"),
            Format::OpenMetrics => {
                with_escaping!("application/openmetrics-text; version=1.0.0; charset=utf-8")
            }
            Format::Protobuf => with_escaping!(
                "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
            ),
        }
    }
}

impl Format {
    /// The `Content-Type` of a response in this format.
    pub const fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Format::Protobuf => "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited",
        }
    }

    /// The format to answer a request with, from its `Accept` header (see
    /// [`Exposition::negotiate`], which also says the escaping).
    pub fn negotiate(accept: Option<&str>) -> Format {
        Exposition::negotiate(accept).format
    }
}

/// Renders the whole store as `exposition` says into a buffer with room
/// for `last_size` (the previous render's length, with an eighth to
/// spare), so it need not grow and copy itself on the way; updates
/// `last_size`.
pub(crate) fn render_sized(
    store: &Store,
    exposition: impl Into<Exposition>,
    last_size: &std::sync::atomic::AtomicUsize,
) -> Vec<u8> {
    use std::sync::atomic::Ordering;
    let hint = last_size.load(Ordering::Relaxed);
    let mut out = Vec::with_capacity(hint + hint / 8);
    render(store, exposition, &mut out);
    last_size.store(out.len(), Ordering::Relaxed);
    out
}

/// Renders the whole store as `exposition` says into `out`.
pub(crate) fn render(store: &Store, exposition: impl Into<Exposition>, out: &mut Vec<u8>) {
    // A fork waits for the render to end (see `shared::fork`).
    let _gate = crate::shared::gate::GATE
        .read()
        .unwrap_or_else(|e| e.into_inner());
    let exposition = exposition.into();
    store.refresh();
    crate::lifecycle::before_render(store);
    // Retired series are shown once more, by this render, then leave.
    let served = crate::store::departures();
    // One process of a service serves the whole service's series.
    let merged = store.service_view();
    let families: &dyn Families = match &merged {
        Some(merged) => merged,
        None => store,
    };
    if exposition.format == Format::Protobuf {
        protobuf::render(store, families, exposition.escaping, out);
        store.forget_departed(served);
        return;
    }
    let mut e = Encoder {
        out,
        om: exposition.format == Format::OpenMetrics,
        legacy: true,
    };
    families.for_each_family(&mut |spec, tables| match tables {
        Tables::Counter(t) => e.counters(spec, t),
        Tables::Gauge(t) => e.gauges(spec, t),
        Tables::Histogram(t) => e.histograms(spec, t),
    });
    let mut foreign_le: Option<Vec<String>> = None;
    let mut names = ForeignNames::new(exposition.escaping);
    store.foreign.for_each(|name, family, description, claims| {
        if let Some(exposed) = names.family(name, family, claims) {
            let exposed = if exposed.is_empty() { name } else { &exposed };
            e.foreign(exposed, family, description, &mut foreign_le);
        }
    });
    if e.om {
        e.out.extend_from_slice(b"# EOF\n");
    }
    store.forget_departed(served);
}

struct Encoder<'a> {
    out: &'a mut Vec<u8>,
    om: bool,
    /// Whether the current family's name is a legacy name (else quoted).
    legacy: bool,
}

impl Encoder<'_> {
    /// `# HELP`, `# TYPE` and `# UNIT` for a family exported as `name`.
    fn header(&mut self, name: &str, kind: Kind, help: Option<&str>, unit: Option<&str>) {
        self.legacy = names::is_legacy(name);
        // OpenMetrics names a counter family without the `_total` of its samples.
        let family = match (self.om, kind) {
            (true, Kind::Counter) => name.strip_suffix("_total").unwrap_or(name),
            _ => name,
        };
        if let Some(help) = help {
            self.out.extend_from_slice(b"# HELP ");
            self.name(family, "");
            self.out.push(b' ');
            escape::help(self.out, help, self.om);
            self.out.push(b'\n');
        }
        self.out.extend_from_slice(b"# TYPE ");
        self.name(family, "");
        self.out.push(b' ');
        self.out.extend_from_slice(kind.as_str().as_bytes());
        self.out.push(b'\n');
        if let Some(unit) =
            unit.filter(|u| family.strip_suffix(u).is_some_and(|r| r.ends_with('_')))
        {
            self.out.extend_from_slice(b"# UNIT ");
            self.name(family, "");
            self.out.push(b' ');
            self.out.extend_from_slice(unit.as_bytes());
            self.out.push(b'\n');
        }
    }

    /// A name (and suffix) in a `#` line: quoted if it is no legacy name.
    fn name(&mut self, name: &str, suffix: &str) {
        if names::is_legacy(name) {
            self.out.extend_from_slice(name.as_bytes());
            self.out.extend_from_slice(suffix.as_bytes());
        } else {
            self.quoted(name, suffix);
        }
    }

    fn quoted(&mut self, name: &str, suffix: &str) {
        let mut text = String::with_capacity(name.len() + suffix.len() + 2);
        text.push('"');
        escape::label_value(&mut text, name);
        text.push_str(suffix);
        text.push('"');
        self.out.extend_from_slice(text.as_bytes());
    }

    /// `name{labels[,extra]} ` — the sample up to its value. A name that is
    /// no legacy name (served to a scraper that allows UTF-8) goes quoted
    /// inside the braces.
    #[inline]
    fn series(&mut self, name: &str, suffix: &str, labels: &str, extra: &str) {
        let legacy = self.legacy;
        if legacy {
            self.out.extend_from_slice(name.as_bytes());
            self.out.extend_from_slice(suffix.as_bytes());
        }
        if !legacy || !labels.is_empty() || !extra.is_empty() {
            self.out.push(b'{');
            let mut first = true;
            if !legacy {
                self.quoted(name, suffix);
                first = false;
            }
            for part in [labels, extra] {
                if part.is_empty() {
                    continue;
                }
                if !first {
                    self.out.push(b',');
                }
                self.out.extend_from_slice(part.as_bytes());
                first = false;
            }
            self.out.push(b'}');
        }
        self.out.push(b' ');
    }

    /// Ends a sample line, with its exemplar in OpenMetrics.
    #[inline]
    fn end(&mut self, exemplar: Option<Exemplar>) {
        if let (true, Some(x)) = (self.om, exemplar) {
            let _ = write!(
                self.out,
                " # {{{TRACE_ID_LABEL}=\"{:032x}\",{SPAN_ID_LABEL}=\"{:016x}\"}} ",
                x.context.trace_id, x.context.span_id
            );
            number::f64(self.out, x.value);
            let _ = write!(
                self.out,
                " {}.{:03}",
                x.timestamp_ms / 1000,
                x.timestamp_ms % 1000
            );
        }
        self.out.push(b'\n');
    }

    /// OpenMetrics' `_created` line: when the series started, in seconds.
    fn created(&mut self, name: &str, labels: &str, created_ns: u64) {
        if !self.om {
            return;
        }
        self.series(name, "_created", labels, "");
        number::u64(self.out, created_ns / 1_000_000_000);
        let nanos = created_ns % 1_000_000_000;
        let mut digits = [b'0'; 10];
        digits[0] = b'.';
        let mut rest = nanos;
        for d in digits[1..].iter_mut().rev() {
            *d = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        self.out.extend_from_slice(&digits);
        self.out.push(b'\n');
    }

    /// A counter whose samples are `name` (`…_total`).
    fn counter(&mut self, name: &str, labels: &str, cell: &CounterCell, created_ns: u64) {
        self.series(name, "", labels, "");
        number::u64(self.out, cell.get());
        let exemplar = if self.om { cell.exemplar() } else { None };
        self.end(exemplar);
        if self.om {
            self.created(
                name.strip_suffix("_total").unwrap_or(name),
                labels,
                created_ns,
            );
        }
    }

    fn gauge(&mut self, name: &str, labels: &str, cell: &GaugeCell) {
        self.series(name, "", labels, "");
        match cell.whole() {
            Some(v) => number::i64(self.out, v),
            None => number::f64(self.out, cell.get()),
        }
        self.out.push(b'\n');
    }

    fn histogram(
        &mut self,
        name: &str,
        labels: &str,
        le: &[String],
        cell: &HistogramCell,
        created_ns: u64,
    ) {
        let s = cell.snapshot(self.om, false);
        for (i, count) in s.cumulative.iter().enumerate() {
            self.series(name, "_bucket", labels, &le[i]);
            number::u64(self.out, *count);
            self.end(s.exemplars[i]);
        }
        self.series(name, "_sum", labels, "");
        number::f64(self.out, s.sum);
        self.out.push(b'\n');
        self.series(name, "_count", labels, "");
        number::u64(self.out, s.cumulative.last().copied().unwrap_or(0));
        self.out.push(b'\n');
        self.created(name, labels, created_ns);
    }

    fn catalog_header(&mut self, spec: &FamilySpec) {
        self.header(spec.name, spec.kind, Some(spec.help), spec.unit.suffix());
    }

    fn counters(&mut self, spec: &FamilySpec, table: Option<Source<'_, CounterCell>>) {
        self.catalog_header(spec);
        if let Some(t) = table {
            t.for_each(|series: &Series, cell| {
                self.counter(spec.name, &series.text, cell, series.created_ns)
            });
        }
    }

    fn gauges(&mut self, spec: &FamilySpec, table: Option<Source<'_, GaugeCell>>) {
        self.catalog_header(spec);
        if let Some(t) = table {
            t.for_each(|series: &Series, cell| self.gauge(spec.name, &series.text, cell));
        }
    }

    fn histograms(&mut self, spec: &FamilySpec, table: Option<Source<'_, HistogramCell>>) {
        self.catalog_header(spec);
        if let Some(t) = table {
            let le = le_labels(spec.buckets.unwrap_or(&[]));
            t.for_each(|series: &Series, cell| {
                self.histogram(spec.name, &series.text, &le, cell, series.created_ns)
            });
        }
    }

    fn foreign(
        &mut self,
        name: &str,
        family: &ForeignName,
        description: Option<&Description>,
        le: &mut Option<Vec<String>>,
    ) {
        let unit = description.and_then(|d| match d.unit {
            Some(metrics::Unit::Seconds) => Some("seconds"),
            Some(metrics::Unit::Bytes) => Some("bytes"),
            _ => None,
        });
        // promtool (and linters like it) reject a family without help text.
        let help = description
            .map(|d| &*d.help)
            .filter(|h| !h.is_empty())
            .unwrap_or(DEFAULT_HELP);
        self.header(name, family.kind, Some(help), unit);
        // OpenMetrics counter samples always end in `_total`.
        let counter_name = if self.om && !name.ends_with("_total") {
            format!("{name}_total")
        } else {
            name.to_string()
        };
        for handle in &family.series {
            match handle {
                Handle::Counter(s) => self.counter(&counter_name, &s.text, &s.cell, s.created_ns),
                Handle::Gauge(s) => self.gauge(name, &s.text, &s.cell),
                Handle::Histogram(s) => {
                    let le = le.get_or_insert_with(|| le_labels(s.cell.bounds()));
                    self.histogram(name, &s.text, le, &s.cell, s.created_ns)
                }
            }
        }
    }
}

/// `le="…"` for each bound and `+Inf`.
fn le_labels(bounds: &[f64]) -> Vec<String> {
    bounds
        .iter()
        .map(|b| format!("le=\"{}\"", go_float(*b)))
        .chain(std::iter::once("le=\"+Inf\"".to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::Format;

    #[test]
    fn negotiation_follows_q_values() {
        let om = Format::OpenMetrics;
        let text = Format::Text;
        let pb = Format::Protobuf;
        for (accept, want) in [
            (
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
                pb,
            ),
            (
                "application/openmetrics-text;version=1.0.0,application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.9",
                om,
            ),
            ("application/vnd.google.protobuf;proto=io.prometheus.client.Other;encoding=delimited", text),
            ("application/vnd.google.protobuf", text),
            ("application/openmetrics-text; version=1.0.0", om),
            ("application/openmetrics-text;version=0.0.1", om),
            ("application/openmetrics-text", om),
            ("application/openmetrics-text;version=2.0.0", text),
            (
                "text/plain;version=0.0.4;q=0.9,application/openmetrics-text;q=0.5",
                text,
            ),
            ("application/openmetrics-text;q=0,text/plain", text),
            ("*/*", text),
            ("application/json", text),
            ("", text),
            (
                "text/plain;q=0.5, application/openmetrics-text;version=1.0.0;q=0.5",
                text,
            ),
        ] {
            assert_eq!(Format::negotiate(Some(accept)), want, "{accept}");
        }
    }
}
