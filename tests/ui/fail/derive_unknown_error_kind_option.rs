use photon_metrics::ErrorClass;

#[derive(Debug, ErrorClass)]
enum E {
    #[error_kind(name = "x")]
    Unknown,
}

fn main() {}
