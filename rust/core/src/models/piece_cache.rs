//! The cache of piece → tokenization shared by the models (BPE keeps `(id, length)` per token,
//! Unigram whole tokens, the byte-level ids path bare ids).

use std::hash::BuildHasher;
use std::sync::RwLock;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

/// Tokenizations of recent pieces, shared by all threads: a fixed number of shards, each an
/// `RwLock`ed table, so parallel readers rarely touch the same lock. Like Hugging Face's cache it
/// stops inserting once full rather than evicting: real text repeats its common words early.
///
/// Keys are bytes, hashed once per lookup: the hash picks the shard (high bits) and probes the
/// shard's table (all bits), which is why this is a `HashTable` with stored hashes rather than a
/// `HashMap` that would hash the piece a second time.
pub(crate) struct PieceCache<V> {
    shards: Box<[CacheShard<V>]>,
}

struct Entry<V> {
    hash: u64,
    key: Box<[u8]>,
    value: Box<[V]>,
}

type CacheShard<V> = RwLock<HashTable<Entry<V>>>;

impl<V> PieceCache<V> {
    const SHARDS: usize = 64;
    const SHARD_CAPACITY: usize = 1024;
    /// Longer pieces are rare and cheap to miss; caching them would only fill memory.
    const MAX_PIECE_LEN: usize = 256;

    pub(crate) fn new() -> Self {
        PieceCache {
            shards: (0..Self::SHARDS)
                .map(|_| RwLock::new(HashTable::new()))
                .collect(),
        }
    }

    fn hash(piece: &[u8]) -> u64 {
        FxBuildHasher.hash_one(piece)
    }

    fn shard(&self, hash: u64) -> &CacheShard<V> {
        // The high bits of an Fx hash are the well-mixed ones.
        &self.shards[(hash >> 58) as usize % Self::SHARDS]
    }

    /// Maps the cached value of `piece` (if any) while holding the read lock.
    pub(crate) fn get<T>(&self, piece: &[u8], map: impl FnOnce(&[V]) -> T) -> Option<T> {
        if piece.len() > Self::MAX_PIECE_LEN {
            return None;
        }
        let hash = Self::hash(piece);
        // A poisoned lock only means another thread panicked mid-insert; skip the cache then.
        let shard = self.shard(hash).read().ok()?;
        shard
            .find(hash, |e| e.hash == hash && *e.key == *piece)
            .map(|e| map(&e.value))
    }

    pub(crate) fn insert(&self, piece: &[u8], value: impl Into<Box<[V]>>) {
        if piece.len() > Self::MAX_PIECE_LEN {
            return;
        }
        let hash = Self::hash(piece);
        if let Ok(mut shard) = self.shard(hash).write() {
            if shard.len() >= Self::SHARD_CAPACITY
                || shard
                    .find(hash, |e| e.hash == hash && *e.key == *piece)
                    .is_some()
            {
                return;
            }
            let entry = Entry {
                hash,
                key: piece.into(),
                value: value.into(),
            };
            shard.insert_unique(hash, entry, |e| e.hash);
        }
    }

    pub(crate) fn clear(&self) {
        for shard in self.shards.iter() {
            if let Ok(mut shard) = shard.write() {
                shard.clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_was_inserted_and_stops_when_full() {
        let cache = PieceCache::<u32>::new();
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
        let stored: usize = cache.shards.iter().map(|s| s.read().unwrap().len()).sum();
        assert!(stored <= 64 * 1024, "{stored}");
        cache.clear();
        assert_eq!(cache.get(b"hello", |v| v.len()), None);
    }
}
