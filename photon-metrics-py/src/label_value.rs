//! Any label's value by the label's name (`LabelValue("tenant", "acme")`):
//! the table-driven path for labels, as `Family` is for families, so a
//! label added to the catalog, or declared by the Rust side of the
//! process, needs no class of its own here.

use crate::error::label_error;
use photon_metrics::families::DynamicLabel;
use pyo3::prelude::*;

/// A value of any label of a registered family, by the label's name: a
/// closed label's value by its text, or an open label's, validated and
/// interned under its cap. Records through `Family` take it wherever the
/// family has a label of that name.
#[pyclass(frozen, eq, hash, from_py_object, module = "photon_metrics")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct LabelValue {
    pub(crate) label: &'static str,
    pub(crate) raw: u32,
}

impl LabelValue {
    fn found(&self) -> Option<DynamicLabel> {
        DynamicLabel::lookup(self.label)
    }
}

#[pymethods]
impl LabelValue {
    /// Raises KeyError when no registered family has a label called
    /// `label`, LabelError when `value` is not one of its values (empty,
    /// over 128 bytes, or not one of a closed label's).
    #[new]
    fn new(label: &str, value: &str) -> PyResult<Self> {
        let found = DynamicLabel::lookup(label).ok_or_else(|| {
            pyo3::exceptions::PyKeyError::new_err(format!(
                "no registered family has a label called {label:?}"
            ))
        })?;
        let raw = found.value(value).map_err(label_error)?;
        Ok(LabelValue {
            label: found.name(),
            raw,
        })
    }

    /// The label's name.
    #[getter]
    fn label(&self) -> &'static str {
        self.label
    }

    /// Whether an open label's cap folded this value into `__overflow__`.
    #[getter]
    fn is_overflow(&self) -> bool {
        self.raw == 0 && self.found().is_some_and(|l| l.open().is_some())
    }

    /// Retires an open value: its series leave every family and its slot is
    /// freed for a new value. False when there was nothing to retire
    /// (already retired, `__overflow__`, or a closed label's value).
    fn retire(&self) -> bool {
        self.found().is_some_and(|l| l.retire(self.raw))
    }

    fn __str__(&self) -> String {
        self.found().and_then(|l| l.text(self.raw)).map_or_else(
            || photon_metrics::labels::RETIRED_VALUE.to_string(),
            |t| t.to_string(),
        )
    }

    fn __repr__(&self) -> String {
        format!("LabelValue({:?}, {:?})", self.label, self.__str__())
    }
}
