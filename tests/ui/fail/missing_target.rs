use photon_metrics::instrument_compile;

#[instrument_compile(model = m)]
fn f(m: &str) {}

fn main() {}
