//! What a `metrics` key resolved to, kept so that the next
//! `counter!(name, labels…)` with the same key is one hash lookup.
//!
//! # Why it looks like this
//!
//! The facade hands the recorder a whole [`Key`] on every call. Resolving
//! one from scratch (finding the family by name, each label value's slot,
//! interning open values under their interner's lock, allocating the handle)
//! costs several times a lookup, so each recorder keeps what keys resolved
//! to in one map under a read-mostly lock.
//!
//! `metrics` hashes a key once, when the key is made (at compile time for a
//! static one); [`KeyMap`] files keys by that hash, mixed with a per-process
//! seed ([`KeyState`]) instead of hashing them again, and compares them
//! label by label in the order they were given. `Key`'s own equality does
//! not depend on label order, and for three labels or more it sorts both
//! keys' labels to compare them (about 740 instructions, measured with
//! callgrind: more than the rest of a `counter!` call); a key spelled in
//! another order is simply another entry that resolves to the same series.
//! Keys whose `metrics` hashes are equal share one entry list; the caller's
//! bound keeps any list short.
//!
//! The map is bounded: keys over [`MAX_KEY_BYTES`] are never kept, and a
//! full map is emptied before the next insert, so a flood of distinct keys
//! costs at most [`MAX_ENTRIES`] entries and a re-resolution per key, never
//! a lost record. What the cached values mean, and when one is out of date,
//! is the caller's (see the recorder).

use metrics::Key;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher, RandomState};

/// The most bytes a key may take (its name, and each label's name and value
/// plus the `metrics::Label` holding them) to get a series of its own; a
/// longer key records into its family's `__overflow__` series. It bounds
/// what each series keeps: the key for lookup and the encoded label text.
pub(crate) const MAX_KEY_BYTES: usize = 1024;
use std::sync::RwLock;

/// The most keys one recorder keeps resolved.
pub(crate) const MAX_ENTRIES: usize = 4096;

/// Keys (compared label by label, in order) to values.
pub(crate) struct KeyMap<V> {
    by_hash: HashMap<u64, Entries<V>, KeyState>,
    len: usize,
}

/// The entries of one hash: the first in the map's own table (most hashes
/// have one key, and a list per key would be one more allocation per key,
/// scattering what the map points to across the heap), any others in a list.
struct Entries<V> {
    first: (Key, V),
    more: Vec<(Key, V)>,
}

impl<V> Entries<V> {
    fn find(&self, key: &Key) -> Option<&V> {
        if same(&self.first.0, key) {
            return Some(&self.first.1);
        }
        self.more.iter().find(|(k, _)| same(k, key)).map(|(_, v)| v)
    }

    fn find_mut(&mut self, key: &Key) -> Option<&mut V> {
        if same(&self.first.0, key) {
            return Some(&mut self.first.1);
        }
        self.more
            .iter_mut()
            .find(|(k, _)| same(k, key))
            .map(|(_, v)| v)
    }

    fn len(&self) -> usize {
        1 + self.more.len()
    }
}

/// Whether two keys with one hash are the same, spelled the same way.
#[inline]
fn same(a: &Key, b: &Key) -> bool {
    a.labels().len() == b.labels().len()
        && same_text(a.name(), b.name())
        && a.labels()
            .zip(b.labels())
            .all(|(a, b)| same_text(a.key(), b.key()) && same_text(a.value(), b.value()))
}

/// Text equality that skips the bytes when both are one string: the
/// `&'static str` literals of a `counter!` call site always are.
#[inline(always)]
fn same_text(a: &str, b: &str) -> bool {
    a.len() == b.len() && (std::ptr::eq(a.as_ptr(), b.as_ptr()) || a == b)
}

impl<V> KeyMap<V> {
    pub(crate) fn new() -> Self {
        KeyMap {
            by_hash: HashMap::with_hasher(KeyState::new()),
            len: 0,
        }
    }

