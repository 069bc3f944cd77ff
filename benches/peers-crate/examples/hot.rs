//! N records of one row by one contender, for instruction counts under
//! callgrind: two runs (N and 2N) differ by exactly N records, so
//! `(Ir(2N) - Ir(N)) / N` is the instructions of one record (loop included;
//! the `empty` contender of each row is the loop alone).
//!
//! ```text
//! cargo build --release --example hot
//! target/release/examples/hot list
//! for n in 2000000 4000000; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/hot counter photon_family $n 2>&1 | grep refs
//! done
//! ```
//!
//! Each contender has its own monomorphised loop ([`run`]), so its record
//! is inlined into the loop as far as its library allows across crates,
//! as in a user's loop.

use photon_peers_crate::contenders;
use std::hint::black_box;
use std::sync::atomic::Ordering;

const ROWS: &[(&str, &[&str])] = &[
    (
        "counter",
        &[
            "photon_family",
            "photon_catalog",
            "photon_facade",
            "prometheus_client",
            "fastmetrics",
            "tikv_prometheus",
            "measured",
            "atomic_floor",
            "empty",
        ],
    ),
    (
        "gauge_set",
        &[
            "photon_family",
            "photon_facade",
            "prometheus_client",
            "fastmetrics",
            "tikv_prometheus",
            "measured",
            "atomic_floor",
            "empty",
        ],
    ),
    (
        "int_gauge_add",
        &[
            "photon_catalog",
            "prometheus_client",
            "fastmetrics",
            "tikv_prometheus",
            "measured",
            "atomic_floor",
            "empty",
        ],
    ),
    (
        "histogram",
        &[
            "photon_family",
            "photon_facade",
            "prometheus_client",
            "fastmetrics",
            "tikv_prometheus",
            "measured",
            "empty",
        ],
    ),
];

/// `n` calls of `record`: one loop per contender, never inlined into
/// `main`, so its instructions are the record and the loop's own.
#[inline(never)]
fn run(n: u64, record: impl Fn()) {
    for _ in 0..n {
        record();
    }
}

fn usage() -> ! {
    eprintln!("usage: hot <row> <contender> <N>   |   hot list");
    for (row, names) in ROWS {
        eprintln!("  {row}: {}", names.join(" "));
    }
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("list") {
        for (row, names) in ROWS {
            for name in *names {
                println!("{row} {name}");
            }
        }
        return;
    }
    let [row, who, n] = &args[..] else { usage() };
    let n: u64 = n.parse().unwrap_or_else(|_| usage());
    if !ROWS
        .iter()
        .any(|(r, names)| r == row && names.contains(&who.as_str()))
    {
        usage()
    }
    let all = contenders();
    let (c, g, i, h) = (&all.counters, &all.gauges, &all.int_gauges, &all.histograms);
    match (row.as_str(), who.as_str()) {
        ("counter", "photon_family") => run(n, || black_box(&c.photon_family).inc()),
        ("counter", "photon_catalog") => run(n, || black_box(&c.photon_catalog).inc()),
        ("counter", "photon_facade") => run(n, || black_box(&c.photon_facade).increment(1)),
        ("counter", "prometheus_client") => run(n, || {
            black_box(&c.prometheus_client).inc();
        }),
        ("counter", "fastmetrics") => run(n, || black_box(&c.fastmetrics).inc()),
        ("counter", "tikv_prometheus") => run(n, || black_box(&c.tikv).inc()),
        ("counter", "measured") => run(n, || black_box(&c.measured).inc()),
        ("counter", "atomic_floor") => run(n, || {
            black_box(&c.atomic).fetch_add(1, Ordering::Relaxed);
        }),

        ("gauge_set", "photon_family") => {
            run(n, || black_box(&g.photon_family).set(black_box(1.5)))
        }
        ("gauge_set", "photon_facade") => {
            run(n, || black_box(&g.photon_facade).set(black_box(1.5)))
        }
        ("gauge_set", "prometheus_client") => run(n, || {
            black_box(&g.prometheus_client).set(black_box(1.5));
        }),
        ("gauge_set", "fastmetrics") => run(n, || black_box(&g.fastmetrics).set(black_box(1.5))),
        ("gauge_set", "tikv_prometheus") => run(n, || black_box(&g.tikv).set(black_box(1.5))),
        ("gauge_set", "measured") => run(n, || black_box(&g.measured).set(black_box(1.5))),
        ("gauge_set", "atomic_floor") => run(n, || {
            black_box(&g.atomic).store(black_box(1.5f64).to_bits(), Ordering::Relaxed)
        }),

        ("int_gauge_add", "photon_catalog") => {
            run(n, || black_box(&i.photon_catalog).add(black_box(1)))
        }
        ("int_gauge_add", "prometheus_client") => run(n, || {
            black_box(&i.prometheus_client).inc_by(black_box(1));
        }),
        ("int_gauge_add", "fastmetrics") => {
            run(n, || black_box(&i.fastmetrics).inc_by(black_box(1)))
        }
        ("int_gauge_add", "tikv_prometheus") => run(n, || black_box(&i.tikv).add(black_box(1))),
        ("int_gauge_add", "measured") => run(n, || black_box(&i.measured).inc_by(black_box(1))),
        ("int_gauge_add", "atomic_floor") => run(n, || {
            black_box(&i.atomic).fetch_add(black_box(1i64) as u64, Ordering::Relaxed);
        }),

        ("histogram", "photon_family") => {
            run(n, || black_box(&h.photon_family).observe(black_box(1.5)))
        }
        ("histogram", "photon_facade") => {
            run(n, || black_box(&h.photon_facade).record(black_box(1.5)))
        }
        ("histogram", "prometheus_client") => run(n, || {
            black_box(&h.prometheus_client).observe(black_box(1.5))
        }),
        ("histogram", "fastmetrics") => {
            run(n, || black_box(&h.fastmetrics).observe(black_box(1.5)))
        }
        ("histogram", "tikv_prometheus") => run(n, || black_box(&h.tikv).observe(black_box(1.5))),
        ("histogram", "measured") => run(n, || black_box(&h.measured).observe(black_box(1.5))),

        (_, "empty") => run(n, || {
            black_box(());
        }),
        _ => usage(),
    }
}
