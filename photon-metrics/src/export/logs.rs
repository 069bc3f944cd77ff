//! Logs: one JSON object per line in the schema `monitoring/promtail`
//! parses, or human-readable lines for a terminal.
//!
//! A JSON line has exactly these fields:
//!
//! | field | type | from |
//! |---|---|---|
//! | `timestamp` | string, RFC 3339 (UTC, microseconds) | when the event happened |
//! | `level` | string: `TRACE` … `ERROR` | the event's level |
//! | `logger` | string | the tracing target (usually the module path) |
//! | `message` | string | the event's message |
//! | `model_id` | string, when known | the event's or nearest span's `model_id` field |
//! | `target` | string, when known | the event's or nearest span's `target` field: the **compile target**, not tracing's target |
//! | `trace_id`, `span_id` | 32 / 16 lowercase hex, when inside a sampled span | the OpenTelemetry ids, for log-to-trace links |
//!
//! A line written inside a span that is not sampled (`OTEL_TRACES_SAMPLER=always_off`,
//! a ratio that left it out, an unsampled parent) has no `trace_id` or
//! `span_id`: that span never reaches a collector, and Grafana's link would
//! open a trace that does not exist. Exemplars follow the same rule.
//!
//! Other event fields are written at the top level with their own names
//! (`user_id`, `error`, `duration_ms`, …), as structlog writes them. A field
//! named like one of the keys above (or `fields`) is kept under a `fields`
//! object instead, so no event can overwrite `timestamp`, `level`, `logger`
//! or `message`:
//!
//! ```text
//! {"timestamp":"…","level":"INFO","logger":"app","message":"done","duration_ms":12,"fields":{"level":"user-supplied"}}
//! ```

use serde_json::{Map, Value};
use std::fmt;
use std::io::Write;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// The keys of the schema, which event fields never overwrite.
const RESERVED: &[&str] = &[
    "timestamp",
    "level",
    "logger",
    "message",
    "model_id",
    "target",
    "trace_id",
    "span_id",
    "fields",
];

/// How logs are written, and where: JSON lines go to **stdout** (what a
/// container runtime and promtail collect), human-readable lines to
/// **stderr**, coloured only when stderr is a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogFormat {
    /// One JSON object per line on stdout (for promtail/Loki).
    Json,
    /// Human-readable lines on stderr, with colours only when stderr is a
    /// terminal (never in files or pipes).
    Pretty,
    /// No log output.
    Off,
}

impl LogFormat {
    /// Parses `json`, `pretty` or `off` (the `PHOTON_LOG_FORMAT` values).
    pub fn parse(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "json" => Some(LogFormat::Json),
            "pretty" | "text" => Some(LogFormat::Pretty),
            "off" | "none" => Some(LogFormat::Off),
            _ => None,
        }
    }
}

/// The span fields the JSON lines carry, remembered per span.
#[derive(Debug, Default, Clone)]
struct PhotonFields {
    model_id: Option<String>,
    target: Option<String>,
}

impl Visit for PhotonFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "model_id" => self.model_id = Some(value.to_string()),
            "target" => self.target = Some(value.to_string()),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "model_id" | "target" => self.record_str(field, &format!("{value:?}")),
            _ => {}
        }
    }
}

/// An event's own fields.
#[derive(Default)]
struct EventFields {
    message: Option<String>,
    photon: PhotonFields,
    other: Map<String, Value>,
}

