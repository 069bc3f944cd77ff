#[derive(photon_metrics::Label, Clone, Copy)]
#[label(name = "tenant", cap = 10)]
struct Tenant { raw: u32 }
fn main() {}
