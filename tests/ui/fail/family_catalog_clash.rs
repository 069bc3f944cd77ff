photon_metrics::family! {
    /// Compilations, again.
    #[family(name = "photon_compilations_total")]
    static MINE: Counter<()>;
}
fn main() {}
