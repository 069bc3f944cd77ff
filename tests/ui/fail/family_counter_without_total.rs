photon_metrics::family! {
    /// Kernels launched.
    #[family(name = "app_kernel_launches")]
    static KERNELS: Counter<()>;
}
fn main() {}
