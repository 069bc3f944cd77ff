use photon_metrics::instrument_inference;

#[instrument_inference(device = photon_metrics::labels::DeviceType::Mzi, level = "verbose")]
fn f() {}

fn main() {}
