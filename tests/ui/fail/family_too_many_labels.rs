use photon_metrics::labels::{DeviceType, ModelSize, Status, Target};
photon_metrics::family! {
    /// Too many labels.
    #[family(name = "app_wide_total")]
    static WIDE: Counter<(Target, Status, ModelSize, DeviceType)>;
}
fn main() {}
