//! The Prometheus exporter: `metrics-exporter-prometheus` configured from the
//! catalog.
//!
//! What this adds to the underlying exporter:
//! - every catalog histogram is a real Prometheus histogram with the
//!   catalog's buckets (never a summary);
//! - upkeep (draining histogram samples) runs on a timer in every mode, so
//!   memory stays bounded with no scraper attached;
//! - errors are values ([`ExportError`]): bad address, port in use, second
//!   install;
//! - label values are escaped losslessly (see [`PhotonRecorder`]).
//!
//! Serve `/metrics` on a listener:
//!
//! ```no_run
//! use photon_metrics::export::prometheus::PrometheusExporterBuilder;
//! let exporter = PrometheusExporterBuilder::new()
//!     .listen_on("0.0.0.0:8080")?
//!     .global_label("service", "photon-compiler")
//!     .install()?;
//! println!("scrape http://{}/metrics", exporter.local_addr().unwrap());
//! # Ok::<(), photon_metrics::export::ExportError>(())
//! ```
//!
//! Or render into your own HTTP server (any framework: a `String` body with
//! [`CONTENT_TYPE`]):
//!
//! ```
//! use photon_metrics::export::prometheus::{PrometheusExporterBuilder, CONTENT_TYPE};
//! let (recorder, exporter) = PrometheusExporterBuilder::new().without_listener().build_recorder();
//! metrics::with_local_recorder(&recorder, || {
//!     photon_metrics::runtime::set_queue_depth(3);
//! });
//! let body: String = exporter.render();
//! assert!(body.contains("photon_queue_depth 3"));
//! # let _ = CONTENT_TYPE;
//! ```

use super::ExportError;
use crate::catalog::{Kind, CATALOG};
use metrics::{
    Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Label, Metadata, Recorder, SharedString,
    Unit,
};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use std::borrow::Cow;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The listen address from the design: all interfaces, port 8080.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:8080";

/// The `Content-Type` of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// How often histogram samples are drained when nobody scrapes.
pub const DEFAULT_UPKEEP: Duration = Duration::from_secs(5);

static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Applies the catalog's buckets to a `metrics-exporter-prometheus` builder
/// you configure yourself, so photon histograms stay histograms.
pub fn apply_catalog(mut builder: PrometheusBuilder) -> Result<PrometheusBuilder, ExportError> {
    for spec in CATALOG.iter().filter(|s| s.kind == Kind::Histogram) {
        if let Some(buckets) = spec.buckets {
            builder = builder
                .set_buckets_for_metric(Matcher::Full(spec.name.to_string()), buckets)
                .map_err(|e| ExportError::Build(e.to_string()))?;
        }
    }
    Ok(builder)
}

/// Configures and installs the Prometheus exporter.
#[derive(Debug, Clone)]
pub struct PrometheusExporterBuilder {
    listen: Option<SocketAddr>,
    global_labels: Vec<(String, String)>,
    upkeep: Duration,
    default_buckets: Option<Vec<f64>>,
    #[cfg(feature = "push-gateway")]
    push: Option<super::push::PushConfig>,
}

impl Default for PrometheusExporterBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl PrometheusExporterBuilder {
    /// A builder listening on [`DEFAULT_LISTEN`] with upkeep every [`DEFAULT_UPKEEP`].
    pub fn new() -> Self {
        PrometheusExporterBuilder {
            listen: Some(SocketAddr::from(([0, 0, 0, 0], 8080))),
            global_labels: Vec::new(),
            upkeep: DEFAULT_UPKEEP,
            default_buckets: None,
            #[cfg(feature = "push-gateway")]
            push: None,
        }
    }

    /// Buckets for histograms outside the catalog (your own
    /// `metrics::histogram!` calls), which are otherwise exported as
    /// summaries. Catalog families always keep their own buckets.
    ///
    /// # Errors
    /// [`ExportError::Build`] when `buckets` is empty.
    pub fn default_buckets(mut self, buckets: &[f64]) -> Result<Self, ExportError> {
        if buckets.is_empty() {
            return Err(ExportError::Build(
                "default buckets must not be empty".into(),
            ));
        }
        self.default_buckets = Some(buckets.to_vec());
        Ok(self)
    }

    /// Also pushes the exposition to a Pushgateway: every `interval` (if
    /// given) and whenever [`PrometheusExporter::push_now`] is called. The
    /// endpoint is `http://host:port/metrics/job/<job>[/<label>/<value>…]`;
    /// each push replaces that group. See [`super::push`].
    ///
    /// # Errors
    /// [`ExportError::InvalidEndpoint`] for a malformed or non-`http` URL.
    #[cfg(feature = "push-gateway")]
    pub fn push_gateway(
        mut self,
        endpoint: &str,
        interval: Option<Duration>,
    ) -> Result<Self, ExportError> {
        let endpoint = super::push::parse_endpoint(endpoint)?;
        self.push = Some(super::push::PushConfig { endpoint, interval });
        Ok(self)
    }

