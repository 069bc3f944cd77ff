//! The handle to a built or installed exporter.

use crate::export::encode::{self, Format};
use crate::store::Store;
use std::net::SocketAddr;
use std::sync::Arc;

/// A handle to an installed (or built) exporter: renders the store, knows
/// where the listener is, pushes on demand. Cheap to clone.
#[derive(Clone)]
pub struct PrometheusExporter {
    pub(crate) store: Arc<Store>,
    pub(crate) local_addr: Option<SocketAddr>,
    #[cfg(feature = "push-gateway")]
    pub(crate) push_endpoint: Option<String>,
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

    /// The exposition in `format` (OpenMetrics carries exemplars).
    pub fn render_as(&self, format: Format) -> String {
        let mut out = Vec::new();
        encode::render(&self.store, format, &mut out);
        String::from_utf8(out).expect("the exposition is built from UTF-8 text")
    }

    /// The exposition for a request with this `Accept` header, and the
    /// `Content-Type` to answer with: for serving from your own HTTP server.
    pub fn render_for(&self, accept: Option<&str>) -> (String, &'static str) {
        let format = Format::negotiate(accept);
        (self.render_as(format), format.content_type())
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
