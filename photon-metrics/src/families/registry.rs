//! The process's application families: each takes an index on first use,
//! which every store's table slot for it is found by.

use super::{RegisterError, MAX_OWN_FAMILIES};
use crate::catalog::FamilySpec;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

static SPECS: Mutex<Vec<&'static FamilySpec>> = Mutex::new(Vec::new());

/// The same families, each set before [`REGISTERED`] counts it, so that
/// [`find`] (on every facade call with a name no cache knows) reads them
/// without the lock.
static PUBLISHED: [OnceLock<&'static FamilySpec>; MAX_OWN_FAMILIES] =
    [const { OnceLock::new() }; MAX_OWN_FAMILIES];

/// How many families are registered: one load tells whether a name that
/// was no family's when looked up may be one now.
static REGISTERED: AtomicUsize = AtomicUsize::new(0);

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
    REGISTERED.store(specs.len(), Ordering::Release);
    Ok(specs.len() - 1)
}

/// How many families are registered (it only grows).
#[inline]
pub(crate) fn registered() -> usize {
    REGISTERED.load(Ordering::Acquire)
}

/// Every registered family, by index.
pub(crate) fn specs() -> Vec<&'static FamilySpec> {
    specs_locked().clone()
}

/// The registered family called `name`, with its index; takes no lock.
pub(crate) fn find(name: &str) -> Option<(usize, &'static FamilySpec)> {
    PUBLISHED[..registered()]
        .iter()
        .enumerate()
        .find_map(|(i, slot)| slot.get().filter(|s| s.name == name).map(|s| (i, *s)))
}
