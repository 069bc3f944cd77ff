use photon_metrics::ErrorClass;

#[derive(Debug, ErrorClass)]
struct Timeout {
    after_ms: u64,
}

fn main() {}
