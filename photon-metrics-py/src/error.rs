//! The exceptions Python sees, and how a Rust error becomes one.

use photon_metrics::labels;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(
    photon_metrics,
    PhotonError,
    PyException,
    "Base of every photon_metrics error."
);
create_exception!(
    photon_metrics,
    LabelError,
    PhotonError,
    "An invalid label value: empty, or longer than 128 bytes."
);
create_exception!(
    photon_metrics,
    ExporterError,
    PhotonError,
    "The exporter cannot be installed: bad address or label name, port in use, already installed."
);

pub(crate) fn label_error(e: labels::LabelError) -> PyErr {
    LabelError::new_err(e.to_string())
}
