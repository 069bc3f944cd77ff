//! The process's application families: every `family!` declaration,
//! collected at link time, and the registry in which each takes an index
//! on first use, which every store's table slot for it is found by.
//!
//! It sits below the store and the family engine (both look families up
//! here) and above the catalog's types only.

use crate::catalog::FamilySpec;
use std::sync::{Mutex, OnceLock};

/// One `family!` declaration, collected at link time (through `inventory`)
/// so that every store registers it at creation. Not built by hand.
#[doc(hidden)]
pub struct Declared {
    name: &'static str,
    register: fn() -> Result<(), RegisterError>,
}

impl Declared {
    #[doc(hidden)]
    pub const fn new(name: &'static str, register: fn() -> Result<(), RegisterError>) -> Self {
        Declared { name, register }
    }
}

inventory::collect!(Declared);

/// Registers every family declared with `family!` anywhere in the program,
/// in name order (a refusal, a second family of one name, is logged by the
/// registration and leaves the first in place). Run when a store is made.
pub(crate) fn register_declared() {
    let mut declared: Vec<&Declared> = inventory::iter::<Declared>.into_iter().collect();
    declared.sort_by_key(|d| d.name);
    for d in declared {
        let _ = (d.register)();
    }
}

/// The most application families one process may register.
pub const MAX_OWN_FAMILIES: usize = 256;

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
    /// [`MAX_OWN_FAMILIES`] families are registered already.
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

static SPECS: Mutex<Vec<&'static FamilySpec>> = Mutex::new(Vec::new());

/// The same families, by index, set in order under [`SPECS`]'s lock, so
/// that [`find`] (on every facade call with a name no cache knows) reads
/// them without the lock: the first unset slot ends the list.
static PUBLISHED: [OnceLock<&'static FamilySpec>; MAX_OWN_FAMILIES] =
    [const { OnceLock::new() }; MAX_OWN_FAMILIES];

fn specs_locked() -> std::sync::MutexGuard<'static, Vec<&'static FamilySpec>> {
    // Poisoning: a push is the only write, and it cannot leave the list torn.
    SPECS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Registers `spec`, returning its index: refused when another family of
/// that name is registered (two declarations of one name, say in two
/// crates), or when the registry is full.
pub(crate) fn register(spec: &'static FamilySpec) -> Result<usize, RegisterError> {
    let mut specs = specs_locked();
    if let Some(i) = specs.iter().position(|s| std::ptr::eq(*s, spec)) {
        return Ok(i);
    }
    if specs.iter().any(|s| s.name == spec.name) {
        return Err(RegisterError::Duplicate { name: spec.name });
    }
    if specs.len() >= MAX_OWN_FAMILIES {
        return Err(RegisterError::Full {
            name: spec.name,
            max: MAX_OWN_FAMILIES,
        });
    }
    // Under the lock, so slots fill in order and each exactly once.
    let _ = PUBLISHED[specs.len()].set(spec);
    specs.push(spec);
    Ok(specs.len() - 1)
}

/// Every registered family, by index.
pub(crate) fn specs() -> Vec<&'static FamilySpec> {
    specs_locked().clone()
}

/// The registered family called `name`, with its index; takes no lock.
pub(crate) fn find(name: &str) -> Option<(usize, &'static FamilySpec)> {
    PUBLISHED
        .iter()
        .map_while(OnceLock::get)
        .enumerate()
        .find(|(_, s)| s.name == name)
        .map(|(i, s)| (i, *s))
}
