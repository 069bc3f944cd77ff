//! Label values and enums: the open labels' interned values, the closed
//! labels' enums, and which open label a setting is for.

use crate::error::label_error;
use photon_metrics::labels;
use pyo3::prelude::*;

macro_rules! open_label {
    ($py:ident, $rust:ident, $doc:literal) => {
        #[doc = $doc]
        #[pyclass(frozen, eq, hash, from_py_object, module = "photon_metrics")]
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $py(pub(crate) labels::$rust);

        #[pymethods]
        impl $py {
            /// Validates and interns `value`; raises LabelError. Past the
            /// label's cap the value is `__overflow__` (see is_overflow).
            #[new]
            fn new(value: &str) -> PyResult<Self> {
                labels::$rust::new(value).map($py).map_err(label_error)
            }

            /// Whether the label's cap folded this value into `__overflow__`.
            #[getter]
            fn is_overflow(&self) -> bool {
                self.0.is_overflow()
            }

            /// Retires the value: its series leave every family and its
            /// slot is freed for a new value. False when there was nothing
            /// to retire (already retired, or `__overflow__`). Copies kept
            /// afterwards record nothing (photon_metrics_stale_records_total).
            fn retire(&self) -> bool {
                self.0.retire()
            }

            /// Whether the value is still live (not retired).
            #[getter]
            fn is_live(&self) -> bool {
                self.0.is_live()
            }

            fn __str__(&self) -> String {
                self.0.as_str().to_string()
            }

            fn __repr__(&self) -> String {
                format!("{}({:?})", stringify!($py), self.0.as_str())
            }
        }
    };
}

open_label!(
    Target,
    Target,
    "A `target` value: the hardware backend compiled for."
);
open_label!(
    ModelType,
    ModelType,
    "A `model_type` value: the model architecture (never a model id)."
);
open_label!(
    ErrorKind,
    ErrorKind,
    "An `error_kind` value: a bounded error classification."
);
open_label!(DeviceId, DeviceId, "A `device_id` value.");
open_label!(Location, Location, "A `location` value.");
open_label!(Pass, Pass, "A `pass` value: a compiler pass's name.");

/// A compilation's outcome (`status` label).
#[pyclass(eq, eq_int, frozen, from_py_object, module = "photon_metrics")]
#[derive(Clone, Copy, PartialEq)]
pub enum Status {
    #[pyo3(name = "SUCCESS")]
    Success,
    #[pyo3(name = "ERROR")]
    Error,
    #[pyo3(name = "PANIC")]
    Panic,
    #[pyo3(name = "CANCELLED")]
    Cancelled,
}

impl From<Status> for labels::Status {
    fn from(s: Status) -> Self {
        match s {
            Status::Success => labels::Status::Success,
            Status::Error => labels::Status::Error,
            Status::Panic => labels::Status::Panic,
            Status::Cancelled => labels::Status::Cancelled,
        }
    }
}

/// The device technology (`device_type` label).
#[pyclass(eq, eq_int, frozen, from_py_object, module = "photon_metrics")]
#[derive(Clone, Copy, PartialEq)]
pub enum DeviceType {
    #[pyo3(name = "MZI")]
    Mzi,
    #[pyo3(name = "MICRORING")]
    Microring,
    #[pyo3(name = "PCM")]
    Pcm,
    #[pyo3(name = "HYBRID")]
    Hybrid,
    #[pyo3(name = "SIMULATOR")]
    Simulator,
}

impl From<DeviceType> for labels::DeviceType {
    fn from(d: DeviceType) -> Self {
        match d {
            DeviceType::Mzi => labels::DeviceType::Mzi,
            DeviceType::Microring => labels::DeviceType::Microring,
            DeviceType::Pcm => labels::DeviceType::Pcm,
            DeviceType::Hybrid => labels::DeviceType::Hybrid,
            DeviceType::Simulator => labels::DeviceType::Simulator,
        }
    }
}

/// Which memory figure (`memory` label).
#[pyclass(eq, eq_int, frozen, from_py_object, module = "photon_metrics")]
#[derive(Clone, Copy, PartialEq)]
pub enum MemoryStat {
    #[pyo3(name = "CURRENT")]
    Current,
    #[pyo3(name = "PEAK")]
    Peak,
}

impl From<MemoryStat> for labels::MemoryStat {
    fn from(m: MemoryStat) -> Self {
        match m {
            MemoryStat::Current => labels::MemoryStat::Current,
            MemoryStat::Peak => labels::MemoryStat::Peak,
        }
    }
}

/// An open label, for set_label_cap().
#[pyclass(eq, eq_int, frozen, from_py_object, module = "photon_metrics")]
#[derive(Clone, Copy, PartialEq)]
pub enum OpenLabel {
    #[pyo3(name = "TARGET")]
    Target,
    #[pyo3(name = "MODEL_TYPE")]
    ModelType,
    #[pyo3(name = "ERROR_KIND")]
    ErrorKind,
    #[pyo3(name = "DEVICE_ID")]
    DeviceId,
    #[pyo3(name = "LOCATION")]
    Location,
    #[pyo3(name = "PASS")]
    Pass,
}
