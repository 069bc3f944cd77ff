use photon_metrics::{instrument_compile, ModelInfo};

#[derive(ModelInfo)]
struct Model {
    #[model(id)]
    id: String,
    #[model(model_type)]
    kind: String,
    #[model(parameters)]
    params: u64,
}

#[instrument_compile(target = target, model = model)]
fn compile(target: &str, model: &Model) {}

fn main() {}
