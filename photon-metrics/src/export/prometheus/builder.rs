//! The only way to configure the exporter.

use super::{PhotonRecorder, PrometheusExporter};
use crate::export::listener::{self, ListenerConfig};
use crate::export::ExportError;
use crate::shared::{Joining, Serve, SharedConfig, DEFAULT_INTERVAL, SHARED_DIR_ENV};
use crate::store::foreign::Limits;
use crate::store::{global, Store, StoreConfig, DEFAULT_BUCKETS};
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Configures and installs the Prometheus exporter.
///
/// | setting | default |
/// |---|---|
/// | [`listen`](Self::listen) | `0.0.0.0:8080` ([`DEFAULT_LISTEN`](super::DEFAULT_LISTEN)) |
/// | [`metrics_path`](Self::metrics_path) | `/metrics` |
/// | [`max_connections`](Self::max_connections) | 512 |
/// | [`max_connections_per_peer`](Self::max_connections_per_peer) | 8 |
/// | [`header_read_timeout`](Self::header_read_timeout) | 10 s |
/// | [`connection_rate_per_peer`](Self::connection_rate_per_peer) | 100 new connections a second after a burst of 300 |
/// | [`write_timeout`](Self::write_timeout) | 10 s without progress |
/// | [`allow`](Self::allow) | every address |
/// | [`gzip`](Self::gzip) | on, when the client sends `Accept-Encoding: gzip` |
/// | [`default_buckets`](Self::default_buckets) | 0.005 … 10 (the client libraries' defaults) |
/// | [`process_metrics`](Self::process_metrics) | on: `process_*`, process memory and cgroup limit sampled at each render |
/// | [`foreign_series_cap`](Self::foreign_series_cap) | 10,000 series recorded through the facade outside the catalog |
/// | [`foreign_family_series_cap`](Self::foreign_family_series_cap) | 1,000 series per such family |
/// | [`foreign_idle_expiry`](Self::foreign_idle_expiry) | none: such series stay until the process ends |
/// | [`shared_dir`](Self::shared_dir) | `$PHOTON_METRICS_SHARED_DIR` if set, else none: one process, one `/metrics` |
/// | [`shared_interval`](Self::shared_interval) | 1 s ([`DEFAULT_INTERVAL`](crate::shared::DEFAULT_INTERVAL)) |
#[derive(Debug, Clone)]
pub struct PrometheusExporterBuilder {
    listen: Option<SocketAddr>,
    global_labels: Vec<(String, String)>,
    default_buckets: Vec<f64>,
    process_metrics: bool,
    foreign_limits: Limits,
    foreign_idle_expiry: Option<Duration>,
    listener: ListenerConfig,
    shared: Option<PathBuf>,
    shared_interval: Duration,
    #[cfg(feature = "push-gateway")]
    push: Option<crate::export::push::PushConfig>,
}

impl Default for PrometheusExporterBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl PrometheusExporterBuilder {
    /// A builder with the defaults in the table above.
    pub fn new() -> Self {
        PrometheusExporterBuilder {
            listen: Some(SocketAddr::from(([0, 0, 0, 0], 8080))),
            global_labels: Vec::new(),
            default_buckets: DEFAULT_BUCKETS.to_vec(),
            process_metrics: true,
            foreign_limits: Limits::default(),
            foreign_idle_expiry: None,
            listener: ListenerConfig {
                path: "/metrics".into(),
                max_connections: 512,
                max_connections_per_peer: None,
                connection_rate: listener::DEFAULT_CONNECTION_RATE,
                header_read_timeout: Duration::from_secs(10),
                write_timeout: Duration::from_secs(10),
                allow: Vec::new(),
                gzip: true,
                #[cfg(feature = "web-config")]
                web: None,
            },
            shared: std::env::var_os(SHARED_DIR_ENV)
                .filter(|dir| !dir.is_empty())
                .map(PathBuf::from),
            shared_interval: DEFAULT_INTERVAL,
            #[cfg(feature = "push-gateway")]
            push: None,
        }
    }

