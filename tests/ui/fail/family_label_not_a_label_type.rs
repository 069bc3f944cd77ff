photon_metrics::family! {
    /// Kernels by name.
    #[family(name = "app_kernel_launches_total")]
    static KERNELS: Counter<(String,)>;
}
fn main() {}
