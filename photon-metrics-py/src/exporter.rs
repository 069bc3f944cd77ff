//! The exporter: installed once per process, serving `/metrics` or rendering
//! for the application's own server.

use crate::error::ExporterError;
use photon_metrics::export::prometheus::{PrometheusExporter, PrometheusExporterBuilder};
use photon_metrics::export::ExportError;
use pyo3::prelude::*;
use std::collections::HashMap;
use std::sync::OnceLock;

static EXPORTER: OnceLock<PrometheusExporter> = OnceLock::new();

/// Installs photon's Prometheus exporter for this process and serves
/// `/metrics` on `listen` (`"host:port"`, port 0 for any free port; None for
/// no listener, use render()). Returns the bound port, or None. Raises
/// ExporterError (port in use, bad address or label name, second install).
/// Other Python threads keep running meanwhile (resolving a host name can
/// take seconds).
///
/// With `shared_dir` (or the PHOTON_METRICS_SHARED_DIR environment
/// variable), this process is one of a service's (gunicorn or uvicorn
/// workers, a multiprocessing pool): every worker installs on the same
/// `listen`, exactly one listens, and /metrics serves the whole service.
/// Returns None in the workers that do not listen (yet).
#[pyfunction]
#[pyo3(signature = (listen = Some("0.0.0.0:8080"), global_labels = None, process_metrics = true, shared_dir = None))]
pub(crate) fn install_exporter(
    py: Python<'_>,
    listen: Option<&str>,
    global_labels: Option<HashMap<String, String>>,
    process_metrics: bool,
    shared_dir: Option<std::path::PathBuf>,
) -> PyResult<Option<u16>> {
    let mut pairs: Vec<_> = global_labels.unwrap_or_default().into_iter().collect();
    pairs.sort();
    // Without the GIL: address resolution (getaddrinfo), the bind and the
    // listener's start touch no Python object.
    py.detach(|| {
        let mut builder = PrometheusExporterBuilder::new().process_metrics(process_metrics);
        if let Some(dir) = shared_dir {
            builder = builder.shared_dir(dir);
        }
        builder = match listen {
            Some(addr) => builder.listen_on(addr)?,
            None => builder.without_listener(),
        };
        for (name, value) in pairs {
            builder = builder.global_label(name, value);
        }
        if EXPORTER.get().is_some() {
            return Err(ExportError::AlreadyInstalled);
        }
        let exporter = builder.install()?;
        let port = exporter.local_addr().map(|a| a.port());
        let _ = EXPORTER.set(exporter);
        Ok(port)
    })
    .map_err(|e| ExporterError::new_err(e.to_string()))
}

/// The exposition in the Prometheus text format (or OpenMetrics with
/// `openmetrics=True`), for serving from your own server. Other Python
/// threads keep running while it renders.
#[pyfunction]
#[pyo3(signature = (openmetrics = false))]
pub(crate) fn render(py: Python<'_>, openmetrics: bool) -> PyResult<String> {
    let exporter = EXPORTER.get().ok_or_else(|| {
        ExporterError::new_err("no exporter is installed: call install_exporter() first")
    })?;
    let format = if openmetrics {
        photon_metrics::export::encode::Format::OpenMetrics
    } else {
        photon_metrics::export::encode::Format::Text
    };
    // Rendering reads atomics only; a large exposition takes milliseconds
    // that the application's other threads should not wait out.
    Ok(py.detach(|| exporter.render_as(format)))
}

/// Publishes this process's records to its service's shared directory now
/// (see install_exporter's shared_dir); True if it joined one. Call it
/// before os._exit: photon_metrics does so itself in multiprocessing
/// workers, and exit() publishes anyway.
#[pyfunction]
pub(crate) fn publish_shared(py: Python<'_>) -> bool {
    py.detach(photon_metrics::shared::publish_now)
}
