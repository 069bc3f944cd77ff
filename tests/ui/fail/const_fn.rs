use photon_metrics::instrument_inference;

#[instrument_inference(device = photon_metrics::labels::DeviceType::Mzi)]
const fn f() -> u32 {
    1
}

fn main() {}
