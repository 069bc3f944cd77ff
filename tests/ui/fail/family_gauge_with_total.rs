photon_metrics::family! {
    /// Kernels waiting.
    #[family(name = "app_kernels_waiting_total")]
    static WAITING: Gauge<()>;
}
fn main() {}
