#[derive(photon_metrics::Label, Clone, Copy)]
#[label(name = "tenant", cap = 100000)]
struct Tenant(photon_metrics::labels::OpenValue);
fn main() {}
