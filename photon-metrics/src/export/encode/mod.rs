//! The exposition formats: Prometheus text 0.0.4 and OpenMetrics 1.0.0
//! (with exemplars), chosen by the scraper's `Accept` header.
//!
//! Rendering is a walk over the store that copies each series' pre-encoded
//! label text and formats its numbers; nothing is escaped or allocated per
//! series. Catalog families come first, in catalog order, each with
//! `# HELP`, `# TYPE` and (where the name carries it) `# UNIT` even before
//! its first record; then the facade's other series, sorted by name.
//!
//! ```
//! use photon_metrics::export::encode::Format;
//! // What Prometheus 2.x sends: OpenMetrics preferred.
//! let accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;\
//!               version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
//! assert_eq!(Format::negotiate(Some(accept)), Format::OpenMetrics);
//! assert_eq!(Format::negotiate(Some("text/plain")), Format::Text);
//! assert_eq!(Format::negotiate(None), Format::Text);
//! ```

mod number;

pub(crate) use number::go_float;

use super::exemplars::{SPAN_ID_LABEL, TRACE_ID_LABEL};
use crate::catalog::{FamilySpec, Kind};
use crate::store::cell::{CounterCell, GaugeCell, HistogramCell};
use crate::store::exemplar::Exemplar;
use crate::store::foreign::{Description, Family as ForeignFamily, Handle, DEFAULT_HELP};
use crate::store::table::Table;
use crate::store::{escape, Store, Tables};
use std::io::Write as _;

/// An exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Prometheus text format 0.0.4: what `curl` and most tools read.
    Text,
    /// OpenMetrics 1.0.0: what Prometheus asks for; carries exemplars.
    OpenMetrics,
}

impl Format {
    /// The `Content-Type` of a response in this format.
    pub const fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }

    /// The format to answer a request with, from its `Accept` header, as
    /// Prometheus' own client does it: the acceptable media range with the
    /// highest `q` wins (the earlier one on a tie); OpenMetrics is chosen
    /// for `application/openmetrics-text` with version 1.0.0, 0.0.1 or none;
    /// text for `text/plain` (version 0.0.4 or none), `text/*` and `*/*`;
    /// text when nothing matches or there is no header.
    pub fn negotiate(accept: Option<&str>) -> Format {
        let Some(accept) = accept else {
            return Format::Text;
        };
        let mut best: Option<(f32, Format)> = None;
        for range in accept.split(',') {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or_default().to_ascii_lowercase();
            let mut q = 1.0f32;
            let mut version = None;
            for param in parts {
                let Some((k, v)) = param.split_once('=') else {
                    continue;
                };
                match k.trim().to_ascii_lowercase().as_str() {
                    "q" => q = v.trim().parse().unwrap_or(0.0),
                    "version" => version = Some(v.trim().trim_matches('"').to_string()),
                    _ => {}
                }
            }
            let format = match (media.as_str(), version.as_deref()) {
                ("application/openmetrics-text", None | Some("1.0.0" | "0.0.1")) => {
                    Format::OpenMetrics
                }
                ("text/plain", None | Some("0.0.4")) | ("text/*" | "*/*", _) => Format::Text,
                _ => continue,
            };
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, format));
            }
        }
        best.map_or(Format::Text, |(_, f)| f)
    }
}

/// Renders the whole store in `format` into `out`.
pub(crate) fn render(store: &Store, format: Format, out: &mut Vec<u8>) {
    store.refresh();
    crate::lifecycle::before_render(store);
    let mut e = Encoder {
        out,
        om: format == Format::OpenMetrics,
    };
    store.for_each_family(|spec, tables| match tables {
        Tables::Counter(t) => e.counters(spec, t),
        Tables::Gauge(t) => e.gauges(spec, t),
        Tables::Histogram(t) => e.histograms(spec, t),
    });
    let mut foreign_le: Option<Vec<String>> = None;
    store.foreign.for_each(|name, family, description| {
        e.foreign(name, family, description, &mut foreign_le)
    });
    if e.om {
        e.out.extend_from_slice(b"# EOF\n");
    }
}

