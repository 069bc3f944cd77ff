//! Closed label sets: enums whose every value is known at compile time.
//! The catalog's are declared with [`derive(Label)`](crate::Label), as an
//! application's are; a variant's value is its name in `snake_case`.

use crate::Label;

/// A label whose values form a closed set known at compile time.
pub trait ClosedLabel: Copy + 'static {
    /// The label name as exported.
    const NAME: &'static str;
    /// Every value, in slot order.
    const VALUES: &'static [&'static str];
    /// This value's slot (its index in [`VALUES`](Self::VALUES)).
    fn slot(self) -> usize;
}

/// The outcome of a compilation (`status` label).
///
/// Complete by construction (a compilation returns, fails, panics or is
/// dropped), so not `#[non_exhaustive]`: match it without a wildcard.
#[derive(Label, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[label(name = "status")]
pub enum Status {
    /// The compiler returned `Ok`.
    Success,
    /// The compiler returned `Err`; `photon_compilation_errors_total` says which kind.
    Error,
    /// The compiler panicked; the panic kept unwinding after it was counted.
    Panic,
    /// The compilation future was dropped before it finished.
    Cancelled,
}

/// Model size class (`model_size` label), derived from a parameter count
/// by [`ModelSize::from_parameters`], never typed by hand.
///
/// Not `#[non_exhaustive]`: another class would move existing models'
/// series to new label values, a breaking change with or without it.
#[derive(Label, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[label(name = "model_size")]
pub enum ModelSize {
    /// At most [`ModelSize::LARGE_ABOVE`] parameters.
    Small,
    /// More than [`ModelSize::LARGE_ABOVE`] parameters.
    Large,
}

impl ModelSize {
    /// Models with more parameters than this are `large`.
    pub const LARGE_ABOVE: u64 = 100_000;

    /// Classifies a model by its parameter count.
    ///
    /// ```
    /// use photon_metrics::labels::ModelSize;
    /// assert_eq!(ModelSize::from_parameters(100_000), ModelSize::Small);
    /// assert_eq!(ModelSize::from_parameters(100_001), ModelSize::Large);
    /// ```
    #[inline]
    pub const fn from_parameters(parameters: u64) -> Self {
        if parameters > Self::LARGE_ABOVE {
            ModelSize::Large
        } else {
            ModelSize::Small
        }
    }
}

/// Which memory figure a `photon_memory_usage_bytes` series holds (`memory` label).
/// Other figures may come (a limit, say): a `match` needs a wildcard arm.
#[non_exhaustive]
#[derive(Label, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[label(name = "memory")]
pub enum MemoryStat {
    /// Resident memory right now.
    Current,
    /// The high-water mark of the most recent compilation.
    Peak,
}

/// The photonic device technology (`device_type` label).
///
/// A closed set: only this crate adds a technology, in a release, which
/// keeps dashboards and alerts in step with what can be emitted. It will
/// grow as hardware does, so a `match` on it needs a wildcard arm.
#[non_exhaustive]
#[derive(Label, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[label(name = "device_type")]
pub enum DeviceType {
    /// Mach–Zehnder interferometer mesh.
    Mzi,
    /// Micro-ring resonator weight bank.
    Microring,
    /// Phase-change-material crossbar.
    Pcm,
    /// Photonic–electronic hybrid accelerator.
    Hybrid,
    /// A software simulator standing in for hardware.
    Simulator,
}

/// Why a span never reached the collector (`reason` label on
/// `photon_otlp_spans_dropped_total`). More reasons may come.
#[non_exhaustive]
#[derive(Label, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[label(name = "reason")]
pub enum DropReason {
    /// The export queue was full: the collector is slower than the application.
    QueueFull,
    /// The collector was unreachable or refused the batch.
    ExportFailed,
}