impl Visit for EventFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message = Some(value.to_string()),
            "model_id" | "target" => self.photon.record_str(field, value),
            name => {
                self.other.insert(name.to_string(), Value::from(value));
            }
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.other
            .insert(field.name().to_string(), Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.other
            .insert(field.name().to_string(), Value::from(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.other
            .insert(field.name().to_string(), Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.other
            .insert(field.name().to_string(), Value::from(value));
    }
}

/// The JSON log layer. Build it with [`JsonLayer::new`] and a writer
/// (`std::io::stdout`, a file, a test buffer).
pub struct JsonLayer<W> {
    writer: W,
    /// The dispatch this layer is part of, to ask the OpenTelemetry layer
    /// for span ids (`Span::current()` is unavailable inside a layer).
    #[cfg(feature = "otlp")]
    dispatch: std::sync::OnceLock<tracing::dispatcher::WeakDispatch>,
}

impl<W> JsonLayer<W> {
    /// A layer writing one JSON object per line to `writer`.
    pub fn new(writer: W) -> Self {
        JsonLayer {
            writer,
            #[cfg(feature = "otlp")]
            dispatch: std::sync::OnceLock::new(),
        }
    }
}

impl<S, W> Layer<S> for JsonLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    #[cfg(feature = "otlp")]
    fn on_register_dispatch(&self, dispatch: &tracing::Dispatch) {
        let _ = self.dispatch.set(dispatch.downgrade());
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        // Several JSON layers can share one subscriber (stdout and
        // PHOTON_LOG_FILE, or a user's own next to photon's). The fields
        // are the span's, the same for every layer, so the first stores
        // them for all: a second insert of one type panics in the registry.
        if extensions.get_mut::<PhotonFields>().is_none() {
            let mut fields = PhotonFields::default();
            attrs.record(&mut fields);
            extensions.insert(fields);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        // With several JSON layers each records the same values again:
        // setting a field twice to one value is harmless.
        if let Some(span) = ctx.span(id) {
            if let Some(fields) = span.extensions_mut().get_mut::<PhotonFields>() {
                values.record(fields);
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = EventFields::default();
        event.record(&mut fields);
        // The nearest span that knows model_id / target fills what the event lacks.
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope {
                let extensions = span.extensions();
                if let Some(found) = extensions.get::<PhotonFields>() {
                    if fields.photon.model_id.is_none() {
                        fields.photon.model_id.clone_from(&found.model_id);
                    }
                    if fields.photon.target.is_none() {
                        fields.photon.target.clone_from(&found.target);
                    }
                }
            }
        }

        let mut timestamp = String::new();
        if SystemTime
            .format_time(&mut Writer::new(&mut timestamp))
            .is_err()
        {
            timestamp.clear();
        }
        let metadata = event.metadata();
        let mut line = Map::new();
        line.insert("timestamp".into(), Value::from(timestamp));
        line.insert("level".into(), Value::from(metadata.level().as_str()));
        line.insert("logger".into(), Value::from(metadata.target()));
        line.insert(
            "message".into(),
            Value::from(fields.message.unwrap_or_default()),
        );
        if let Some(model_id) = fields.photon.model_id {
            line.insert("model_id".into(), Value::from(model_id));
        }
        if let Some(target) = fields.photon.target {
            line.insert("target".into(), Value::from(target));
        }
        #[cfg(feature = "otlp")]
        if let Some((trace_id, span_id)) = self.trace_ids(event, &ctx) {
            line.insert("trace_id".into(), Value::from(trace_id));
            line.insert("span_id".into(), Value::from(span_id));
        }
        // Other fields at the top level, as structlog writes them and
        // promtail reads them; one named like a schema key is kept under
        // `fields` instead, so it can never overwrite that key.
        let mut collided = Map::new();
        for (name, value) in fields.other {
            if RESERVED.contains(&name.as_str()) {
                collided.insert(name, value);
            } else {
                line.insert(name, value);
            }
        }
        if !collided.is_empty() {
            line.insert("fields".into(), Value::Object(collided));
        }
        let mut bytes = serde_json::to_vec(&Value::Object(line)).unwrap_or_default();
        bytes.push(b'\n');
        // A log line that cannot be written is lost, never a panic.
        let _ = self.writer.make_writer_for(metadata).write_all(&bytes);
    }
}

#[cfg(feature = "otlp")]
impl<W> JsonLayer<W> {
    /// The OpenTelemetry trace and span ids of the event's span, if it has
    /// one and it is sampled. An unsampled span is never exported, so its
    /// ids would link a log line to a trace no backend has.
    fn trace_ids<S>(&self, event: &Event<'_>, ctx: &Context<'_, S>) -> Option<(String, String)>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        use opentelemetry::trace::TraceContextExt;
        let span = ctx.event_span(event)?;
        let dispatch = self.dispatch.get()?.upgrade()?;
        let cx = tracing_opentelemetry::get_otel_context(&span.id(), &dispatch)?;
        let otel_span = cx.span();
        let sc = otel_span.span_context();
        (sc.is_valid() && sc.is_sampled())
            .then(|| (sc.trace_id().to_string(), sc.span_id().to_string()))
    }
}

/// Two writers fed the same bytes, each on its own: one that fails (stdout
/// closed under a pipe) never costs the other its line. What `init()` uses
/// for JSON on stdout and `PHOTON_LOG_FILE` together, so a line is
/// formatted once and both outputs carry the same bytes.
#[derive(Debug, Clone)]
pub(crate) struct Both<A, B>(pub A, pub B);

impl<'w, A: MakeWriter<'w>, B: MakeWriter<'w>> MakeWriter<'w> for Both<A, B> {
    type Writer = Both<A::Writer, B::Writer>;

    fn make_writer(&'w self) -> Self::Writer {
        Both(self.0.make_writer(), self.1.make_writer())
    }

    fn make_writer_for(&'w self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        Both(self.0.make_writer_for(meta), self.1.make_writer_for(meta))
    }
}

impl<A: Write, B: Write> Write for Both<A, B> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_all(buf).map(|()| buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        let first = self.0.write_all(buf);
        let second = self.1.write_all(buf);
        first.and(second)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let first = self.0.flush();
        let second = self.1.flush();
        first.and(second)
    }
}

/// A daily-rotated file `<dir>/<stem>.<date>.<ext>` for `<dir>/<stem>.<ext>`.
pub(crate) fn rolling_file(
    path: &std::path::Path,
) -> Result<tracing_appender::rolling::RollingFileAppender, tracing_appender::rolling::InitError> {
    use tracing_appender::rolling::{RollingFileAppender, Rotation};
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let stem = path
        .file_stem()
        .map_or("photon".into(), |s| s.to_string_lossy());
    let ext = path
        .extension()
        .map_or("log".into(), |s| s.to_string_lossy());
    // tracing-appender looks for old files to prune before it creates the
    // directory, and prints an error to stderr when there is none yet.
    // Failing here is left to the builder, whose error names the reason.
    let _ = std::fs::create_dir_all(dir);
    RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(stem.as_ref())
        .filename_suffix(ext.as_ref())
        .max_log_files(7)
        .build(dir)
}
