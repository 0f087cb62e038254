//! The cache of piece → tokenization shared by the models (BPE keeps `(id, length)` per token,
//! Unigram whole tokens, the byte-level ids path bare ids).

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use rustc_hash::FxBuildHasher;

/// Tokenizations of recent pieces, shared by all threads without locks. Like Hugging Face's
/// cache it stops inserting once full rather than evicting: real text repeats its common words
/// early.
///
/// Readers never write shared memory: the table is one open-addressing array of write-once slots
/// (`OnceLock`), so a lookup is atomic loads only, and two threads reading the same slots keep
/// their cache lines shared (a `RwLock` per shard made every lookup an atomic write to the lock
/// word, and the two cores of a batch spent their time passing those lines back and forth). An
/// insert claims the first empty slot of its probe sequence; entries are never moved or removed
/// while the cache is shared (`clear` takes `&mut self`), so a slot once filled stays valid.
pub(crate) struct PieceCache<V> {
    /// Allocated by the first insert: a model that never encodes costs nothing.
    slots: OnceLock<Box<[OnceLock<Entry<V>>]>>,
    /// Entries inserted so far; inserts stop at `MAX_ENTRIES`, which keeps every probe sequence
    /// short (the table is at most half full).
    len: AtomicUsize,
}

struct Entry<V> {
    hash: u64,
    key: Box<[u8]>,
    value: Box<[V]>,
}

impl<V> PieceCache<V> {
    const SLOTS: usize = 1 << 17;
    const MAX_ENTRIES: usize = Self::SLOTS / 2;
    /// Longer pieces are rare and cheap to miss; caching them would only fill memory.
    const MAX_PIECE_LEN: usize = 256;

    pub(crate) fn new() -> Self {
        PieceCache {
            slots: OnceLock::new(),
            len: AtomicUsize::new(0),
        }
    }

    fn hash(piece: &[u8]) -> u64 {
        FxBuildHasher.hash_one(piece)
    }

    /// The slots to try for `hash`, in order: linear probing from the hash's high bits (the
    /// well-mixed ones of an Fx hash).
    fn probe(hash: u64) -> impl Iterator<Item = usize> {
        let start = (hash >> 40) as usize;
        (0..Self::SLOTS).map(move |i| (start + i) & (Self::SLOTS - 1))
    }

    /// Maps the cached value of `piece` (if any).
    pub(crate) fn get<T>(&self, piece: &[u8], map: impl FnOnce(&[V]) -> T) -> Option<T> {
        if piece.len() > Self::MAX_PIECE_LEN {
            return None;
        }
        let slots = self.slots.get()?;
        let hash = Self::hash(piece);
        for i in Self::probe(hash) {
            // An empty slot ends the probe: inserts fill the first empty slot they meet.
            let entry = slots[i].get()?;
            if entry.hash == hash && *entry.key == *piece {
                return Some(map(&entry.value));
            }
        }
        None
    }

    pub(crate) fn insert(&self, piece: &[u8], value: impl Into<Box<[V]>>) {
        if piece.len() > Self::MAX_PIECE_LEN
            || self.len.load(Ordering::Relaxed) >= Self::MAX_ENTRIES
        {
            return;
        }
        let slots = self
            .slots
            .get_or_init(|| (0..Self::SLOTS).map(|_| OnceLock::new()).collect());
        let hash = Self::hash(piece);
        let mut entry = Some(Entry {
            hash,
            key: piece.into(),
            value: value.into(),
        });
        for i in Self::probe(hash) {
            let slot = &slots[i];
            if slot.get().is_none() {
                match slot.set(entry.take().expect("the entry is placed once")) {
                    Ok(()) => {
                        self.len.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    // Another thread filled this slot first: look at what it put there.
                    Err(ours) => entry = Some(ours),
                }
            }
            let theirs = slot.get().expect("a slot is filled once set");
            if theirs.hash == hash && *theirs.key == *piece {
                return; // a second insert of a key keeps the first value
            }
        }
    }

    pub(crate) fn clear(&mut self) {
        self.slots = OnceLock::new();
        *self.len.get_mut() = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled_slots<V>(cache: &PieceCache<V>) -> usize {
        let slots = cache.slots.get().unwrap();
        slots.iter().filter(|s| s.get().is_some()).count()
    }

    #[test]
    fn finds_what_was_inserted_and_stops_when_full() {
        let mut cache = PieceCache::<u32>::new();
        assert_eq!(cache.get(b"hello", |v| v.to_vec()), None);
        cache.insert(b"hello", vec![1, 2]);
        cache.insert(b"hello", vec![9]); // a second insert of a key keeps the first value
        assert_eq!(cache.get(b"hello", |v| v.to_vec()), Some(vec![1, 2]));
        assert_eq!(cache.get(b"hell", |v| v.to_vec()), None);
        let long = vec![b'a'; 300];
        cache.insert(&long, vec![3]);
        assert_eq!(cache.get(&long, |v| v.len()), None);
        for i in 0..200_000u32 {
            cache.insert(i.to_string().as_bytes(), vec![i]);
        }
        let stored = filled_slots(&cache);
        assert_eq!(stored, PieceCache::<u32>::MAX_ENTRIES);
        assert_eq!(cache.get(b"17", |v| v.to_vec()), Some(vec![17]));
        assert_eq!(cache.get(b"199999", |v| v.to_vec()), None);
        cache.clear();
        assert_eq!(cache.get(b"hello", |v| v.len()), None);
        cache.insert(b"hello", vec![5]);
        assert_eq!(cache.get(b"hello", |v| v.to_vec()), Some(vec![5]));
    }

    #[test]
    fn threads_inserting_the_same_keys_agree() {
        let cache = PieceCache::<u32>::new();
        std::thread::scope(|scope| {
            for t in 0..4u32 {
                let cache = &cache;
                scope.spawn(move || {
                    for i in 0..20_000u32 {
                        cache.insert(i.to_string().as_bytes(), vec![i, t]);
                        let got = cache.get(i.to_string().as_bytes(), |v| v[0]);
                        assert_eq!(got, Some(i));
                    }
                });
            }
        });
        let stored = filled_slots(&cache);
        assert_eq!(stored, 20_000);
        assert_eq!(cache.len.load(Ordering::Relaxed), 20_000);
    }
}
