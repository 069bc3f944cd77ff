photon_metrics::family! {
    /// Cache size.
    #[family(name = "app_cache_size_bytes")]
    static CACHE: Gauge<()>;
}
fn main() {}
