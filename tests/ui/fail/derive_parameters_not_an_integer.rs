use photon_metrics::ModelInfo;

#[derive(ModelInfo)]
struct Model {
    #[model(id)]
    id: String,
    #[model(model_type)]
    arch: String,
    #[model(parameters)]
    params: f64,
}

fn main() {}
