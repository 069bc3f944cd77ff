//! Trace export over OTLP (to Jaeger, or any OpenTelemetry collector).
//!
//! Built on `opentelemetry-otlp` with the SDK's batch span processor, plus
//! what instrumented code needs when the collector misbehaves:
//!
//! - **Never blocking the caller.** Spans go into the batch processor's
//!   bounded queue; a span that would not fit is dropped on the spot and
//!   counted (`photon_otlp_spans_dropped_total{reason="queue_full"}`).
//!   Admission is decided here, from spans handed over but not yet exported,
//!   so the SDK's own queue never overflows silently.
//! - **Failed exports are counted** (`reason="export_failed"`), and a
//!   warning is logged at most once per [`WARN_EVERY`], not per span.
//! - **Exporter clients on threads of their own.** The gRPC client runs on a
//!   dedicated Tokio runtime thread and the HTTP client is the blocking one,
//!   built off any runtime, so installing works the same inside and outside
//!   the application's runtime.

use super::ExportError;
use crate::labels::DropReason;
use opentelemetry::Context;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Span, SpanData, SpanExporter, SpanProcessor,
};
use opentelemetry_sdk::Resource;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Default OTLP/gRPC endpoint (Jaeger's and the collector's gRPC port).
pub const DEFAULT_GRPC_ENDPOINT: &str = "http://localhost:4317";

/// Default OTLP/HTTP traces endpoint.
pub const DEFAULT_HTTP_ENDPOINT: &str = "http://localhost:4318/v1/traces";

/// At most one export-failure warning per this interval.
pub const WARN_EVERY: Duration = Duration::from_secs(60);

/// The OTLP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Protocol {
    /// OTLP over gRPC (port 4317).
    Grpc,
    /// OTLP over HTTP with protobuf bodies (port 4318); feature `otlp-http`.
    HttpProtobuf,
}

impl Protocol {
    /// Parses `OTEL_EXPORTER_OTLP_PROTOCOL` values: `grpc`, `http/protobuf`.
    pub fn parse(value: &str) -> Result<Self, ExportError> {
        match value {
            "grpc" => Ok(Protocol::Grpc),
            "http/protobuf" => Ok(Protocol::HttpProtobuf),
            other => Err(ExportError::UnsupportedOtlpProtocol {
                protocol: other.to_string(),
            }),
        }
    }
}

/// Where and how spans are exported.
#[derive(Debug, Clone)]
pub struct OtlpConfig {
    /// The endpoint URL, scheme included (`http://host:4317`).
    pub endpoint: String,
    /// The transport.
    pub protocol: Protocol,
    /// Spans that may wait for export before new ones are dropped.
    pub max_queue_size: usize,
    /// How long one export may take before it counts as failed.
    pub export_timeout: Duration,
    /// How often queued spans are exported.
    pub scheduled_delay: Duration,
}

impl OtlpConfig {
    /// gRPC to `endpoint`, with the SDK's default batching.
    pub fn grpc(endpoint: impl Into<String>) -> Self {
        OtlpConfig {
            endpoint: endpoint.into(),
            protocol: Protocol::Grpc,
            max_queue_size: 2048,
            export_timeout: Duration::from_secs(10),
            scheduled_delay: Duration::from_secs(5),
        }
    }

    /// HTTP/protobuf to `endpoint` (the full traces URL, `…/v1/traces`).
    pub fn http(endpoint: impl Into<String>) -> Self {
        OtlpConfig {
            protocol: Protocol::HttpProtobuf,
            ..Self::grpc(endpoint)
        }
    }

    /// Checks the endpoint before anything is built. The 0.33 gRPC client
    /// would treat a scheme-less endpoint as https; here it is an error.
    pub(crate) fn validate(&self) -> Result<(), ExportError> {
        let invalid = |reason: &str| ExportError::InvalidOtlpEndpoint {
            endpoint: self.endpoint.clone(),
            reason: reason.to_string(),
        };
        let Some((scheme, rest)) = self.endpoint.split_once("://") else {
            return Err(invalid(
                "missing scheme; write http://host:port (TLS needs https:// and a TLS feature)",
            ));
        };
        match scheme {
            "http" => {}
            "https" => {
                return Err(invalid(
                    "https:// needs TLS, which this build does not include; use http:// to a local collector or sidecar",
                ))
            }
            other => return Err(invalid(&format!("unsupported scheme `{other}`; use http://"))),
        }
        let host = rest.split('/').next().unwrap_or_default();
        if host.is_empty() {
            return Err(invalid("missing host"));
        }
        if self.max_queue_size == 0 {
            return Err(ExportError::InvalidOtlpConfig(
                "max_queue_size must be at least 1".into(),
            ));
        }
        #[cfg(not(feature = "otlp-http"))]
        if self.protocol == Protocol::HttpProtobuf {
            return Err(ExportError::InvalidOtlpConfig(
                "OTLP over HTTP needs the `otlp-http` feature of photon-metrics".into(),
            ));
        }
        Ok(())
    }
}

