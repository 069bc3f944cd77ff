//! The documented memory bound of a family is what the store allocates for
//! it, measured with a counting global allocator (its own test binary, so
//! nothing else allocates meanwhile): a small histogram family pays for whole
//! chunks of 64 cells, and the bound must say so.

use photon_metrics::catalog::family;
use photon_metrics::compiler;
use photon_metrics::export::prometheus::{max_memory_bytes, PrometheusExporterBuilder};
use photon_metrics::labels::{Target, MAX_VALUE_LEN};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

struct Counting;

static NET: AtomicIsize = AtomicIsize::new(0);

// SAFETY: both methods hand the layout and pointer to `System` unchanged, so
// this allocator keeps `System`'s guarantees; counting is an atomic add,
// which allocates nothing.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        NET.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        NET.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The 32nd value of a 5-bit pattern of backslashes and quotes: 128 bytes
/// that escape to 256, the longest label text a series can have.
fn longest_value(i: usize) -> String {
    (0..MAX_VALUE_LEN)
        .map(|j| if (i >> (j % 5)) & 1 == 1 { '\\' } else { '"' })
        .collect()
}

#[test]
fn a_full_histogram_family_allocates_at_most_its_documented_bound() {
    let spec = family("photon_compilation_duration_seconds").unwrap();
    let bound = max_memory_bytes(spec);
    let exporter = PrometheusExporterBuilder::new()
        .without_listener()
        .process_metrics(false)
        .install()
        .unwrap();
    // Interned before measuring: the interner is not the store.
    let mut targets: Vec<Target> = (0..32)
        .map(|i| Target::new(&longest_value(i)).unwrap())
        .collect();
    targets.push(Target::new("one too many").unwrap());
    assert!(targets[32].is_overflow());
    assert_eq!(spec.max_series(), targets.len() * 2);

    // The worst case the bound assumes for native buckets: values of
    // every magnitude above the zero bucket, both signs, infinities too,
    // one per octave (a chunk of native buckets spans several).
    let native = spec.native.unwrap();
    let mut values: Vec<f64> = (-1074..=1023)
        .map(|e: i32| 2f64.powi(e))
        .filter(|v| *v > native.zero_threshold)
        .collect();
    values.push(f64::INFINITY);
    let negative: Vec<f64> = values.iter().map(|v| -v).collect();
    values.extend(negative);
    let before = NET.load(Ordering::Relaxed);
    for target in &targets {
        for parameters in [1, 1_000_000_000] {
            for v in &values {
                compiler::observe_compilation_duration(*target, parameters, *v);
            }
        }
    }
    let allocated = (NET.load(Ordering::Relaxed) - before) as usize;
    assert!(
        allocated <= bound,
        "every series of {} allocated {allocated} bytes, the bound says {bound}",
        spec.name
    );
    // And the bound is loose by no more than the label text it assumes at its
    // longest (each label's name, `=""`, a comma and 256 escaped bytes) and
    // the text the series really have, read back from the exposition.
    let text = exporter.render();
    let longest: usize = spec
        .labels
        .iter()
        .map(|l| l.as_str().len() + 4 + 2 * MAX_VALUE_LEN)
        .sum();
    let prefix = format!("{}_count{{", spec.name);
    let texts: Vec<usize> = text
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(|rest| rest.rfind('}').unwrap())
        .collect();
    assert_eq!(texts.len(), spec.max_series(), "every series exists");
    let text_slack: usize = texts.iter().map(|t| longest - t).sum();
    // The bound also counts each series' entry in the table's B-tree of
    // label texts twice (a node is at least half full); a fuller tree uses
    // up to one entry less per series: the index and the series' label
    // text, protobuf pairs (two boxed slices) and start time.
    let entry = std::mem::size_of::<(usize, Box<str>, Box<[u8]>, u64)>();
    let map_slack = spec.max_series() * entry;
    // The protobuf label pairs: the bound assumes each label's name, its
    // longest value and 9 bytes of tags and lengths; what each takes is its
    // name, its value and a byte for each tag and length under 128.
    let varint = |n: usize| if n < 128 { 1 } else { 2 };
    let pair = |name: &str, value: usize| {
        let inner = 2 + varint(name.len()) + name.len() + varint(value) + value;
        1 + varint(inner) + inner
    };
    let pairs_slack: usize = targets
        .iter()
        .flat_map(|t| {
            let target = t.as_str().len();
            ["small", "large"].map(move |size| (target, size.len()))
        })
        .map(|(target, size)| {
            (("target".len() + MAX_VALUE_LEN + 9) - pair("target", target))
                + (("model_size".len() + MAX_VALUE_LEN + 9) - pair("model_size", size))
        })
        .sum();
    let slack = text_slack + map_slack + pairs_slack;
    assert!(
        bound - allocated <= slack,
        "bound {bound}, allocated {allocated}: looser than the label text's slack {slack}"
    );
    eprintln!(
        "{}: allocated {allocated} bytes, bound {bound}, text slack {slack}",
        spec.name
    );
}
