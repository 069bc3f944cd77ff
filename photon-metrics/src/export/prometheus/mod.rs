//! The Prometheus exporter: photon's own store, served on a hardened
//! `/metrics` listener, rendered into your server, or pushed.
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
//! Or render into your own HTTP server: pass the request's `Accept` header
//! and answer with the body and content type you get back (OpenMetrics with
//! exemplars when the scraper asks for it, text 0.0.4 otherwise):
//!
//! ```
//! use photon_metrics::export::prometheus::PrometheusExporterBuilder;
//! let (recorder, exporter) = PrometheusExporterBuilder::new().without_listener().build_recorder();
//! metrics::with_local_recorder(&recorder, || {
//!     photon_metrics::runtime::set_queue_depth(3);
//! });
//! let (body, content_type) = exporter.render_for(Some("text/plain"));
//! assert!(body.contains("photon_queue_depth 3"));
//! assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
//! ```
//!
//! What the store guarantees:
//! - every catalog family is exposed with `# HELP` and `# TYPE` (and
//!   `# UNIT` where its name ends in one) from install on; families whose
//!   labels are all closed, or that have none, are present at 0;
//! - histograms are real Prometheus histograms with the catalog's buckets,
//!   updated with atomics at record time: no observation is ever buffered
//!   or lost, and no scrape sees `_count` differ from the `+Inf` bucket;
//! - label values are escaped once, exactly, when their series is created;
//! - series other code records through the `metrics` facade are served too
//!   (histograms with [`PrometheusExporterBuilder::default_buckets`]).

mod builder;
mod exporter;

pub use crate::store::recorder::PhotonRecorder;
pub use builder::PrometheusExporterBuilder;
pub use exporter::PrometheusExporter;

use super::encode::Format;

/// The listen address from the design: all interfaces, port 8080.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:8080";

/// The `Content-Type` of the text exposition format (what
/// [`PrometheusExporter::render`] returns).
pub const CONTENT_TYPE: &str = Format::Text.content_type();
