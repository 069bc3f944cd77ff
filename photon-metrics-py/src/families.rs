//! Every family by name (`Family("photon_…")`), with label values given
//! as photon objects: the table-driven path the C ABI has too.

use crate::error::PhotonError;
use crate::labels::{
    DeviceId, DeviceType, ErrorKind, Location, MemoryStat, ModelType, Pass, Status, Target,
};
use photon_metrics::labels;
use pyo3::prelude::*;

/// The `photon_metrics._native` module.
/// A label value's name and raw value, for `Family`'s records.
pub(crate) fn raw_label(value: &Bound<'_, PyAny>) -> PyResult<(&'static str, u32)> {
    if let Ok(v) = value.extract::<crate::label_value::LabelValue>() {
        return Ok((v.label, v.raw));
    }
    macro_rules! open {
        ($($ty:ident => $name:literal),*) => {$(
            if let Ok(v) = value.extract::<$ty>() {
                return Ok(($name, v.0.to_raw()));
            }
        )*};
    }
    open!(Target => "target", ModelType => "model_type", ErrorKind => "error_kind",
          DeviceId => "device_id", Location => "location", Pass => "pass");
    use labels::ClosedLabel;
    if let Ok(v) = value.extract::<Status>() {
        return Ok(("status", labels::Status::from(v).slot() as u32));
    }
    if let Ok(v) = value.extract::<DeviceType>() {
        return Ok(("device_type", labels::DeviceType::from(v).slot() as u32));
    }
    if let Ok(v) = value.extract::<MemoryStat>() {
        return Ok(("memory", labels::MemoryStat::from(v).slot() as u32));
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!(
        "{} is not a label value (Target, Status, LabelValue, …)",
        value
            .repr()
            .map_or_else(|_| "?".to_string(), |r| r.to_string())
    )))
}

/// Any family by name: the catalog's (a family added to it is here without
/// a function of its own) or one the Rust side of the process declared.
/// Records take the family's label values as a tuple, in its label order,
/// each of its label's type; `Family("photon_pass_duration_seconds")
/// .observe((Pass("cse"), Target("mzi-64x64")), 0.002)`.
#[pyclass(frozen, module = "photon_metrics")]
pub struct Family(photon_metrics::families::Dynamic);

impl Family {
    fn raw(&self, values: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<Vec<u32>> {
        let spec = self.0.spec();
        if values.len() != spec.labels.len() {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "{} takes {} label values ({}), not {}",
                spec.name,
                spec.labels.len(),
                spec.labels
                    .iter()
                    .map(|l| l.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                values.len()
            )));
        }
        let mut raw = Vec::with_capacity(values.len());
        for (i, (value, label)) in values.iter().zip(spec.labels).enumerate() {
            let (name, r) = raw_label(&value)?;
            if name != label.as_str() {
                return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                    "{}'s label {} is {}, not {name}",
                    spec.name,
                    i + 1,
                    label.as_str()
                )));
            }
            raw.push(r);
        }
        Ok(raw)
    }
}

pub(crate) fn refused(e: photon_metrics::families::DynamicError) -> PyErr {
    PhotonError::new_err(e.to_string())
}

#[pymethods]
impl Family {
    /// The family called `name`; raises KeyError when there is none.
    #[new]
    fn new(name: &str) -> PyResult<Self> {
        photon_metrics::families::Dynamic::lookup(name)
            .map(Family)
            .ok_or_else(|| {
                pyo3::exceptions::PyKeyError::new_err(format!("no family is called `{name}`"))
            })
    }

    /// Every family's name: the catalog's, then the registered ones.
    #[staticmethod]
    fn names() -> Vec<&'static str> {
        photon_metrics::families::Dynamic::all()
            .iter()
            .map(|f| f.spec().name)
            .collect()
    }

    /// The exported name.
    #[getter]
    fn name(&self) -> &'static str {
        self.0.spec().name
    }

    /// "counter", "gauge" or "histogram".
    #[getter]
    fn kind(&self) -> &'static str {
        self.0.spec().kind.as_str()
    }

    /// The label names, in order.
    #[getter]
    fn labels(&self) -> Vec<&'static str> {
        self.0.spec().labels.iter().map(|l| l.as_str()).collect()
    }

    /// The `# HELP` text.
    #[getter]
    fn help(&self) -> &'static str {
        self.0.spec().help
    }

    /// Adds `n` to a counter's series at `labels`.
    #[pyo3(signature = (labels, n = 1))]
    fn inc(&self, labels: &Bound<'_, pyo3::types::PyTuple>, n: u64) -> PyResult<()> {
        self.0.add(&self.raw(labels)?, n).map_err(refused)
    }

    /// Sets a gauge's series at `labels` to `value`.
    fn set(&self, labels: &Bound<'_, pyo3::types::PyTuple>, value: f64) -> PyResult<()> {
        self.0.set(&self.raw(labels)?, value).map_err(refused)
    }

    /// Adds `delta` (negative to subtract) to a gauge's series at `labels`.
    fn add(&self, labels: &Bound<'_, pyo3::types::PyTuple>, delta: f64) -> PyResult<()> {
        self.0
            .add_to_gauge(&self.raw(labels)?, delta)
            .map_err(refused)
    }

    /// Observes `value` in a histogram's series at `labels`.
    fn observe(&self, labels: &Bound<'_, pyo3::types::PyTuple>, value: f64) -> PyResult<()> {
        self.0.observe(&self.raw(labels)?, value).map_err(refused)
    }

    fn __repr__(&self) -> String {
        format!("Family('{}')", self.0.spec().name)
    }
}
