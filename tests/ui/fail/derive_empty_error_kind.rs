use photon_metrics::ErrorClass;

#[derive(Debug, ErrorClass)]
enum E {
    #[error_kind(rename = "")]
    Empty,
}

fn main() {}
