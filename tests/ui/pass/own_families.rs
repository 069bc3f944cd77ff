use photon_metrics::labels::{OpenValue, Status, Target};
use photon_metrics::{family, Label};

#[derive(Label, Clone, Copy, Debug, PartialEq, Eq)]
#[label(name = "dialect")]
enum Dialect {
    Linalg,
    Tosa,
}

#[derive(Label, Clone, Copy, PartialEq, Eq, Hash)]
#[label(name = "tenant", cap = 100, idle_expiry_secs = 3600)]
pub struct Tenant(OpenValue);

family! {
    /// Kernels launched, by dialect, tenant and outcome.
    #[family(name = "app_kernel_launches_total", unit = count)]
    pub static KERNELS: Counter<(Dialect, Tenant, Status)>;

    /// Queue wait, by dialect and target.
    #[family(name = "app_queue_wait_seconds", unit = seconds, buckets = [0.001, 0.01, 0.1],
             native(schema = 3, max_buckets = 100), query = "max(app_queue_wait_seconds_count)")]
    pub(crate) static QUEUE_WAIT: Histogram<(Dialect, Target)>;

    /// Bytes in the kernel cache.
    #[family(name = "app_kernel_cache_bytes", unit = bytes)]
    static CACHE: Gauge<()>;
}

fn main() {
    KERNELS.inc((Dialect::Tosa, Tenant::new("acme").unwrap(), Status::Success));
    QUEUE_WAIT.observe((Dialect::Linalg, Target::new("mzi").unwrap()), 0.01);
    CACHE.set((), 1024.0);
}