    /// Makes this process one of a service's: every process that names
    /// the same directory records into its own store, exactly one of them
    /// listens (whichever takes the directory's listener lock first; the
    /// others take over if it dies), and every render serves the whole
    /// service. See [`shared`](crate::shared) for what is merged how, and
    /// what a fork, an exit or a kill does. The default is the
    /// `PHOTON_METRICS_SHARED_DIR` environment variable, so a launcher can
    /// set it for workers in any language.
    ///
    /// The directory is created (private to the user) if missing; a file
    /// system local to the host (tmpfs such as `/dev/shm` or `/run` is
    /// best: the processes write to it every [`shared_interval`](Self::shared_interval)).
    pub fn shared_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.shared = Some(dir.into());
        self
    }

    /// How often a process of a service publishes its store when no scrape
    /// asks sooner (a scrape always asks): the most a process killed
    /// outright loses. Default 1 s.
    pub fn shared_interval(mut self, interval: Duration) -> Self {
        self.shared_interval = interval.max(Duration::from_millis(10));
        self
    }

    /// Whether each render (scrape, [`render`](PrometheusExporter::render),
    /// push) first samples the process: the standard `process_*` families,
    /// `photon_memory_usage_bytes{target="process"}` (resident now and peak)
    /// and `photon_memory_limit_bytes` from the cgroup, so memory alerts work
    /// without application code. See [`process`](crate::process). On by
    /// default; a sample costs a few reads under `/proc`.
    pub fn process_metrics(mut self, enabled: bool) -> Self {
        self.process_metrics = enabled;
        self
    }

    /// The most series that `metrics::counter!`/`gauge!`/`histogram!` calls
    /// outside the catalog (third-party code) may create in all, each
    /// family's `__overflow__` series included (default 10,000, at least 2).
    /// Past it, new series of an existing family record into its
    /// `__overflow__` series and records of new names are dropped, with one
    /// warning. See the module docs for the memory this bounds.
    pub fn foreign_series_cap(mut self, series: usize) -> Self {
        self.foreign_limits.series = series.max(2);
        self
    }

    /// The most series one family recorded through the facade outside the
    /// catalog may have besides its `__overflow__` series (default 1,000).
    /// Each new label set past it records into the family's series whose
    /// every label is `__overflow__`, so the family's totals stay exact.
    pub fn foreign_family_series_cap(mut self, series: usize) -> Self {
        self.foreign_limits.per_family = series;
        self
    }

    /// Removes a series recorded through the facade outside the catalog
    /// once it went unrecorded for `expiry`: the first render (scrape,
    /// [`render`](PrometheusExporter::render), push) after that no longer
    /// has it, and its room counts back against
    /// [`foreign_series_cap`](Self::foreign_series_cap) and
    /// [`foreign_family_series_cap`](Self::foreign_family_series_cap), so
    /// label churn does not fill them (a family left without series goes
    /// too). The check runs at each render, so precision is the expiry
    /// plus one scrape interval; a render costs one look at each foreign
    /// series more.
    ///
    /// A `counter!`, `gauge!` or `histogram!` call of the same key later
    /// makes a new series, from 0 (Prometheus' `rate()` reads a counter's
    /// drop as a reset). A `metrics::Counter` (or gauge, histogram) handle
    /// kept from before the removal records into the removed series, which
    /// is never rendered again: code that holds handles across silences
    /// longer than the expiry should register again (`counter!` does,
    /// cheaply) rather than keep them.
    ///
    /// Off by default: a third-party series that goes silent may be news
    /// (an alert on it should not resolve by itself), and the `metrics`
    /// facade has no call to remove a series, so its removal has to be
    /// asked for explicitly. `None` turns it off again.
    pub fn foreign_idle_expiry(mut self, expiry: impl Into<Option<Duration>>) -> Self {
        self.foreign_idle_expiry = expiry.into();
        self
    }

    /// The most memory the series recorded through the facade outside the
    /// catalog can take with this builder's caps and buckets, in bytes
    /// (global labels add their text to each series); see the module docs.
    pub fn max_foreign_memory_bytes(&self) -> usize {
        crate::store::foreign::max_memory_bytes(self.foreign_limits, self.default_buckets.len())
    }

    /// Buckets for histograms outside the catalog (your own
    /// `metrics::histogram!` calls). Catalog families always keep their own
    /// buckets.
    ///
    /// # Errors
    /// [`ExportError::InvalidBuckets`] when `buckets` is empty, not strictly
    /// increasing, or not finite.
    pub fn default_buckets(mut self, buckets: &[f64]) -> Result<Self, ExportError> {
        let invalid = |reason: &str| ExportError::InvalidBuckets {
            buckets: buckets.to_vec(),
            reason: reason.to_string(),
        };
        if buckets.is_empty() {
            return Err(invalid("there must be at least one bound"));
        }
        if !buckets.iter().all(|b| b.is_finite()) {
            return Err(invalid("bounds must be finite (+Inf is implicit)"));
        }
        if !buckets.windows(2).all(|w| w[0] < w[1]) {
            return Err(invalid("bounds must be strictly increasing"));
        }
        self.default_buckets = buckets.to_vec();
        Ok(self)
    }

    /// Also pushes the exposition to a Pushgateway: every `interval` (if
    /// given) and whenever [`PrometheusExporter::push_now`] is called. The
    /// endpoint is `http://host:port/metrics/job/<job>[/<label>/<value>…]`;
    /// each push replaces that group. Only `http://` is supported (the push
    /// client is built without TLS; put a TLS-terminating proxy in front of a
    /// remote gateway).
    ///
    /// ```no_run
    /// use photon_metrics::export::prometheus::PrometheusExporterBuilder;
    /// use std::time::Duration;
    ///
    /// let exporter = PrometheusExporterBuilder::new()
    ///     .without_listener()
    ///     .push_gateway("http://pushgateway:9091/metrics/job/photon-compile", Some(Duration::from_secs(10)))?
    ///     .install()?;
    /// // … compile …
    /// exporter.push_now()?; // before the process exits
    /// # Ok::<(), photon_metrics::export::ExportError>(())
    /// ```
    ///
    /// # Errors
    /// [`ExportError::InvalidPushgatewayEndpoint`] for a malformed or non-`http` URL.
    #[cfg(feature = "push-gateway")]
    pub fn push_gateway(
        mut self,
        endpoint: &str,
        interval: Option<Duration>,
    ) -> Result<Self, ExportError> {
        let endpoint = crate::export::push::parse_endpoint(endpoint)?;
        self.push = Some(crate::export::push::PushConfig { endpoint, interval });
        Ok(self)
    }

    /// Serves the exposition on `addr`. Port 0 picks a free port: read it
    /// back with [`PrometheusExporter::local_addr`].
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

    /// No listener: render with [`PrometheusExporter::render_for`] into your
    /// own server, or push.
    pub fn without_listener(mut self) -> Self {
        self.listen = None;
        self
    }

    /// Adds a label to every series, e.g. `service` or `instance`. Labels of
    /// a series take precedence over a global label of the same name. The
    /// value is exported exactly (escaped, never truncated).
    pub fn global_label(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.global_labels.push((name.into(), value.into()));
        self
    }

    /// The path the listener serves (default `/metrics`); other paths get 404.
    ///
    /// # Errors
    /// [`ExportError::InvalidMetricsPath`] unless `path` starts with `/`.
    pub fn metrics_path(mut self, path: &str) -> Result<Self, ExportError> {
        if !path.starts_with('/') || path.contains(char::is_whitespace) {
            return Err(ExportError::InvalidMetricsPath(path.to_string()));
        }
        self.listener.path = path.to_string();
        Ok(self)
    }

    /// The most connections held at once (default 512, at least 1). At the
    /// limit a new connection makes room by closing the oldest connection
    /// that has not sent a request, then the longest idle keep-alive, then
    /// a writer stalled for a second; only when every connection is being
    /// served is the new one closed as soon as it is accepted. An eighth of
    /// the limit is kept for peers that read a whole scrape in the last 10
    /// minutes.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.listener.max_connections = max.max(1);
        self
    }

    /// The most connections one peer may hold at once (default 8: a
    /// Prometheus keeps one keep-alive connection per job and target);
    /// IPv6 peers are counted by their /64. A peer's connection beyond it
    /// is closed as soon as it is accepted, so a host needs many addresses
    /// to reach the connection limit, where its unused connections are
    /// the first closed.
    pub fn max_connections_per_peer(mut self, max: usize) -> Self {
        self.listener.max_connections_per_peer = Some(max.max(1));
        self
    }

    /// How fast one peer may open new connections: `per_second` sustained,
    /// after a burst of `burst` (default 100 a second after 300). Faster
    /// connections are closed as soon as they are accepted, so a flood of
    /// connect-request-close from one host costs an `accept` and a `close`
    /// each and cannot queue up in front of the scraper. Prometheus keeps
    /// its connections alive and opens a few an hour.
    pub fn connection_rate_per_peer(mut self, per_second: u32, burst: u32) -> Self {
        self.listener.connection_rate = listener::Rate {
            per_second: f64::from(per_second.max(1)),
            burst: f64::from(burst.max(1)),
        };
        self
    }

    /// How long a response write may make no progress (default 10 s, the
    /// default scrape timeout of Prometheus): a client that stops reading is
    /// disconnected then, and gives back its slot and its share of the body.
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.listener.write_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How long a client may take to send a request head (default 10 s);
    /// idle keep-alive connections are closed after the same time.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.listener.header_read_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Serves only clients from `network` (`10.0.0.0/8`, `::1`, or a single
    /// address); others get 403. Call once per network; with none, every
    /// address is served.
    ///
    /// # Errors
    /// [`ExportError::InvalidAllowlist`] when `network` is neither an
    /// address nor a CIDR network.
    pub fn allow(mut self, network: &str) -> Result<Self, ExportError> {
        let net = network
            .parse::<IpNet>()
            .or_else(|_| network.parse::<IpAddr>().map(IpNet::from))
            .map_err(|e| ExportError::InvalidAllowlist {
                entry: network.to_string(),
                reason: e.to_string(),
            })?;
        self.listener.allow.push(net);
        Ok(self)
    }

    /// Serves `/metrics` over TLS and/or with basic auth as the web-config
    /// file at `path` says, in the format of Prometheus' exporter toolkit
    /// (what node_exporter's `--web.config.file` takes); see
    /// [`web_config`](crate::export::web_config). The file is read and
    /// checked now: certificates, keys and bcrypt hashes.
    ///
    /// # Errors
    /// [`ExportError::WebConfig`] naming the file, key or user at fault.
    #[cfg(feature = "web-config")]
    pub fn web_config_file(
        mut self,
        path: impl AsRef<std::path::Path>,
    ) -> Result<Self, ExportError> {
        let config = crate::export::web_config::WebConfig::load(path.as_ref())
            .map_err(ExportError::WebConfig)?;
        self.listener.web = Some(Arc::new(config));
        Ok(self)
    }

    /// Whether to gzip responses for clients that ask (default `true`).
    pub fn gzip(mut self, enabled: bool) -> Self {
        self.listener.gzip = enabled;
        self
    }

    fn validate(&self) -> Result<(), ExportError> {
        for (name, _) in &self.global_labels {
            if !valid_label_name(name) {
                return Err(ExportError::InvalidLabelName(name.clone()));
            }
        }
        Ok(())
    }

    /// Builds the recorder without installing it, for composing with other
    /// recorders (fan-out, layers) or for tests with a local recorder. The
    /// exporter renders what the recorder receives; nothing runs in the
    /// background.
    ///
    /// Global labels with invalid names are skipped here; [`install`](Self::install)
    /// reports them as errors.
    pub fn build_recorder(self) -> (PhotonRecorder, PrometheusExporter) {
        let store = Arc::new(Store::new(StoreConfig {
            global_labels: self
                .global_labels
                .into_iter()
                .filter(|(name, _)| valid_label_name(name))
                .collect(),
            default_buckets: self.default_buckets,
            foreign_limits: self.foreign_limits,
            foreign_idle_expiry: self.foreign_idle_expiry,
        }));
        crate::lifecycle::register(&store);
        if self.process_metrics {
            let sampler = crate::process::ProcessSampler::new();
            let weak = Arc::downgrade(&store);
            store.on_render(Box::new(move || {
                if let Some(store) = weak.upgrade() {
                    sampler.sample(&PhotonRecorder::new(store));
                }
            }));
        }
        let exporter = PrometheusExporter {
            store: store.clone(),
            local_addr: None,
            #[cfg(feature = "push-gateway")]
            push_endpoint: self.push.map(|p| p.endpoint),
            last_sizes: Arc::default(),
        };
        (PhotonRecorder::new(store), exporter)
    }

    /// Installs the exporter as the global `metrics` recorder and starts its
    /// listener (if any) and periodic push (if configured) on background
    /// threads. No other background work exists.
    ///
    /// # Errors
    /// An invalid global label name, a listener that cannot bind (port in
    /// use, address not local), a second install, or another global
    /// recorder. Nothing is installed when an error is returned.
    pub fn install(self) -> Result<PrometheusExporter, ExportError> {
        self.prepare()?.commit()
    }

    /// Everything of [`install`](Self::install) that can fail before a
    /// global is touched: the settings checked, the install reserved, the
    /// port bound, the recorder built. `init()` does this before it sets
    /// the global subscriber, and commits after.
    pub(crate) fn prepare(self) -> Result<PreparedExporter, ExportError> {
        self.validate()?;
        if INSTALLED.swap(true, Ordering::AcqRel) {
            return Err(ExportError::AlreadyInstalled);
        }
        // From here on an early return releases the reservation.
        let reservation = Reservation;
        let joining = self
            .shared
            .as_ref()
            .map(|dir| {
                let config = SharedConfig {
                    dir: dir.clone(),
                    interval: self.shared_interval,
                };
                Joining::open(&config, self.listen.is_some())
            })
            .transpose()?;
        // A process of a service listens only if it leads.
        let listen = match &joining {
            Some(j) if !j.leads() => None,
            _ => self.listen,
        };
        let deferred = self.listen.filter(|_| listen.is_none());
        let socket = listen
            .map(|addr| {
                let bind_error = |e: std::io::Error| ExportError::Bind { addr, source: e };
                let socket = listener::bind(addr).map_err(bind_error)?;
                let bound = socket.local_addr().map_err(bind_error)?;
                Ok::<_, ExportError>((socket, bound))
            })
            .transpose()?;
        let config = self.listener.clone();
        #[cfg(feature = "push-gateway")]
        let push = self.push.clone();
        let (recorder, exporter) = self.build_recorder();
        Ok(PreparedExporter {
            reservation,
            joining,
            deferred,
            socket,
            config,
            #[cfg(feature = "push-gateway")]
            push,
            recorder,
            exporter,
        })
    }
}

