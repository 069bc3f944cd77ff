//! The fork gate: held for reading by every render and publication, for
//! writing by a fork (see [`super::fork`]), so no fork happens half way
//! through one and no child inherits the locks they hold.

use std::sync::RwLock;

/// See the module docs.
pub(crate) static GATE: RwLock<()> = RwLock::new(());
