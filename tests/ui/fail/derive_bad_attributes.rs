use photon_metrics::{ErrorClass, ModelInfo};

#[derive(ModelInfo)]
struct Typo {
    #[model(idd)]
    id: String,
}

#[derive(ModelInfo)]
struct Incomplete {
    #[model(id)]
    id: String,
    #[model(parameters)]
    params: u64,
}

#[derive(ErrorClass)]
enum E {
    #[error_kind(rename = "")]
    Empty,
    #[error_kind(name = "x")]
    Unknown,
}

fn main() {}
