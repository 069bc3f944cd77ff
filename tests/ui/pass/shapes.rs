//! Every function shape the attributes accept, with doc comments, visibility
//! and other attributes kept.
#![deny(warnings)]

use photon_metrics::labels::{DeviceType, Target};
use photon_metrics::{instrument_compile, instrument_inference, ErrorClass, ModelInfo};

#[derive(ModelInfo)]
pub struct Model(#[model(id)] String, #[model(model_type)] String, #[model(parameters)] usize);

#[derive(Debug, ErrorClass)]
#[error_kind(rename = "Opaque")]
pub struct Opaque;

pub struct Compiler {
    target: Target,
}

impl Compiler {
    /// Documented, public, inlined: all kept.
    #[inline]
    #[instrument_compile(target = self.target, model = model)]
    pub fn by_ref(&self, model: &Model) -> Result<impl Iterator<Item = u8>, Opaque> {
        Ok(model.0.clone().into_bytes().into_iter())
    }

    #[instrument_compile(target = self.target, model = &model, level = "trace")]
    pub(crate) async fn by_value(self, model: Model) -> usize {
        model.2
    }
}

#[instrument_compile(target = *target, model = model)]
fn generic<'a, M>(target: &Target, model: &'a M) -> Result<&'a M, std::fmt::Error>
where
    M: photon_metrics::ModelInfo,
{
    Ok(model)
}

#[instrument_inference(device = DeviceType::Hybrid, ops = n)]
unsafe fn raw(n: u32) -> u32 {
    n
}

/// A sync fn that returns a future: the future is instrumented.
#[instrument_compile(target = target, model = model)]
pub fn later<'a>(
    target: Target,
    model: &'a Model,
) -> impl std::future::Future<Output = Result<usize, Opaque>> + Send + 'a {
    async move { Ok(model.2) }
}

#[instrument_inference(device = DeviceType::Mzi)]
fn boxed(
    n: u32,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<u32, std::io::Error>> + Send>> {
    let doubled = n * 2;
    Box::pin(async move { Ok(doubled) })
}

fn main() {
    let t = Target::new("sim").unwrap();
    let model = Model("m".into(), "cnn".into(), 3);
    let c = Compiler { target: t };
    assert_eq!(c.by_ref(&model).unwrap().count(), 1);
    assert!(generic(&t, &model).is_ok());
    assert_eq!(unsafe { raw(2) }, 2);
    drop(later(t, &model));
    let _boxed = boxed(3);
    let _future = c.by_value(model);
}