    /// Serves the exposition on `addr` (any path; scrape `/metrics`). Port 0
    /// picks a free port: read it back with [`PrometheusExporter::local_addr`].
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = Some(addr);
        self
    }

    /// Like [`listen`](Self::listen), parsing `host:port` (names are resolved).
    ///
    /// # Errors
    /// [`ExportError::InvalidAddress`] when `addr` is not `host:port`.
    pub fn listen_on(self, addr: &str) -> Result<Self, ExportError> {
        let invalid = |reason: String| ExportError::InvalidAddress {
            input: addr.to_string(),
            reason,
        };
        let resolved = addr
            .to_socket_addrs()
            .map_err(|e| invalid(e.to_string()))?
            .next()
            .ok_or_else(|| invalid("the name resolved to no address".into()))?;
        Ok(self.listen(resolved))
    }

    /// No listener: render with [`PrometheusExporter::render`] into your own server.
    pub fn without_listener(mut self) -> Self {
        self.listen = None;
        self
    }

    /// Adds a label to every series, e.g. `service` or `instance`. Labels of
    /// a series take precedence over a global label of the same name.
    pub fn global_label(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.global_labels.push((name.into(), value.into()));
        self
    }

    /// How often histogram samples are drained when nobody scrapes.
    pub fn upkeep_interval(mut self, every: Duration) -> Self {
        self.upkeep = every;
        self
    }

    fn validate(&self) -> Result<(), ExportError> {
        for (name, _) in &self.global_labels {
            let mut chars = name.chars();
            let first_ok = chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
            let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !first_ok || !rest_ok || name.starts_with("__") {
                return Err(ExportError::InvalidLabelName(name.clone()));
            }
        }
        Ok(())
    }

    fn underlying(&self) -> PrometheusBuilder {
        let mut builder = PrometheusBuilder::new().upkeep_timeout(self.upkeep);
        if let Some(buckets) = &self.default_buckets {
            builder = builder
                .set_buckets(buckets)
                .expect("checked non-empty by default_buckets");
        }
        for (name, value) in &self.global_labels {
            builder = builder.add_global_label(name, value);
        }
        builder
    }

    /// Builds the recorder without installing it, for composing with other
    /// recorders (fan-out, layers) or for tests with a local recorder.
    /// Upkeep is not started: call [`PrometheusExporter::run_upkeep`]
    /// periodically, or use [`install`](Self::install).
    ///
    /// Global labels with invalid names are skipped here; [`install`](Self::install)
    /// reports them as errors.
    pub fn build_recorder(self) -> (PhotonRecorder, PrometheusExporter) {
        let builder = apply_catalog(self.underlying()).expect("catalog buckets are never empty");
        let inner = builder.build_recorder();
        let handle = inner.handle();
        let recorder = PhotonRecorder::new(inner);
        let exporter = PrometheusExporter {
            handle,
            local_addr: None,
            #[cfg(feature = "push-gateway")]
            push_endpoint: self.push.map(|p| p.endpoint),
        };
        (recorder, exporter)
    }

    /// Builds the exporter, starts its listener (if any) and upkeep on a
    /// background thread, and installs it as the global `metrics` recorder.
    ///
    /// # Errors
    /// An invalid global label name, a listener that cannot bind (port in
    /// use, address not local), a second install, or another global recorder.
    pub fn install(self) -> Result<PrometheusExporter, ExportError> {
        self.validate()?;
        if INSTALLED.swap(true, Ordering::AcqRel) {
            return Err(ExportError::AlreadyInstalled);
        }
        let result = self.install_inner();
        if result.is_err() {
            INSTALLED.store(false, Ordering::Release);
        }
        result
    }

    fn install_inner(self) -> Result<PrometheusExporter, ExportError> {
        #[cfg(feature = "push-gateway")]
        let push = self.push.clone();
        #[cfg_attr(not(feature = "push-gateway"), allow(unused_mut))]
        let mut exporter = self.install_exporter()?;
        #[cfg(feature = "push-gateway")]
        if let Some(push) = push {
            exporter.push_endpoint = Some(push.endpoint.clone());
            super::push::spawn_periodic(exporter.handle.clone(), push)?;
        }
        Ok(exporter)
    }

    fn install_exporter(self) -> Result<PrometheusExporter, ExportError> {
        let upkeep = self.upkeep;
        let Some(requested) = self.listen else {
            let (recorder, exporter) = self.build_recorder();
            metrics::set_global_recorder(recorder).map_err(|_| ExportError::ForeignRecorder)?;
            spawn_upkeep(exporter.handle.clone(), upkeep)?;
            return Ok(exporter);
        };
        let addr = resolve_port(requested)?;
        let builder = apply_catalog(self.underlying().with_http_listener(addr))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name("photon-metrics-exporter")
            .build()
            .map_err(|e| ExportError::Runtime(e.to_string()))?;
        // `build` binds the socket and spawns the upkeep task on `runtime`.
        let (inner, serve) = {
            let _entered = runtime.enter();
            builder.build().map_err(|e| match e {
                metrics_exporter_prometheus::BuildError::FailedToCreateHTTPListener(reason) => {
                    ExportError::Bind { addr, reason }
                }
                other => ExportError::Build(other.to_string()),
            })?
        };
        let handle = inner.handle();
        metrics::set_global_recorder(PhotonRecorder::new(inner))
            .map_err(|_| ExportError::ForeignRecorder)?;
        std::thread::Builder::new()
            .name("photon-metrics-exporter".into())
            .spawn(move || {
                if let Err(e) = runtime.block_on(serve) {
                    tracing::error!(error = ?e, "photon-metrics: the /metrics listener stopped");
                }
            })
            .map_err(|e| ExportError::Runtime(e.to_string()))?;
        Ok(PrometheusExporter {
            handle,
            local_addr: Some(addr),
            #[cfg(feature = "push-gateway")]
            push_endpoint: None,
        })
    }
}

