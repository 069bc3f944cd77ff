use photon_metrics::instrument_inference;

#[instrument_inference(device = photon_metrics::labels::DeviceType::Mzi, device = photon_metrics::labels::DeviceType::Pcm)]
fn f() {}

fn main() {}
