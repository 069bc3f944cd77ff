//! The handle to a built or installed exporter.

use crate::export::encode::{self, Exposition, Format};
use crate::store::Store;
use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

/// A handle to an installed (or built) exporter: renders the store, knows
/// where the listener is, pushes on demand. Cheap to clone.
#[derive(Clone)]
pub struct PrometheusExporter {
    pub(crate) store: Arc<Store>,
    pub(crate) local_addr: Option<SocketAddr>,
    #[cfg(feature = "push-gateway")]
    pub(crate) push_endpoint: Option<String>,
    /// The length of the last exposition rendered here in each format
    /// (text, OpenMetrics, protobuf), so the next starts with room for it
    /// instead of growing (and copying) its buffer again, as the
    /// listener's render lanes do.
    pub(crate) last_sizes: Arc<[AtomicUsize; 3]>,
}

impl std::fmt::Debug for PrometheusExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrometheusExporter")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl PrometheusExporter {
    /// The exposition in the Prometheus text format 0.0.4.
    pub fn render(&self) -> String {
        self.render_as(Format::Text)
    }

    /// The exposition in a text `format` (OpenMetrics carries exemplars
    /// and `_created`).
    ///
    /// # Panics
    /// For [`Format::Protobuf`], which is binary: use
    /// [`render_bytes`](Self::render_bytes).
    pub fn render_as(&self, format: Format) -> String {
        assert!(
            format != Format::Protobuf,
            "the protobuf exposition is binary: render it with render_bytes"
        );
        String::from_utf8(self.render_bytes(format))
            .expect("the exposition is built from UTF-8 text")
    }

    /// The exposition in any format (and, through [`Exposition`], with a
    /// name escaping), as bytes.
    ///
    /// ```
    /// use photon_metrics::export::encode::{proto, Format};
    /// use photon_metrics::export::prometheus::PrometheusExporterBuilder;
    /// let (recorder, exporter) = PrometheusExporterBuilder::new().without_listener().build_recorder();
    /// metrics::with_local_recorder(&recorder, || photon_metrics::runtime::set_queue_depth(3));
    /// let families = proto::decode_delimited(&exporter.render_bytes(Format::Protobuf)).unwrap();
    /// let depth = families.iter().find(|f| f.name() == "photon_queue_depth").unwrap();
    /// assert_eq!(depth.metric[0].gauge.as_ref().unwrap().value(), 3.0);
    /// ```
    pub fn render_bytes(&self, exposition: impl Into<Exposition>) -> Vec<u8> {
        let exposition = exposition.into();
        let last = &self.last_sizes[match exposition.format {
            Format::Text => 0,
            Format::OpenMetrics => 1,
            Format::Protobuf => 2,
        }];
        encode::render_sized(&self.store, exposition, last)
    }

    /// The exposition for a request with this `Accept` header, and the
    /// `Content-Type` to answer with: for serving from your own HTTP server.
    /// The body is bytes because Prometheus with native histograms asks
    /// for the (binary) protobuf format first.
    pub fn render_for(&self, accept: Option<&str>) -> (Vec<u8>, &'static str) {
        let exposition = Exposition::negotiate(accept);
        (self.render_bytes(exposition), exposition.content_type())
    }

    /// The address the listener is bound to, if there is one.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }

    /// Pushes the exposition to the configured Pushgateway now (call it as a
    /// batch job's last step).
    ///
    /// # Errors
    /// [`ExportError::Push`] when the gateway is unreachable or refuses the
    /// push, [`ExportError::NoPushgateway`] when no gateway is configured.
    ///
    /// [`ExportError::Push`]: crate::export::ExportError::Push
    /// [`ExportError::NoPushgateway`]: crate::export::ExportError::NoPushgateway
    #[cfg(feature = "push-gateway")]
    pub fn push_now(&self) -> Result<(), crate::export::ExportError> {
        match &self.push_endpoint {
            Some(endpoint) => crate::export::push::push(&self.store, endpoint),
            None => Err(crate::export::ExportError::NoPushgateway),
        }
    }
}