/// Spans handed to the batch processor and spans that reached the exporter:
/// their difference bounds what the SDK's queue can hold. And the spans
/// lost, by reason, for [`Losses`].
#[derive(Debug, Default)]
struct Counters {
    admitted: AtomicU64,
    received: AtomicU64,
    last_warning: AtomicU64,
    queue_full: AtomicU64,
    export_failed: AtomicU64,
}

/// The spans one pipeline lost since it was built: what
/// `TelemetryGuard::shutdown` reports. The same spans are counted in
/// `photon_otlp_spans_dropped_total`, which sums every pipeline's.
#[derive(Debug, Clone)]
pub(crate) struct Losses(Arc<Counters>);

impl Losses {
    /// `Err(ExportError::SpansDropped)` when any span was lost.
    pub(crate) fn check(&self) -> Result<(), ExportError> {
        let queue_full = self.0.queue_full.load(Ordering::Relaxed);
        let export_failed = self.0.export_failed.load(Ordering::Relaxed);
        match queue_full + export_failed {
            0 => Ok(()),
            dropped => Err(ExportError::SpansDropped {
                dropped,
                queue_full,
                export_failed,
            }),
        }
    }
}

/// The batch processor behind an admission check that drops (and counts)
/// instead of letting the SDK's queue overflow silently.
#[derive(Debug)]
pub(crate) struct AdmittingProcessor {
    inner: BatchSpanProcessor,
    counters: Arc<Counters>,
    limit: u64,
}

