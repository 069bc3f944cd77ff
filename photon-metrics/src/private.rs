//! Support for the code `photon-metrics-macros` generates. Not public API:
//! names and signatures change without notice.

pub use crate::classify::{type_error_kind, ErrorClass};
pub use crate::compiler::start_compilation;
pub use crate::model::{ModelInfo, ToModelType, ToParameters};
pub use crate::registry::Declared;
pub use crate::runtime::start_inference;
pub use inventory;
pub use std::sync::OnceLock;
pub use tracing;

use crate::labels::{DeviceType, ErrorKind, Target};
use std::convert::Infallible;
use std::fmt;

/// Whether two of `names` are the same label name (for `family!`'s check).
pub const fn has_duplicate_label(names: &[crate::labels::LabelName]) -> bool {
    crate::labels::has_duplicate(names)
}

/// Whether `bounds` are valid histogram bucket bounds: at least one, each
/// finite, strictly increasing (for `family!`'s check of a `const` slice).
pub const fn valid_buckets(bounds: &[f64]) -> bool {
    if bounds.is_empty() {
        return false;
    }
    let mut i = 0;
    while i < bounds.len() {
        if !bounds[i].is_finite() || (i > 0 && bounds[i] <= bounds[i - 1]) {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether `name` is one of the catalog's open labels (for `derive(Label)`'s
/// check: an application open label of that name would share its
/// self-monitoring series).
pub const fn is_catalog_open_label(name: &str) -> bool {
    let families = crate::catalog::declared::LABELS;
    let mut i = 0;
    while i < families.len() {
        let mut j = 0;
        while j < families[i].len() {
            if let crate::labels::LabelName::Open { name: open, .. } = families[i][j] {
                if crate::labels::same_str(open, name) {
                    return true;
                }
            }
            j += 1;
        }
        i += 1;
    }
    false
}

/// Retires an open value (what every open label type's `retire` does).
pub fn retire(label: crate::labels::OpenLabel, raw: u32) -> bool {
    crate::labels::retire(label, raw)
}

/// Whether a sampled span is current for exemplars: what every counter and
/// histogram record pays when none is. For the exemplar benchmark only.
#[inline]
pub fn exemplar_probe() -> bool {
    crate::store::exemplar::current().is_some()
}

/// One histogram cell, classic buckets alone or with native ones: what
/// `observe` costs at the cell, for the native-histogram benchmark only.
pub struct BenchHistogram(crate::store::cell::HistogramCell);

impl BenchHistogram {
    /// Classic buckets only (what every histogram had before native ones).
    pub fn classic(bounds: &'static [f64]) -> Self {
        use crate::store::cell::{Cell, HistogramCell, Shape};
        BenchHistogram(HistogramCell::new(Shape::classic(bounds)))
    }

    /// Classic buckets and the catalog latency histograms' native ones.
    pub fn with_native(bounds: &'static [f64]) -> Self {
        use crate::store::cell::{Cell, HistogramCell};
        let spec = crate::catalog::declared::INFERENCE_LATENCY.spec();
        let mut shape = crate::store::table::shape(spec);
        shape.bounds = bounds;
        BenchHistogram(HistogramCell::new(shape))
    }

    /// Observes `value`.
    #[inline]
    pub fn observe(&self, value: f64) {
        self.0.observe(value);
    }

    /// Observations counted (the native count where there are native buckets).
    pub fn count(&self) -> u64 {
        let s = self.0.snapshot(false, true);
        s.native
            .map_or(s.cumulative.last().copied().unwrap_or(0), |n| n.count())
    }
}

/// The `target = …` argument.
#[diagnostic::on_unimplemented(
    message = "`target = …` must be a `photon_metrics::labels::Target`, not `{Self}`",
    label = "expected a `Target`",
    note = "create it once with `Target::new(\"…\")?` and pass it around: it is `Copy`"
)]
pub trait TargetArg {
    /// The label value.
    fn target(&self) -> Target;
}

impl TargetArg for Target {
    fn target(&self) -> Target {
        *self
    }
}

impl<T: TargetArg + ?Sized> TargetArg for &T {
    fn target(&self) -> Target {
        (**self).target()
    }
}

/// Type-checks and reads `target = …`.
#[inline]
pub fn target_arg<T: TargetArg + ?Sized>(t: &T) -> Target {
    t.target()
}

/// The `model = …` argument.
#[diagnostic::on_unimplemented(
    message = "`model = …` must implement `photon_metrics::ModelInfo`; `{Self}` does not",
    label = "no `ModelInfo` for this type",
    note = "derive it: #[derive(photon_metrics::ModelInfo)] with fields marked #[model(id)], #[model(model_type)], #[model(parameters)]"
)]
pub trait ModelArg {
    /// The model.
    fn model(&self) -> &dyn ModelInfo;
}

