//! The cache of piece → tokenization shared by the models (BPE keeps `(id, length)` per token,
//! Unigram whole tokens).

use std::hash::BuildHasher;
use std::sync::RwLock;

use rustc_hash::{FxBuildHasher, FxHashMap};

/// Tokenizations of recent pieces, shared by all threads: a fixed number of shards, each an
/// `RwLock`ed map, so parallel readers rarely touch the same lock. Like Hugging Face's cache it
/// stops inserting once full rather than evicting: real text repeats its common words early.
pub(crate) struct PieceCache<V> {
    shards: Box<[CacheShard<V>]>,
}

type CacheShard<V> = RwLock<FxHashMap<Box<str>, Box<[V]>>>;

impl<V> PieceCache<V> {
    const SHARDS: usize = 64;
    const SHARD_CAPACITY: usize = 1024;
    /// Longer pieces are rare and cheap to miss; caching them would only fill memory.
    const MAX_PIECE_LEN: usize = 256;

    pub(crate) fn new() -> Self {
        PieceCache {
            shards: (0..Self::SHARDS)
                .map(|_| RwLock::new(FxHashMap::default()))
                .collect(),
        }
    }

    fn shard(&self, piece: &str) -> &CacheShard<V> {
        // The high bits of an Fx hash are the well-mixed ones.
        &self.shards[(FxBuildHasher.hash_one(piece) >> 58) as usize % Self::SHARDS]
    }

    /// Maps the cached value of `piece` (if any) while holding the read lock.
    pub(crate) fn get<T>(&self, piece: &str, map: impl FnOnce(&[V]) -> T) -> Option<T> {
        if piece.len() > Self::MAX_PIECE_LEN {
            return None;
        }
        // A poisoned lock only means another thread panicked mid-insert; skip the cache then.
        let shard = self.shard(piece).read().ok()?;
        shard.get(piece).map(|value| map(value))
    }

    pub(crate) fn insert(&self, piece: &str, value: impl Into<Box<[V]>>) {
        if piece.len() > Self::MAX_PIECE_LEN {
            return;
        }
        if let Ok(mut shard) = self.shard(piece).write() {
            if shard.len() < Self::SHARD_CAPACITY {
                shard.insert(piece.into(), value.into());
            }
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
