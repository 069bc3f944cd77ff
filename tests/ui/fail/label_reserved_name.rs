#[derive(photon_metrics::Label, Clone, Copy)]
#[label(name = "le")]
enum Bound { Low, High }
fn main() {}
