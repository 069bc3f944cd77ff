//! What the compiler macros need to know about a model.

use crate::labels::ModelType;
use std::fmt;

/// A model being compiled: its architecture (the `model_type` label), its id
/// (a span field only, never a metric label: ids are unbounded) and its
/// parameter count (which decides the `model_size` label).
///
/// Derive it with [`#[derive(ModelInfo)]`](macro@crate::ModelInfo):
///
/// ```
/// use photon_metrics::ModelInfo;
/// use photon_metrics::labels::ModelType;
///
/// #[derive(ModelInfo)]
/// struct Model {
///     #[model(id)]
///     name: String,
///     #[model(model_type)]
///     arch: ModelType,
///     #[model(parameters)]
///     params: u64,
/// }
///
/// let m = Model { name: "resnet50-v1.5".into(), arch: ModelType::new("resnet").unwrap(), params: 25_600_000 };
/// assert_eq!(m.parameters(), 25_600_000);
/// assert_eq!(m.model_id().to_string(), "resnet50-v1.5");
/// ```
pub trait ModelInfo {
    /// The architecture, exported as `model_type`.
    fn model_type(&self) -> ModelType;
    /// The model's id, recorded on spans as `model_id`.
    fn model_id(&self) -> &dyn fmt::Display;
    /// The parameter count; above 100,000 the model is `large`.
    fn parameters(&self) -> u64;
}

impl<M: ModelInfo + ?Sized> ModelInfo for &M {
    fn model_type(&self) -> ModelType {
        (**self).model_type()
    }
    fn model_id(&self) -> &dyn fmt::Display {
        (**self).model_id()
    }
    fn parameters(&self) -> u64 {
        (**self).parameters()
    }
}

/// Conversions the `#[model(model_type)]` field of the derive accepts: a
/// [`ModelType`] (free) or text (interned on every call; a value that is not a
/// valid label becomes `__overflow__`).
pub trait ToModelType {
    /// The `model_type` label value.
    fn to_model_type(&self) -> ModelType;
}

impl ToModelType for ModelType {
    fn to_model_type(&self) -> ModelType {
        *self
    }
}

impl ToModelType for str {
    fn to_model_type(&self) -> ModelType {
        ModelType::new(self).unwrap_or(ModelType::OVERFLOW)
    }
}

impl ToModelType for String {
    fn to_model_type(&self) -> ModelType {
        self.as_str().to_model_type()
    }
}

impl<T: ToModelType + ?Sized> ToModelType for &T {
    fn to_model_type(&self) -> ModelType {
        (**self).to_model_type()
    }
}

/// Conversions the `#[model(parameters)]` field of the derive accepts: any
/// integer type. A negative count is read as 0 and a count beyond `u64` as
/// `u64::MAX`.
#[diagnostic::on_unimplemented(
    message = "`#[model(parameters)]` must be an integer, not `{Self}`",
    label = "not an integer type",
    note = "use any integer type (u64 is typical); a negative count is read as 0"
)]
pub trait ToParameters {
    /// The parameter count.
    fn to_parameters(&self) -> u64;
}

macro_rules! to_parameters {
    ($($t:ty),*) => {$(
        impl ToParameters for $t {
            fn to_parameters(&self) -> u64 {
                match u64::try_from(*self) {
                    Ok(n) => n,
                    Err(_) if *self > 0 => u64::MAX,
                    Err(_) => 0,
                }
            }
        }
    )*};
}
to_parameters!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize);

#[cfg(test)]
mod parameter_tests {
    use super::ToParameters;

    #[test]
    fn any_integer_is_a_parameter_count_and_negatives_are_zero() {
        assert_eq!(25_600_000u64.to_parameters(), 25_600_000);
        assert_eq!(7i16.to_parameters(), 7);
        assert_eq!((-5i32).to_parameters(), 0, "not u64::MAX");
        assert_eq!(i8::MIN.to_parameters(), 0);
        assert_eq!(u128::MAX.to_parameters(), u64::MAX);
        assert_eq!(3isize.to_parameters(), 3);
    }
}
