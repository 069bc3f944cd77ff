use photon_metrics::ModelInfo;

#[derive(ModelInfo)]
struct Incomplete {
    #[model(id)]
    id: String,
    #[model(parameters)]
    params: u64,
}

fn main() {}