/// Holds the process's one install while an exporter is being installed;
/// dropped without [`PreparedExporter::commit`] succeeding, it lets the next
/// install through.
struct Reservation;

impl Drop for Reservation {
    fn drop(&mut self) {
        INSTALLED.store(false, Ordering::Release);
    }
}

/// An exporter ready to install, nothing global touched yet: dropping it
/// closes its socket and releases the install.
pub(crate) struct PreparedExporter {
    reservation: Reservation,
    /// This process's part in a service, if it is one of a service's.
    joining: Option<Joining>,
    /// The address to listen on once this process leads its service.
    deferred: Option<SocketAddr>,
    socket: Option<(std::net::TcpListener, SocketAddr)>,
    config: ListenerConfig,
    #[cfg(feature = "push-gateway")]
    push: Option<crate::export::push::PushConfig>,
    recorder: PhotonRecorder,
    exporter: PrometheusExporter,
}

impl PreparedExporter {
    /// Installs the recorder globally and starts the background threads.
    /// Fails only when another `metrics` recorder is global already (which
    /// nothing can check without trying) or a thread cannot be spawned.
    pub(crate) fn commit(self) -> Result<PrometheusExporter, ExportError> {
        let PreparedExporter {
            reservation,
            joining,
            deferred,
            socket,
            config,
            #[cfg(feature = "push-gateway")]
            push,
            recorder,
            mut exporter,
        } = self;
        global::install(recorder).map_err(|()| ExportError::ForeignRecorder)?;
        if let Some((socket, bound)) = socket {
            listener::spawn(socket, exporter.store.clone(), config.clone())
                .map_err(ExportError::Thread)?;
            exporter.local_addr = Some(bound);
        }
        if let Some(joining) = joining {
            // Any process of the service may come to lead it: a forked
            // child, or a worker when the listening one dies.
            let serve: Option<Serve> =
                self_listen(deferred.or(exporter.local_addr), &exporter, config);
            joining
                .start(exporter.store.clone(), serve)
                .map_err(ExportError::Thread)?;
        }
        #[cfg(feature = "push-gateway")]
        if let Some(push) = push {
            crate::export::push::spawn_periodic(exporter.store.clone(), push)?;
        }
        // Installed: the reservation is kept for the life of the process.
        std::mem::forget(reservation);
        Ok(exporter)
    }
}

