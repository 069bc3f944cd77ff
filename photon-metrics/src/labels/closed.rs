//! Closed label sets: enums whose every value is known at compile time.

use super::LabelError;
use std::fmt;
use std::str::FromStr;

/// A label whose values form a closed set known at compile time.
pub trait ClosedLabel: Copy + 'static {
    /// The label name as exported.
    const NAME: &'static str;
    /// Every value, in slot order.
    const VALUES: &'static [&'static str];
    /// This value's slot (its index in [`VALUES`](Self::VALUES)).
    fn slot(self) -> usize;
}

macro_rules! closed_label {
    ($(#[$meta:meta])* $name:ident, $label:literal { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every variant, in slot order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value as exported.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl ClosedLabel for $name {
            const NAME: &'static str = $label;
            const VALUES: &'static [&'static str] = &[$($text),+];
            #[inline]
            fn slot(self) -> usize {
                self as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = LabelError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| LabelError::UnknownVariant {
                        label: $label,
                        value: s.to_string(),
                        expected: <$name as ClosedLabel>::VALUES.join(", "),
                    })
            }
        }
    };
}

closed_label! {
    /// The outcome of a compilation (`status` label).
    ///
    /// Complete by construction (a compilation returns, fails, panics or is
    /// dropped), so not `#[non_exhaustive]`: match it without a wildcard.
    Status, "status" {
        /// The compiler returned `Ok`.
        Success = "success",
        /// The compiler returned `Err`; `photon_compilation_errors_total` says which kind.
        Error = "error",
        /// The compiler panicked; the panic kept unwinding after it was counted.
        Panic = "panic",
        /// The compilation future was dropped before it finished.
        Cancelled = "cancelled",
    }
}

closed_label! {
    /// Model size class (`model_size` label), derived from a parameter count
    /// by [`ModelSize::from_parameters`], never typed by hand.
    ///
    /// Not `#[non_exhaustive]`: another class would move existing models'
    /// series to new label values, a breaking change with or without it.
    ModelSize, "model_size" {
        /// At most [`ModelSize::LARGE_ABOVE`] parameters.
        Small = "small",
        /// More than [`ModelSize::LARGE_ABOVE`] parameters.
        Large = "large",
    }
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

closed_label! {
    /// Which memory figure a `photon_memory_usage_bytes` series holds (`memory` label).
    /// Other figures may come (a limit, say): a `match` needs a wildcard arm.
    #[non_exhaustive]
    MemoryStat, "memory" {
        /// Resident memory right now.
        Current = "current",
        /// The high-water mark of the most recent compilation.
        Peak = "peak",
    }
}

closed_label! {
    /// The photonic device technology (`device_type` label).
    ///
    /// A closed set: only this crate adds a technology, in a release, which
    /// keeps dashboards and alerts in step with what can be emitted. It will
    /// grow as hardware does, so a `match` on it needs a wildcard arm.
    #[non_exhaustive]
    DeviceType, "device_type" {
        /// Mach–Zehnder interferometer mesh.
        Mzi = "mzi",
        /// Micro-ring resonator weight bank.
        Microring = "microring",
        /// Phase-change-material crossbar.
        Pcm = "pcm",
        /// Photonic–electronic hybrid accelerator.
        Hybrid = "hybrid",
        /// A software simulator standing in for hardware.
        Simulator = "simulator",
    }
}

closed_label! {
    /// Why a span never reached the collector (`reason` label on
    /// `photon_otlp_spans_dropped_total`). More reasons may come.
    #[non_exhaustive]
    DropReason, "reason" {
        /// The export queue was full: the collector is slower than the application.
        QueueFull = "queue_full",
        /// The collector was unreachable or refused the batch.
        ExportFailed = "export_failed",
    }
}
