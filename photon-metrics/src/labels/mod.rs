//! Label types: closed sets are enums, open sets are validated, interned,
//! cardinality-capped newtypes.
//!
//! A label value a user can get wrong is never a bare string here.
//! [`Status`], [`ModelSize`], [`MemoryStat`] and [`DeviceType`] are closed
//! enums: a typo does not compile. [`Target`], [`ModelType`], [`ErrorKind`],
//! [`DeviceId`], [`Location`] and [`Pass`] are open sets: each value is validated once,
//! interned, and from then on is a `Copy` index, so recording with it needs no
//! hashing, locking or allocation.
//!
//! Each is declared with [`derive(Label)`](crate::Label), exactly as an
//! application declares its own (`closed.rs`, `values.rs`): adding a label
//! to the catalog is one declaration there, its cap and idle expiry
//! included. Nothing else in the crate lists the labels.
//!
//! # Cardinality caps
//!
//! Every open label has a cap on the number of distinct values it holds at
//! once (its `#[label(cap = …)]`, [`OpenLabel::default_cap`]; change it with [`set_cap`] before
//! the first value of that label is created). Once a label is full, every
//! *new* value maps to the single value `__overflow__`, a warning is logged
//! once for that label, and `photon_metrics_label_overflow_total{label="…"}`
//! counts each folding: every `new()` (or facade record) that asked for a
//! value that did not fit counts once, so one value created twice counts 2. Retiring a value ([`DeviceId::retire`], or idle
//! expiry: [`set_idle_expiry`]) removes its series and frees its slot; see
//! the README's "Series lifecycle". A family's series count is therefore bounded by
//! the product of its labels' slots ([`FamilySpec::max_series`]), so a
//! runaway caller can never take Prometheus down.
//!
//! ```
//! use photon_metrics::labels::{Target, LabelError};
//!
//! let t = Target::new("lightmatter-envise").unwrap();
//! assert_eq!(t.as_str(), "lightmatter-envise");
//! assert_eq!(Target::new(""), Err(LabelError::Empty { label: "target" }));
//! ```
//!
//! # What can reach a label
//!
//! Every label of every catalog family is one of these types, so nothing
//! else can reach one: no error message, file path, model id or other user
//! string becomes a label value except through [`OpenLabel`] values that
//! were validated (non-empty, at most [`MAX_VALUE_LEN`] bytes, never
//! truncated) and counted against their cap. In particular:
//!
//! - an error's `Display` text goes to the span (`otel.status_description`),
//!   never to metrics; its *kind* (the enum variant via
//!   [`ErrorClass`](crate::ErrorClass), or the error type's path) is an
//!   [`ErrorKind`];
//! - a model's id goes to the span (`model_id`), never to metrics; its
//!   architecture is a capped [`ModelType`];
//! - global labels are set by the application's code at install.
//!
//! Series recorded through the `metrics` facade under names outside the
//! catalog carry whatever labels their caller gives; photon escapes them
//! exactly but cannot bound them.
//!
//! [`FamilySpec::max_series`]: crate::catalog::FamilySpec::max_series

mod closed;
mod error;
mod name;
mod open;
mod raw;
mod set;
mod settings;
mod text;
mod values;

/// What [`text`] is written against: std and arc-swap here, loom and a
/// lock-based stand-in in `tests/loom_label_text.rs`.
mod sync {
    pub(crate) use arc_swap::ArcSwapOption;
    pub(crate) use std::sync::atomic::{AtomicU32, Ordering};
    pub(crate) use std::sync::Arc;
    /// A loaded text, held without a write to its reference count.
    pub(crate) type Loaded<T> = arc_swap::Guard<Option<Arc<T>>>;
}

// Every closed label type `closed.rs` declares, and the trait they share.
pub use closed::*;
pub use error::LabelError;
pub(crate) use name::slot_of;
pub use name::LabelName;
pub use open::{
    OpenDef, OpenLabel, DEFAULT_REUSE_DELAY, MAX_VALUE_LEN, OVERFLOW_VALUE, RETIRED_VALUE,
};
pub use raw::{GENERATIONS, MAX_CAP};
pub use settings::{
    cap, idle_expiry, live_values, overflow_records, set_cap, set_idle_expiry, set_reuse_delay,
    stale_records,
};
pub use text::LabelText;
// Every label type `values.rs` declares: adding one is one declaration.
pub use values::*;

pub(crate) use open::{
    all_labels, count_stale, find, idle_values, intern_slots, now_ms, on_explicit_retire,
    on_retire, register_label, retire, retire_quietly, seen,
};
pub(crate) use set::{has_duplicate, same_names, same_str, shared_label, stamp};
pub use set::{LabelSet, LabelValue, MAX_LABELS};
