#[derive(photon_metrics::Label, Clone, Copy)]
#[label(name = "tier")]
enum Tier { Free, #[label(value = "free")] Trial }
fn main() {}
