use photon_metrics::instrument_compile;

#[instrument_compile(target = t, model = m, modle_size = 3)]
fn f(t: photon_metrics::labels::Target, m: &str) {}

fn main() {}