impl<M: ModelInfo> ModelArg for M {
    fn model(&self) -> &dyn ModelInfo {
        self
    }
}

/// Type-checks and reads `model = …`.
#[inline]
pub fn model_arg<M: ModelArg>(m: &M) -> &dyn ModelInfo {
    m.model()
}

/// The `device = …` argument.
#[diagnostic::on_unimplemented(
    message = "`device = …` must be a `photon_metrics::labels::DeviceType`, not `{Self}`",
    label = "expected a `DeviceType`"
)]
pub trait DeviceArg {
    /// The label value.
    fn device(&self) -> DeviceType;
}

impl DeviceArg for DeviceType {
    fn device(&self) -> DeviceType {
        *self
    }
}

impl<T: DeviceArg + ?Sized> DeviceArg for &T {
    fn device(&self) -> DeviceType {
        (**self).device()
    }
}

/// Type-checks and reads `device = …`.
#[inline]
pub fn device_arg<T: DeviceArg + ?Sized>(t: &T) -> DeviceType {
    t.device()
}

/// Type-checks and reads `ops = …` (any unsigned integer).
#[inline]
pub fn ops_arg<T: ToParameters + ?Sized>(t: &T) -> u64 {
    t.to_parameters()
}

/// Builds the future a sync fn returns, with its output type fixed before
/// the body is type-checked (so `?` in the user's async blocks infers as it
/// does in their own function). Opaque, so that a body that builds no
/// future is one error at the body, not a second one at the `.await`.
#[inline(always)]
pub fn build_future<F: std::future::Future<Output = O>, O>(
    built: F,
) -> impl std::future::Future<Output = O> {
    built
}

/// `#[derive(ErrorClass)]`'s interning, with `__overflow__` past the cap.
pub fn error_kind_named(name: &str) -> ErrorKind {
    ErrorKind::new(name).unwrap_or(ErrorKind::OVERFLOW)
}

/// Marks a span failed the way OpenTelemetry backends read it.
pub fn mark_span_error(span: &tracing::Span, kind: ErrorKind, description: &str) {
    span.record("error_kind", &*kind.as_str());
    span.record("otel.status_code", "ERROR");
    span.record("otel.status_description", description);
}

// Outcome classification by autoref specialisation: `(&result).__photon_err()`
// resolves to `ViaResult` when the result is a `Result` (receiver `&Result`),
// else to `ViaOther` (receiver `&&X`).

/// A `Result`'s error, if any.
pub trait ViaResult {
    /// The error type.
    type Error;
    /// The error, if this is an `Err`.
    fn __photon_err(&self) -> Option<&Self::Error>;
}

impl<T, E> ViaResult for Result<T, E> {
    type Error = E;
    #[inline]
    fn __photon_err(&self) -> Option<&E> {
        self.as_ref().err()
    }
}

/// Any other return type: never an error.
pub trait ViaOther {
    /// Always `None`.
    fn __photon_err(&self) -> Option<&Infallible>;
}

impl<X: ?Sized> ViaOther for &X {
    #[inline]
    fn __photon_err(&self) -> Option<&Infallible> {
        None
    }
}

// `error.__photon_kind()` with `error: &E`: `KindViaClass` (receiver `&E`)
// when `E: ErrorClass`, else `KindViaType` (receiver `&&E`).

/// Kind from [`ErrorClass`].
pub trait KindViaClass {
    /// The kind.
    fn __photon_kind(&self) -> ErrorKind;
}

impl<E: ErrorClass + ?Sized> KindViaClass for E {
    #[inline]
    fn __photon_kind(&self) -> ErrorKind {
        self.error_kind()
    }
}

/// Kind from the type's path.
pub trait KindViaType {
    /// The kind.
    fn __photon_kind(&self) -> ErrorKind;
}

impl<E: ?Sized> KindViaType for &E {
    fn __photon_kind(&self) -> ErrorKind {
        type_error_kind::<E>()
    }
}

/// Description from `Display`.
pub trait DescViaDisplay {
    /// The description.
    fn __photon_desc(&self) -> String;
}

impl<E: fmt::Display + ?Sized> DescViaDisplay for E {
    fn __photon_desc(&self) -> String {
        self.to_string()
    }
}

/// Description from the kind, for errors without `Display`.
pub trait DescViaKind {
    /// The description.
    fn __photon_desc(&self) -> String;
}

impl<E: ?Sized> DescViaKind for &E {
    fn __photon_desc(&self) -> String {
        type_error_kind::<E>().as_str().to_string()
    }
}
