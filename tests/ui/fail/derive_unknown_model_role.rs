use photon_metrics::ModelInfo;

#[derive(ModelInfo)]
struct Typo {
    #[model(idd)]
    id: String,
    #[model(model_type)]
    arch: String,
    #[model(parameters)]
    params: u64,
}

fn main() {}