    #[inline]
    pub(crate) fn get(&self, key: &Key) -> Option<&V> {
        self.by_hash.get(&key.get_hash())?.find(key)
    }

    /// Keeps `value` for `key`, returning what it replaced.
    pub(crate) fn insert(&mut self, key: Key, value: V) -> Option<V> {
        use std::collections::hash_map::Entry;
        match self.by_hash.entry(key.get_hash()) {
            Entry::Occupied(mut o) => {
                let entries = o.get_mut();
                if let Some(old) = entries.find_mut(&key) {
                    return Some(std::mem::replace(old, value));
                }
                entries.more.push((key, value));
            }
            Entry::Vacant(v) => {
                v.insert(Entries {
                    first: (key, value),
                    more: Vec::new(),
                });
            }
        }
        self.len += 1;
        None
    }

    /// Keeps only the entries `keep` accepts.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&Key, &V) -> bool) {
        let mut len = 0;
        self.by_hash.retain(|_, entries| {
            entries.more.retain(|(k, v)| keep(k, v));
            if !keep(&entries.first.0, &entries.first.1) {
                if entries.more.is_empty() {
                    return false;
                }
                // The list's first (already kept) takes the dropped one's place.
                entries.first = entries.more.remove(0);
            }
            len += entries.len();
            true
        });
        self.len = len;
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn clear(&mut self) {
        self.by_hash.clear();
        self.len = 0;
    }
}

/// A bounded map from facade keys to what they resolved to.
pub(crate) struct KeyCache<V> {
    map: RwLock<KeyMap<V>>,
}

impl<V: Clone> KeyCache<V> {
    pub(crate) fn new() -> Self {
        KeyCache {
            map: RwLock::new(KeyMap::new()),
        }
    }

    /// What `key` resolved to, if it is kept.
    #[inline]
    pub(crate) fn get(&self, key: &Key) -> Option<V> {
        // Poisoning: no write below can leave the map torn.
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        map.get(key).cloned()
    }

    /// Keeps what `key` resolved to (replacing what it did before), unless
    /// the key is over [`MAX_KEY_BYTES`]; a full map is emptied first.
    pub(crate) fn insert(&self, key: &Key, value: V) {
        if key_bytes(key) > MAX_KEY_BYTES {
            return;
        }
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_ENTRIES && map.get(key).is_none() {
            map.clear();
        }
        map.insert(key.clone(), value);
    }

