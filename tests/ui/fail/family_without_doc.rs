photon_metrics::family! {
    #[family(name = "app_kernel_launches_total")]
    static KERNELS: Counter<()>;
}
fn main() {}