/// How a process of a service starts listening on `addr` when it comes to
/// lead.
fn self_listen(
    addr: Option<SocketAddr>,
    exporter: &PrometheusExporter,
    config: ListenerConfig,
) -> Option<Serve> {
    let addr = addr?;
    let store = exporter.store.clone();
    Some(Arc::new(move || {
        let socket = listener::bind(addr)?;
        listener::spawn(socket, store.clone(), config.clone())
    }))
}

fn valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') && !name.starts_with("__")
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn bad_settings_are_errors_that_name_the_input() {
        let b = PrometheusExporterBuilder::new;
        for err in [
            b().default_buckets(&[]).unwrap_err(),
            b().default_buckets(&[1.0, 0.5]).unwrap_err(),
            b().default_buckets(&[1.0, f64::INFINITY]).unwrap_err(),
            b().metrics_path("metrics").unwrap_err(),
            b().allow("10.0.0.0/33").unwrap_err(),
            b().allow("localhost").unwrap_err(),
        ] {
            let text = err.to_string();
            assert!(
                ["[]", "0.5", "inf", "`metrics`", "10.0.0.0/33", "localhost"]
                    .iter()
                    .any(|culprit| text.contains(culprit)),
                "{text}"
            );
        }
        assert!(b().allow("127.0.0.1").is_ok());
        assert!(b().allow("::1/128").is_ok());
    }
}
