//! Closed label sets: enums whose every value is known at compile time.

use super::{LabelError, OpenDef};
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

/// The open (interned, capped) labels: the catalog's six, and every open
/// label an application declares with [`derive(Label)`](crate::Label); also
/// the values of the self-monitoring `label` label on
/// `photon_metrics_label_overflow_total` and its siblings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OpenLabel {
    /// [`Target`](super::Target).
    Target,
    /// [`ModelType`](super::ModelType).
    ModelType,
    /// [`ErrorKind`](super::ErrorKind).
    ErrorKind,
    /// [`DeviceId`](super::DeviceId).
    DeviceId,
    /// [`Location`](super::Location).
    Location,
    /// [`Pass`](super::Pass).
    Pass,
    /// An application's open label, declared with [`derive(Label)`](crate::Label).
    Own(&'static OpenDef),
}

impl OpenLabel {
    /// The catalog's open labels, in slot order.
    pub const ALL: &'static [OpenLabel] = &[
        OpenLabel::Target,
        OpenLabel::ModelType,
        OpenLabel::ErrorKind,
        OpenLabel::DeviceId,
        OpenLabel::Location,
        OpenLabel::Pass,
    ];

    /// The label's name as exported (also its value in the `label` label).
    pub const fn as_str(self) -> &'static str {
        match self {
            OpenLabel::Target => "target",
            OpenLabel::ModelType => "model_type",
            OpenLabel::ErrorKind => "error_kind",
            OpenLabel::DeviceId => "device_id",
            OpenLabel::Location => "location",
            OpenLabel::Pass => "pass",
            OpenLabel::Own(def) => def.name(),
        }
    }
}

impl ClosedLabel for OpenLabel {
    const NAME: &'static str = "label";
    const VALUES: &'static [&'static str] = &[
        "target",
        "model_type",
        "error_kind",
        "device_id",
        "location",
        "pass",
    ];
    /// The catalog's labels by their order; an application's after them,
    /// in the order they were first used (see [`OpenDef`]).
    #[inline]
    fn slot(self) -> usize {
        match self {
            OpenLabel::Target => 0,
            OpenLabel::ModelType => 1,
            OpenLabel::ErrorKind => 2,
            OpenLabel::DeviceId => 3,
            OpenLabel::Location => 4,
            OpenLabel::Pass => 5,
            OpenLabel::Own(def) => Self::VALUES.len() + def.index(),
        }
    }
}

impl fmt::Display for OpenLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OpenLabel {
    type Err = LabelError;

    /// The catalog's open labels and every application label in use.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OpenLabel::ALL
            .iter()
            .copied()
            .chain(super::open::own_labels())
            .find(|v| v.as_str() == s)
            .ok_or_else(|| LabelError::UnknownVariant {
                label: "label",
                value: s.to_string(),
                expected: <OpenLabel as ClosedLabel>::VALUES.join(", "),
            })
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