/// Turns port 0 into a concrete free port, and reports a busy port as
/// [`ExportError::Bind`] before anything is built.
///
/// The underlying listener does not report the port it bound, so probe for
/// one here; the probe socket is closed right before the real bind.
fn resolve_port(addr: SocketAddr) -> Result<SocketAddr, ExportError> {
    let probe = TcpListener::bind(addr).map_err(|e| ExportError::Bind {
        addr,
        reason: e.to_string(),
    })?;
    let bound = probe.local_addr().map_err(|e| ExportError::Bind {
        addr,
        reason: e.to_string(),
    })?;
    Ok(bound)
}

fn spawn_upkeep(handle: PrometheusHandle, every: Duration) -> Result<(), ExportError> {
    std::thread::Builder::new()
        .name("photon-metrics-upkeep".into())
        .spawn(move || loop {
            std::thread::sleep(every);
            handle.run_upkeep();
        })
        .map(drop)
        .map_err(|e| ExportError::Runtime(e.to_string()))
}

/// A handle to an installed (or built) exporter.
#[derive(Debug, Clone)]
pub struct PrometheusExporter {
    handle: PrometheusHandle,
    local_addr: Option<SocketAddr>,
    #[cfg(feature = "push-gateway")]
    push_endpoint: Option<String>,
}

impl PrometheusExporter {
    /// The exposition in the Prometheus text format, for your own server.
    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// The address the listener is bound to, if there is one.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }

    /// Drains histogram samples now (done on a timer by [`PrometheusExporterBuilder::install`]).
    pub fn run_upkeep(&self) {
        self.handle.run_upkeep();
    }

    /// Pushes the exposition to the configured Pushgateway now (call it as a
    /// batch job's last step).
    ///
    /// # Errors
    /// [`ExportError::Push`] when the gateway is unreachable or refuses the
    /// push, [`ExportError::InvalidEndpoint`] when no gateway is configured.
    #[cfg(feature = "push-gateway")]
    pub fn push_now(&self) -> Result<(), ExportError> {
        match &self.push_endpoint {
            Some(endpoint) => super::push::push(&self.handle, endpoint),
            None => Err(ExportError::InvalidEndpoint {
                endpoint: String::new(),
                reason: "no Pushgateway configured; call PrometheusExporterBuilder::push_gateway"
                    .into(),
            }),
        }
    }

    /// The underlying `metrics-exporter-prometheus` handle.
    pub fn handle(&self) -> &PrometheusHandle {
        &self.handle
    }
}