impl SpanProcessor for AdmittingProcessor {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        let in_flight = self
            .counters
            .admitted
            .load(Ordering::Relaxed)
            .saturating_sub(self.counters.received.load(Ordering::Relaxed));
        if in_flight >= self.limit {
            self.counters.queue_full.fetch_add(1, Ordering::Relaxed);
            crate::selfmon::record_spans_dropped(DropReason::QueueFull, 1);
            warn_rate_limited(
                &self.counters,
                "the OTLP export queue is full; spans are being dropped",
            );
            return;
        }
        self.counters.admitted.fetch_add(1, Ordering::Relaxed);
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// The OTLP exporter, counting what it receives and what fails.
#[derive(Debug)]
struct CountingExporter<E> {
    inner: E,
    counters: Arc<Counters>,
}

impl<E: SpanExporter> SpanExporter for CountingExporter<E> {
    fn export(
        &self,
        mut batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let n = batch.len() as u64;
        for span in &mut batch {
            rename_event_target(span);
        }
        self.counters.received.fetch_add(n, Ordering::Relaxed);
        let counters = self.counters.clone();
        let export = self.inner.export(batch);
        async move {
            let result = export.await;
            if let Err(e) = &result {
                counters.export_failed.fetch_add(n, Ordering::Relaxed);
                crate::selfmon::record_spans_dropped(DropReason::ExportFailed, n);
                warn_rate_limited(&counters, &format!("OTLP export of {n} spans failed: {e}"));
            }
            result
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// tracing-opentelemetry gives every span event a `target` attribute
/// holding tracing's target (the module path, unless the event names
/// another), with no switch to turn it off; on a compile span, `target` is
/// the compile target. Renamed `logger`, as the JSON log lines call it,
/// `target` means the compile target in every receiver.
fn rename_event_target(span: &mut SpanData) {
    for event in span.events.events.iter_mut() {
        for attribute in event.attributes.iter_mut() {
            if attribute.key.as_str() == "target" {
                attribute.key = opentelemetry::Key::from_static_str("logger");
            }
        }
    }
}

fn warn_rate_limited(counters: &Counters, message: &str) {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let now = EPOCH.get_or_init(Instant::now).elapsed().as_secs() + 1;
    let last = counters.last_warning.load(Ordering::Relaxed);
    if (last == 0 || now >= last + WARN_EVERY.as_secs())
        && counters
            .last_warning
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        crate::warning::warn(|| {
            tracing::warn!(
                target: "photon_metrics::otlp",
                "{message} (counted in photon_otlp_spans_dropped_total; next warning in {}s at the earliest)",
                WARN_EVERY.as_secs()
            );
        });
    }
}

/// The span processor and what keeps its client alive.
pub(crate) struct Pipeline {
    pub processor: AdmittingProcessor,
    /// The runtime thread driving the gRPC client; stopped on drop.
    pub runtime: Option<RuntimeThread>,
    /// What it lost.
    pub losses: Losses,
}

/// A Tokio runtime on a thread of its own, running until dropped.
pub(crate) struct RuntimeThread {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for RuntimeThread {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The tracing layer and the tracer provider that export spans as `config`
/// says, sampled by `sampler`, with the service's resource attributes.
#[allow(clippy::type_complexity)]
pub(crate) fn tracer(
    config: &OtlpConfig,
    sampler: opentelemetry_sdk::trace::Sampler,
    service_name: &str,
    service_version: &str,
) -> Result<
    (
        Box<dyn tracing_subscriber::Layer<tracing_subscriber::Registry> + Send + Sync + 'static>,
        opentelemetry_sdk::trace::SdkTracerProvider,
        Option<RuntimeThread>,
        Losses,
    ),
    ExportError,
> {
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry::KeyValue;
    let pipeline = pipeline(config)?;
    let losses = pipeline.losses.clone();
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(service_name.to_string())
        .with_attribute(KeyValue::new(
            "service.version",
            service_version.to_string(),
        ))
        .build();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_span_processor(pipeline.processor)
        .with_sampler(sampler)
        .with_resource(resource)
        .build();
    let tracer = provider.tracer("photon-metrics");
    // `with_target(false)`: tracing's target would be a second `target`
    // attribute beside the compile target; `code.module.name` keeps it.
    let layer = Box::new(
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_target(false),
    );
    Ok((layer, provider, pipeline.runtime, losses))
}

/// Builds the exporter and the batch processor for `config`.
pub(crate) fn pipeline(config: &OtlpConfig) -> Result<Pipeline, ExportError> {
    config.validate()?;
    let counters = Arc::new(Counters::default());
    let batch = BatchConfigBuilder::default()
        .with_max_queue_size(config.max_queue_size)
        .with_scheduled_delay(config.scheduled_delay)
        .build();
    let build_error = |e: &dyn std::fmt::Display| ExportError::OtlpExporter {
        endpoint: config.endpoint.clone(),
        source: e.to_string().into(),
    };
    let (processor, runtime) = match config.protocol {
        Protocol::Grpc => {
            let (exporter, runtime) = grpc_exporter(config).map_err(|e| build_error(&e))?;
            let exporter = CountingExporter {
                inner: exporter,
                counters: counters.clone(),
            };
            (
                BatchSpanProcessor::builder(exporter)
                    .with_batch_config(batch)
                    .build(),
                Some(runtime),
            )
        }
        #[cfg(feature = "otlp-http")]
        Protocol::HttpProtobuf => {
            let exporter = http_exporter(config)?;
            let exporter = CountingExporter {
                inner: exporter,
                counters: counters.clone(),
            };
            (
                BatchSpanProcessor::builder(exporter)
                    .with_batch_config(batch)
                    .build(),
                None,
            )
        }
        #[cfg(not(feature = "otlp-http"))]
        Protocol::HttpProtobuf => unreachable!("rejected by validate()"),
    };
    Ok(Pipeline {
        processor: AdmittingProcessor {
            inner: processor,
            counters: counters.clone(),
            limit: config.max_queue_size as u64,
        },
        runtime,
        losses: Losses(counters),
    })
}

/// The tonic client must be created, and must run, inside a Tokio runtime:
/// give it one of its own, on its own thread.
fn grpc_exporter(
    config: &OtlpConfig,
) -> Result<(opentelemetry_otlp::SpanExporter, RuntimeThread), String> {
    use opentelemetry_otlp::WithExportConfig;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name("photon-otlp")
        .build()
        .map_err(|e| e.to_string())?;
    let exporter = {
        let _entered = runtime.enter();
        opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(config.endpoint.clone())
            .with_timeout(config.export_timeout)
            .build()
            .map_err(|e| e.to_string())?
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("photon-otlp".into())
        .spawn(move || {
            let _ = runtime.block_on(stopped);
        })
        .map_err(|e| e.to_string())?;
    Ok((
        exporter,
        RuntimeThread {
            stop: Some(stop),
            thread: Some(thread),
        },
    ))
}

/// The blocking HTTP client creates a runtime of its own, which panics
/// inside another runtime: build it on a fresh thread.
#[cfg(feature = "otlp-http")]
fn http_exporter(config: &OtlpConfig) -> Result<opentelemetry_otlp::SpanExporter, ExportError> {
    use opentelemetry_otlp::WithExportConfig;
    let endpoint = config.endpoint.clone();
    let timeout = config.export_timeout;
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("photon-otlp-build".into())
            .spawn_scoped(s, move || {
                opentelemetry_otlp::SpanExporter::builder()
                    .with_http()
                    .with_endpoint(endpoint)
                    .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                    .with_timeout(timeout)
                    .build()
                    .map_err(|e| e.to_string())
            })
            .map_err(|e| e.to_string())?
            .join()
            .map_err(|_| "the exporter build thread panicked".to_string())?
    })
    .map_err(|reason| ExportError::OtlpExporter {
        endpoint: config.endpoint.clone(),
        source: reason.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_checked_before_anything_is_built() {
        for (endpoint, needle) in [
            ("localhost:4317", "missing scheme"),
            ("https://collector:4317", "needs TLS"),
            ("ftp://collector", "unsupported scheme"),
            ("http://", "missing host"),
        ] {
            let err = OtlpConfig::grpc(endpoint)
                .validate()
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(needle) && err.contains(endpoint),
                "{endpoint}: {err}"
            );
        }
        assert!(OtlpConfig::grpc("http://127.0.0.1:4317").validate().is_ok());
        assert!(Protocol::parse("http/json").is_err());
    }
}