    /// How many keys are kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.read().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// The bytes of a key's text: its name and each label's name and value.
fn key_bytes(key: &Key) -> usize {
    key.name().len()
        + key
            .labels()
            .map(|l| l.key().len() + l.value().len())
            .sum::<usize>()
}

/// Builds [`KeyHasher`]s with one seed per map.
#[derive(Clone)]
pub(crate) struct KeyState(u64);

impl KeyState {
    pub(crate) fn new() -> Self {
        KeyState(RandomState::new().hash_one(0x9e37_79b9_7f4a_7c15_u64))
    }
}

impl BuildHasher for KeyState {
    type Hasher = KeyHasher;
    fn build_hasher(&self) -> KeyHasher {
        KeyHasher(self.0)
    }
}

/// Mixes the hash a [`Key`] carries (a `u64`) with the map's seed (a folded
/// 64×64→128 multiply); bytes, which a `u64` never writes, are mixed a word
/// at a time the same way.
pub(crate) struct KeyHasher(u64);

const MULTIPLIER: u64 = 0xa076_1d64_78bd_642f;

#[inline(always)]
fn fold(x: u64) -> u64 {
    let m = u128::from(x) * u128::from(MULTIPLIER);
    (m as u64) ^ ((m >> 64) as u64)
}

impl Hasher for KeyHasher {
    #[inline(always)]
    fn write_u64(&mut self, hash: u64) {
        self.0 = fold(self.0 ^ hash);
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word) ^ chunk.len() as u64);
        }
    }

    #[inline(always)]
    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use metrics::Label;

    fn key(value: &str) -> Key {
        Key::from_parts("app_total", vec![Label::new("tenant", value.to_string())])
    }

    #[test]
    fn keeps_and_replaces() {
        let cache = KeyCache::new();
        assert_eq!(cache.get(&key("a")), None);
        cache.insert(&key("a"), 1);
        cache.insert(&key("b"), 2);
        assert_eq!(cache.get(&key("a")), Some(1));
        cache.insert(&key("a"), 3);
        assert_eq!((cache.get(&key("a")), cache.len()), (Some(3), 2));
    }

    #[test]
    fn keys_compare_in_order_and_retain_recounts() {
        let ab = Key::from_parts("x", vec![Label::new("a", "1"), Label::new("b", "2")]);
        let ba = Key::from_parts("x", vec![Label::new("b", "2"), Label::new("a", "1")]);
        let other = Key::from_parts("x", vec![Label::new("a", "1"), Label::new("b", "3")]);
        // One hash (metrics' ignores label order): both are in one entry list.
        assert_eq!(ab.get_hash(), ba.get_hash());
        let mut map = KeyMap::new();
        map.insert(ab.clone(), 1);
        assert_eq!(map.get(&ab), Some(&1));
        assert_eq!(map.get(&other), None);
        // Another spelling of one key is another entry (of the same series).
        assert_eq!(map.insert(ba.clone(), 2), None);
        assert_eq!(map.insert(ab.clone(), 3), Some(1));
        assert_eq!(map.len(), 2);
        map.retain(|_, v| *v == 2);
        assert_eq!((map.len(), map.get(&ab), map.get(&ba)), (1, None, Some(&2)));
    }

    #[test]
    fn retain_keeps_the_survivors_of_one_hash_whichever_went() {
        let spelling = |order: [usize; 3]| {
            let labels = [("a", "1"), ("b", "2"), ("c", "3")];
            Key::from_parts(
                "x",
                order.map(|i| Label::new(labels[i].0, labels[i].1)).to_vec(),
            )
        };
        let keys = [[0, 1, 2], [2, 1, 0], [1, 0, 2], [0, 2, 1]].map(spelling);
        for dropped in 0..keys.len() {
            let mut map = KeyMap::new();
            for (i, k) in keys.iter().enumerate() {
                map.insert(k.clone(), i);
            }
            map.retain(|_, v| *v != dropped && *v != (dropped + 2) % keys.len());
            assert_eq!(map.len(), 2);
            for (i, k) in keys.iter().enumerate() {
                let kept = i != dropped && i != (dropped + 2) % keys.len();
                assert_eq!(map.get(k), kept.then_some(&i), "dropped {dropped}, key {i}");
            }
            map.retain(|_, _| false);
            assert_eq!((map.len(), map.get(&keys[0])), (0, None));
        }
    }

    #[test]
    fn a_flood_of_distinct_keys_stays_bounded() {
        let cache = KeyCache::new();
        for i in 0..3 * MAX_ENTRIES {
            cache.insert(&key(&i.to_string()), i);
            assert!(cache.len() <= MAX_ENTRIES);
        }
        // The newest key is always kept.
        let last = 3 * MAX_ENTRIES - 1;
        assert_eq!(cache.get(&key(&last.to_string())), Some(last));
    }

    #[test]
    fn oversized_keys_are_not_kept() {
        let cache = KeyCache::new();
        cache.insert(&key(&"x".repeat(MAX_KEY_BYTES)), 1);
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn the_hash_is_seeded_and_spreads_the_keys_hash() {
        let (a, b) = (KeyState::new(), KeyState::new());
        let k = key("a").get_hash();
        assert_ne!(a.hash_one(k), b.hash_one(k));
        assert_ne!(a.hash_one(k), a.hash_one(key("b").get_hash()));
        assert_eq!(a.hash_one(k), a.hash_one(key("a").get_hash()));
    }
}
