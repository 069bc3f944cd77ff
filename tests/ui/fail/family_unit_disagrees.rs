photon_metrics::family! {
    /// Queue wait.
    #[family(name = "app_queue_wait_seconds", unit = bytes, buckets = [0.1, 1.0])]
    static WAIT: Histogram<()>;
}
fn main() {}
