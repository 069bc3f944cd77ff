#[derive(photon_metrics::Label, Clone, Copy)]
#[label(name = "target", cap = 10)]
struct MyTarget(photon_metrics::labels::OpenValue);
fn main() {}
