use photon_metrics::labels::Target;
use photon_metrics::{instrument_compile, ModelInfo};
use std::future::Future;

#[derive(ModelInfo)]
struct Model {
    #[model(id)]
    id: String,
    #[model(model_type)]
    kind: String,
    #[model(parameters)]
    params: u64,
}

// Declared to return a future, but the body returns its output.
#[instrument_compile(target = target, model = model)]
fn compile(target: Target, model: &Model) -> impl Future<Output = u64> {
    model.params
}

fn main() {}