/// The installed recorder: `metrics-exporter-prometheus`' recorder with
/// lossless label escaping and bounded histogram memory.
///
/// **Bounded memory.** The underlying recorder keeps every raw histogram
/// sample until upkeep or a scrape drains it into buckets: 16 bytes per
/// observation, so a hot histogram with nobody scraping grew by 315 MiB per
/// 20 million observations between two upkeep ticks. Histogram handles
/// issued here count observations per thread and run upkeep every
/// [`DRAIN_EVERY`] of them, so at most that many raw samples per recording
/// thread are ever buffered, whatever the upkeep interval or scrape rate.
///
/// **Lossless escaping.**
/// metrics-exporter-prometheus 0.18 treats a backslash followed by a
/// backslash or a quote as an escape sequence that is already escaped, so a
/// label value `a\"b` would reach Prometheus as `a"b`. Doubling every
/// backslash before the value reaches it makes its output the exact escape
/// of the original text. Other recorders (yours, a test's) still see the
/// value as recorded; the rewrite happens only here, once per new series.
#[derive(Debug)]
pub struct PhotonRecorder {
    inner: PrometheusRecorder,
    handle: PrometheusHandle,
}

/// Raw samples a recording thread buffers before it triggers upkeep: 128 KiB
/// per thread at most, drained in a few microseconds, about 1 ns amortised
/// per observation.
pub const DRAIN_EVERY: u64 = 8192;

impl PhotonRecorder {
    fn new(inner: PrometheusRecorder) -> Self {
        let handle = inner.handle();
        PhotonRecorder { inner, handle }
    }
}

/// A histogram handle that drains the recorder's buffered samples once its
/// thread has recorded [`DRAIN_EVERY`] observations.
struct Draining {
    inner: Histogram,
    handle: PrometheusHandle,
}

thread_local! {
    /// Observations this thread recorded since it last drained. A plain
    /// thread-local instead of a shared atomic: no contended cache line on
    /// the record path. At most `DRAIN_EVERY` samples per thread wait.
    static UNDRAINED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

impl Draining {
    #[inline]
    fn count(&self, n: u64) {
        let pending = UNDRAINED.with(|u| {
            let pending = u.get() + n;
            u.set(if pending >= DRAIN_EVERY { 0 } else { pending });
            pending
        });
        if pending >= DRAIN_EVERY {
            self.handle.run_upkeep();
        }
    }
}

impl HistogramFn for Draining {
    #[inline]
    fn record(&self, value: f64) {
        self.inner.record(value);
        self.count(1);
    }

    fn record_many(&self, value: f64, count: usize) {
        self.inner.record_many(value, count);
        self.count(count as u64);
    }
}

fn lossless(key: &Key) -> Cow<'_, Key> {
    if !key.labels().any(|l| l.value().contains('\\')) {
        return Cow::Borrowed(key);
    }
    let labels: Vec<Label> = key
        .labels()
        .map(|l| Label::new(l.key().to_string(), l.value().replace('\\', "\\\\")))
        .collect();
    Cow::Owned(Key::from_parts(key.name_shared(), labels))
}

impl Recorder for PhotonRecorder {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_counter(key, unit, description);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_gauge(key, unit, description);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_histogram(key, unit, description);
    }

    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        self.inner.register_counter(&lossless(key), metadata)
    }

    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        self.inner.register_gauge(&lossless(key), metadata)
    }

    fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(std::sync::Arc::new(Draining {
            inner: self.inner.register_histogram(&lossless(key), metadata),
            handle: self.handle.clone(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Undoes the text format's label-value escaping, as Prometheus does.
    fn unescape(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n') => out.push('\n'),
                    Some(other) => out.push(other),
                    None => out.push('\\'),
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn hostile_label_values_round_trip_through_the_exposition() {
        let (recorder, exporter) = PrometheusExporterBuilder::new()
            .without_listener()
            .build_recorder();
        let hostile = [
            "a\\\"b",
            "two\\\\back",
            "trailing\\",
            "quote\"nl\nend",
            "ünï — 字",
        ];
        metrics::with_local_recorder(&recorder, || {
            for v in hostile {
                metrics::counter!("probe_total", "v" => v).increment(1);
            }
        });
        let text = exporter.render();
        let mut seen = Vec::new();
        for line in text.lines().filter(|l| l.starts_with("probe_total{")) {
            let inner = &line["probe_total{v=\"".len()..line.rfind("\"}").unwrap()];
            seen.push(unescape(inner));
        }
        for v in hostile {
            assert!(seen.iter().any(|s| s == v), "{v:?} not in {seen:?}\n{text}");
        }
    }

    #[test]
    fn invalid_global_label_is_an_error() {
        let err = PrometheusExporterBuilder::new()
            .global_label("bad-name", "x")
            .install()
            .unwrap_err();
        assert!(
            matches!(err, ExportError::InvalidLabelName(ref n) if n == "bad-name"),
            "{err}"
        );
    }

    #[test]
    fn unparsable_address_is_an_error() {
        let err = PrometheusExporterBuilder::new()
            .listen_on("not an address")
            .unwrap_err();
        assert!(err.to_string().contains("not an address"), "{err}");
    }
}