struct Encoder<'a> {
    out: &'a mut Vec<u8>,
    om: bool,
}

impl Encoder<'_> {
    /// `# HELP`, `# TYPE` and `# UNIT` for a family exported as `name`.
    fn header(&mut self, name: &str, kind: Kind, help: Option<&str>, unit: Option<&str>) {
        // OpenMetrics names a counter family without the `_total` of its samples.
        let family = match (self.om, kind) {
            (true, Kind::Counter) => name.strip_suffix("_total").unwrap_or(name),
            _ => name,
        };
        if let Some(help) = help {
            self.line3(b"# HELP ", family, b" ");
            escape::help(self.out, help, self.om);
            self.out.push(b'\n');
        }
        self.line3(b"# TYPE ", family, b" ");
        self.out.extend_from_slice(kind.as_str().as_bytes());
        self.out.push(b'\n');
        if let Some(unit) =
            unit.filter(|u| family.strip_suffix(u).is_some_and(|r| r.ends_with('_')))
        {
            self.line3(b"# UNIT ", family, b" ");
            self.out.extend_from_slice(unit.as_bytes());
            self.out.push(b'\n');
        }
    }

    fn line3(&mut self, a: &[u8], b: &str, c: &[u8]) {
        self.out.extend_from_slice(a);
        self.out.extend_from_slice(b.as_bytes());
        self.out.extend_from_slice(c);
    }

    /// `name{labels[,extra]} ` — the sample up to its value.
    #[inline]
    fn series(&mut self, name: &str, suffix: &str, labels: &str, extra: &str) {
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(suffix.as_bytes());
        if !labels.is_empty() || !extra.is_empty() {
            self.out.push(b'{');
            self.out.extend_from_slice(labels.as_bytes());
            if !labels.is_empty() && !extra.is_empty() {
                self.out.push(b',');
            }
            self.out.extend_from_slice(extra.as_bytes());
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

    fn counter(&mut self, name: &str, labels: &str, cell: &CounterCell) {
        self.series(name, "", labels, "");
        number::u64(self.out, cell.get());
        let exemplar = if self.om { cell.exemplar() } else { None };
        self.end(exemplar);
    }

    fn gauge(&mut self, name: &str, labels: &str, cell: &GaugeCell) {
        self.series(name, "", labels, "");
        number::f64(self.out, cell.get());
        self.out.push(b'\n');
    }

    fn histogram(&mut self, name: &str, labels: &str, le: &[String], cell: &HistogramCell) {
        let s = cell.snapshot(self.om);
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
    }

    fn catalog_header(&mut self, spec: &FamilySpec) {
        self.header(spec.name, spec.kind, Some(spec.help), spec.unit.suffix());
    }

    fn counters(&mut self, spec: &FamilySpec, table: Option<&Table<CounterCell>>) {
        self.catalog_header(spec);
        if let Some(t) = table {
            t.for_each(|labels, cell| self.counter(spec.name, labels, cell));
        }
    }

    fn gauges(&mut self, spec: &FamilySpec, table: Option<&Table<GaugeCell>>) {
        self.catalog_header(spec);
        if let Some(t) = table {
            t.for_each(|labels, cell| self.gauge(spec.name, labels, cell));
        }
    }

    fn histograms(&mut self, spec: &FamilySpec, table: Option<&Table<HistogramCell>>) {
        self.catalog_header(spec);
        if let Some(t) = table {
            let le = le_labels(spec.buckets.unwrap_or(&[]));
            t.for_each(|labels, cell| self.histogram(spec.name, labels, &le, cell));
        }
    }

    fn foreign(
        &mut self,
        name: &str,
        family: &ForeignFamily,
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
                Handle::Counter(s) => self.counter(&counter_name, &s.text, &s.cell),
                Handle::Gauge(s) => self.gauge(name, &s.text, &s.cell),
                Handle::Histogram(s) => {
                    let le = le.get_or_insert_with(|| le_labels(s.cell.bounds()));
                    self.histogram(name, &s.text, le, &s.cell)
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
        for (accept, want) in [
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
