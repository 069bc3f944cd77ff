//! What an application sets about its open labels: caps and idle expiry.

use crate::error::{label_error, LabelError};
use crate::labels::OpenLabel;
use photon_metrics::labels;
use pyo3::prelude::*;

/// Retires values of `label` that went `seconds` without a record (None:
/// never; default 24 h for MODEL_TYPE, never for the others), checked at
/// each scrape.
#[pyfunction]
#[pyo3(signature = (label, seconds))]
pub(crate) fn set_label_idle_expiry(label: OpenLabel, seconds: Option<f64>) -> PyResult<()> {
    let expiry = match seconds {
        None => None,
        Some(s) if s.is_finite() && s > 0.0 => Some(std::time::Duration::from_secs_f64(s)),
        Some(s) => {
            return Err(LabelError::new_err(format!(
                "idle expiry must be a positive number of seconds or None, not {s}"
            )))
        }
    };
    labels::set_idle_expiry(open_label(label), expiry);
    Ok(())
}

pub(crate) fn open_label(label: OpenLabel) -> labels::OpenLabel {
    match label {
        OpenLabel::Target => labels::Target::LABEL,
        OpenLabel::ModelType => labels::ModelType::LABEL,
        OpenLabel::ErrorKind => labels::ErrorKind::LABEL,
        OpenLabel::DeviceId => labels::DeviceId::LABEL,
        OpenLabel::Location => labels::Location::LABEL,
        OpenLabel::Pass => labels::Pass::LABEL,
    }
}

/// Sets how many distinct values `label` keeps before new ones become
/// `__overflow__` (1..=4096). At start-up, before the label's first value;
/// raises LabelError once the cap is frozen or out of range.
#[pyfunction]
pub(crate) fn set_label_cap(label: OpenLabel, cap: usize) -> PyResult<()> {
    labels::set_cap(open_label(label), cap).map_err(label_error)
}
