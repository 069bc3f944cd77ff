//! The process's application families: each takes an index on first use,
//! which every store's table slot for it is found by.

use super::{RegisterError, MAX_OWN_FAMILIES};
use crate::catalog::FamilySpec;
use std::sync::{Mutex, OnceLock};

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
