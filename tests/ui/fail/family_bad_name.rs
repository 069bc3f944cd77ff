photon_metrics::family! {
    /// Kernels launched.
    #[family(name = "app kernel-launches_total")]
    static KERNELS: Counter<()>;
}
fn main() {}
