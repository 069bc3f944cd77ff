//! The process's families: every `family!` declaration, collected at link
//! time, and the registry in which each takes an index, which every
//! store's table for it is found by.
//!
//! Photon's catalog is one `family!` invocation like an application's;
//! what sets it apart is only that it is marked `#![catalog]`: its
//! families take the first indices, in the order written, before any
//! other family registers, and its names are reserved at compile time.
//!
//! It sits below the store and the family engine (both look families up
//! here) and above the specs' types only.

use crate::catalog::FamilySpec;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

/// One `family!` declaration, collected at link time (through `inventory`)
/// so that every store registers it at creation. Not built by hand.
#[doc(hidden)]
pub struct Declared {
    name: &'static str,
    /// Its position in the catalog, for the catalog's own families.
    place: Option<u16>,
    spec: fn() -> &'static FamilySpec,
}

impl Declared {
    #[doc(hidden)]
    pub const fn new(
        name: &'static str,
        place: Option<u16>,
        spec: fn() -> &'static FamilySpec,
    ) -> Self {
        Declared { name, place, spec }
    }
}

inventory::collect!(Declared);

/// The catalog's declarations in catalog order, or the applications' in
/// name order.
fn declared(catalog: bool) -> Vec<&'static Declared> {
    let mut declared: Vec<&Declared> = inventory::iter::<Declared>
        .into_iter()
        .filter(|d| d.place.is_some() == catalog)
        .collect();
    declared.sort_by_key(|d| (d.place, d.name));
    declared
}

/// Registers every family declared with `family!` anywhere in the program:
/// the catalog's first, in catalog order, then the applications' in name
/// order (a refusal, a second family of one name, is logged and leaves the
/// first in place). Run when a store is made.
pub(crate) fn register_declared() {
    for d in declared(false) {
        let spec = (d.spec)();
        if let Err(e) = register(spec) {
            tracing::error!(family = spec.name, "{e}; its records are dropped");
        }
    }
}

/// The most families applications may register in one process.
pub const MAX_APPLICATION_FAMILIES: usize = 256;

/// Room for the catalog's families before the applications'.
const CATALOG_ROOM: usize = 64;

/// The most families one process registers: the catalog's and the
/// applications'. Every store has a table slot for each.
pub(crate) const MAX_FAMILIES: usize = CATALOG_ROOM + MAX_APPLICATION_FAMILIES;

/// Why an application family could not take its place in the registry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegisterError {
    /// Another declaration registered a family of this name first.
    #[error("family `{name}` is declared twice (another `family!` of that name registered first)")]
    Duplicate {
        /// The family's name.
        name: &'static str,
    },
    /// [`MAX_APPLICATION_FAMILIES`] families are registered already.
    #[error("family `{name}` would exceed the limit of {max} application families")]
    Full {
        /// The family's name.
        name: &'static str,
        /// The limit.
        max: usize,
    },
    /// An earlier attempt to register failed (its error was logged then).
    #[error("family `{name}` could not register earlier; its records are dropped")]
    Refused {
        /// The family's name.
        name: &'static str,
    },
}

/// Every registered family, by index: the catalog's first.
static SPECS: Mutex<Vec<&'static FamilySpec>> = Mutex::new(Vec::new());

/// The same families, by index, set in order under [`SPECS`]'s lock, so
/// that [`find`] (on every facade call with a name no cache knows) reads
/// them without the lock: the first unset slot ends the list.
static PUBLISHED: [OnceLock<&'static FamilySpec>; MAX_FAMILIES] =
    [const { OnceLock::new() }; MAX_FAMILIES];

/// One bit per name length (0 to 255) some registered family has: most
/// foreign names have a length no family has, which one load tells.
static LENGTHS: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];

/// How many of the first indices are the catalog's.
static CATALOG_LEN: OnceLock<usize> = OnceLock::new();

/// The registry, under its lock, with the catalog in it.
fn locked() -> MutexGuard<'static, Vec<&'static FamilySpec>> {
    // Poisoning: a push is the only write, and it cannot leave the list torn.
    let mut specs = SPECS.lock().unwrap_or_else(|e| e.into_inner());
    if CATALOG_LEN.get().is_none() {
        for d in declared(true) {
            publish(&mut specs, (d.spec)());
        }
        let _ = CATALOG_LEN.set(specs.len());
    }
    specs
}

/// Adds `spec` at the next index, under the lock.
fn publish(specs: &mut Vec<&'static FamilySpec>, spec: &'static FamilySpec) {
    // Under the lock, so slots fill in order and each exactly once.
    let _ = PUBLISHED[specs.len()].set(spec);
    if let Some(bits) = LENGTHS.get(spec.name.len() / 64) {
        bits.fetch_or(1 << (spec.name.len() % 64), Ordering::Release);
    }
    specs.push(spec);
}

/// Registers `spec`, returning its index: refused when another family of
/// that name is registered (two declarations of one name, say in two
/// crates), or when the applications' room is full.
pub(crate) fn register(spec: &'static FamilySpec) -> Result<usize, RegisterError> {
    let mut specs = locked();
    if let Some(i) = specs.iter().position(|s| std::ptr::eq(*s, spec)) {
        return Ok(i);
    }
    if specs.iter().any(|s| s.name == spec.name) {
        return Err(RegisterError::Duplicate { name: spec.name });
    }
    if specs.len() >= MAX_FAMILIES || specs.len() - catalog_len() >= MAX_APPLICATION_FAMILIES {
        return Err(RegisterError::Full {
            name: spec.name,
            max: MAX_APPLICATION_FAMILIES,
        });
    }
    publish(&mut specs, spec);
    Ok(specs.len() - 1)
}

/// How many of the first indices are the catalog's.
fn catalog_len() -> usize {
    CATALOG_LEN.get().copied().unwrap_or(0)
}

/// Every registered family, by index: the catalog's in catalog order,
/// then the applications' in registration order.
pub(crate) fn specs() -> Vec<&'static FamilySpec> {
    locked().clone()
}

/// The catalog's families, in catalog order.
#[cfg(test)]
pub(crate) fn catalog() -> Vec<&'static FamilySpec> {
    let specs = locked();
    specs[..catalog_len()].to_vec()
}

/// The registered family called `name`, with its index; takes no lock
/// (once the catalog is in).
pub(crate) fn find(name: &str) -> Option<(usize, &'static FamilySpec)> {
    catalog_in();
    let bits = LENGTHS.get(name.len() / 64)?.load(Ordering::Acquire);
    if bits & (1 << (name.len() % 64)) == 0 {
        return None;
    }
    PUBLISHED
        .iter()
        .map_while(OnceLock::get)
        .enumerate()
        .find(|(_, s)| s.name == name)
        .map(|(i, s)| (i, *s))
}

/// The family registered at `index`; takes no lock (once the catalog is
/// in): what every record by index (the C ABI's `photon_family_*`) asks.
pub(crate) fn at(index: usize) -> Option<&'static FamilySpec> {
    catalog_in();
    PUBLISHED.get(index)?.get().copied()
}

/// Registers the catalog if nothing has yet, so that lock-free readers of
/// [`PUBLISHED`] see it.
fn catalog_in() {
    if CATALOG_LEN.get().is_none() {
        drop(locked());
    }
}
