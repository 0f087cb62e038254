//! The caches of piece → tokenization shared by the models: [`PieceCache`] for any value (BPE
//! keeps `(id, length)` per token, Unigram whole tokens), and [`PieceIdsCache`] for the ids-only
//! paths (byte-level BPE's raw pieces, WordPiece's words), whose common entries each fit in one
//! cache line.

use std::cell::UnsafeCell;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
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

/// A clone starts empty, as [`PieceIdsCache`]'s.
impl<V> Clone for PieceCache<V> {
    fn clone(&self) -> Self {
        PieceCache::new()
    }
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
        linear_probe((hash >> 40) as usize, Self::SLOTS)
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

/// Piece → ids for the ids-only paths: the shortest pieces with few ids (most of real text) in a
/// [`CompactIdsCache`], other short pieces with few ids in an [`InlineIdsCache`], the rest in a
/// [`PieceCache`].
pub(crate) struct PieceIdsCache {
    compact: CompactIdsCache,
    inline: InlineIdsCache,
    spilled: PieceCache<u32>,
}

/// How a piece is looked up first: in the compact table (up to 7 bytes), the inline one (up to
/// 24), or neither.
#[derive(Clone, Copy)]
enum LookupKey {
    Compact(CompactKey),
    Inline(InlineKey),
    Unkeyed,
}

impl PieceIdsCache {
    pub(crate) fn new() -> Self {
        PieceIdsCache {
            compact: CompactIdsCache::new(),
            inline: InlineIdsCache::new(),
            spilled: PieceCache::new(),
        }
    }

    /// Appends the cached ids of `piece` to `out`; `false` when `piece` is not cached.
    pub(crate) fn extend_with_ids(&self, piece: &[u8], out: &mut Vec<u32>) -> bool {
        if CompactKey::new(piece).is_some_and(|key| self.compact.extend_with_key(&key, out)) {
            return true;
        }
        if self.inline.extend_with_ids(piece, out) {
            return true;
        }
        // An inline miss on a short key is almost always a new piece, and then the spilled
        // table is usually not even allocated.
        self.spilled
            .get(piece, |ids| out.extend_from_slice(ids))
            .is_some()
    }

    /// Appends the ids of each piece `text[a..b]` of `pieces` to `out`, in order: the cached ids,
    /// or for a piece not cached those `on_miss(a, b, out)` appends (the caller stores them with
    /// [`PieceIdsCache::insert`]). The same ids as one [`PieceIdsCache::extend_with_ids`] per
    /// piece, faster: each key is computed once, and the slot of the piece [`PIPELINE`] places
    /// ahead is prefetched, so the slot loads (mostly misses to memory) overlap instead of
    /// following one another.
    ///
    /// Keys are read as whole words from `text` where 24 bytes follow a piece's start, so a
    /// caller that pads `text` with 24 bytes past its last piece gets that fast path for every
    /// piece; the answer does not depend on it.
    pub(crate) fn extend_with_pieces(
        &self,
        text: &[u8],
        pieces: &[(usize, usize)],
        out: &mut Vec<u32>,
        on_miss: impl FnMut(usize, usize, &mut Vec<u32>) -> crate::Result<()>,
    ) -> crate::Result<()> {
        self.extend_with_piece_runs(text, pieces, &[], out, &mut Vec::new(), on_miss)
    }

    /// [`PieceIdsCache::extend_with_pieces`] over runs of pieces (the pieces of many texts, in
    /// one `text`): the pipeline runs on from one run into the next instead of starting empty
    /// for each. `run_ends` are the piece counts at which runs end, ascending; when the pieces
    /// up to each of them are done, `out`'s length is pushed to `out_ends`.
    pub(crate) fn extend_with_piece_runs(
        &self,
        text: &[u8],
        pieces: &[(usize, usize)],
        run_ends: &[usize],
        out: &mut Vec<u32>,
        out_ends: &mut Vec<usize>,
        mut on_miss: impl FnMut(usize, usize, &mut Vec<u32>) -> crate::Result<()>,
    ) -> crate::Result<()> {
        let mut run_ends = run_ends.iter().peekable();
        let mut end_runs_at = |done: usize, out: &Vec<u32>| {
            while run_ends.next_if(|&&end| end <= done).is_some() {
                out_ends.push(out.len());
            }
        };
        end_runs_at(0, out);
        let mut ahead = [LookupKey::Unkeyed; PIPELINE];
        for (key, &piece) in ahead.iter_mut().zip(pieces) {
            *key = self.prefetched_key(text, piece);
        }
        for (i, &(a, b)) in pieces.iter().enumerate() {
            let key = ahead[i % PIPELINE];
            if let Some(&piece) = pieces.get(i + PIPELINE) {
                ahead[i % PIPELINE] = self.prefetched_key(text, piece);
            }
            let found = match &key {
                // A short piece the compact table lacks may be inline: one with more ids than a
                // compact slot holds, or stored once the compact table was full.
                LookupKey::Compact(key) => {
                    self.compact.extend_with_key(key, out)
                        || self.inline.extend_with_ids(&text[a..b], out)
                }
                LookupKey::Inline(key) => self.inline.extend_with_key(key, out),
                LookupKey::Unkeyed => false,
            };
            // An inline miss may still be a short piece with too many ids for a slot.
            if !found
                && self
                    .spilled
                    .get(&text[a..b], |ids| out.extend_from_slice(ids))
                    .is_none()
            {
                on_miss(a, b, out)?;
            }
            end_runs_at(i + 1, out);
        }
        // Runs said to end past the last piece end with it.
        end_runs_at(usize::MAX, out);
        Ok(())
    }

    /// The key of the piece `text[a..b]`, its slot prefetched. Always inlined: as a call (it was
    /// a closure), the key came back through the stack and was read back by wider loads than
    /// its stores, and the ids path ran 5 to 9 % slower (GPT-2, en corpus, Rust alone).
    #[inline(always)]
    fn prefetched_key(&self, text: &[u8], (a, b): (usize, usize)) -> LookupKey {
        if let Some(key) = CompactKey::in_text(text, a, b) {
            self.compact.prefetch(&key);
            return LookupKey::Compact(key);
        }
        match InlineKey::in_text(text, a, b) {
            Some(key) => {
                self.inline.prefetch(&key);
                LookupKey::Inline(key)
            }
            None => LookupKey::Unkeyed,
        }
    }

    pub(crate) fn insert(&self, piece: &[u8], ids: &[u32]) {
        if CompactIdsCache::fits(piece, ids) && self.compact.insert(piece, ids) {
            return;
        }
        if InlineIdsCache::fits(piece, ids) {
            self.inline.insert(piece, ids);
        } else {
            self.spilled.insert(piece, ids);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.compact.clear();
        self.inline.clear();
        self.spilled.clear();
    }
}

/// A clone starts empty: cached entries are only a speed-up, and a model's clone (a
/// reconfigured tokenizer, another thread's copy) refills its own.
impl Clone for PieceIdsCache {
    fn clone(&self) -> Self {
        PieceIdsCache::new()
    }
}

impl std::fmt::Debug for PieceIdsCache {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_struct("PieceIdsCache")
            .field("compact", &self.compact.len.load(Ordering::Relaxed))
            .field("inline", &self.inline.len.load(Ordering::Relaxed))
            .field("spilled", &self.spilled.len.load(Ordering::Relaxed))
            .finish()
    }
}

/// How many bytes from a piece's start [`PieceIdsCache::extend_with_pieces`] reads its key from:
/// callers that pad their text with this many bytes get whole-word reads for every piece.
pub(crate) const KEY_READ_BYTES: usize = InlineIdsCache::MAX_KEY_LEN;

/// How many pieces ahead [`PieceIdsCache::extend_with_pieces`] prefetches: enough slot loads in
/// flight to cover a miss to memory (8 measured best on GPT-2; BERT's words gained nothing).
const PIPELINE: usize = 8;

/// Piece → ids for the shortest pieces: up to [`CompactIdsCache::MAX_KEY_LEN`] bytes with 1 to 3
/// ids below [`CompactIdsCache::NO_ID`] or 4 ids below 2^16, in 16-byte slots of two words: the
/// key (the piece's bytes and its length) and the ids (21 bits each, or 16 when there are four;
/// a bit of the stored key tells which). Most pieces of real text are that short (GPT-2 on the
/// en corpus: 87 % of the pieces, 24 Ki distinct ones; zh: 80 %, two CJK chars often 4 ids),
/// and four slots to a cache line put them in a table of 1 MiB that stays in the last-level
/// cache, where the 64-byte slots of [`InlineIdsCache`] need 8 MiB for as many entries and
/// their lookups go to memory (without the prefetch, GPT-2's rows take a quarter longer).
///
/// Shared by all threads without locks, never evicts, bounded, and written once per slot like
/// [`InlineIdsCache`]: an insert claims an empty slot by swapping its key word from `EMPTY_SLOT`
/// to `BUSY_SLOT`, stores the ids, and publishes the key with `Release`; a lookup reads the ids
/// only after loading a published key with `Acquire`. A key word is never `EMPTY_SLOT` or
/// `BUSY_SLOT`: its top byte holds the piece's length, 1 or more (and, once stored, the bit
/// `FOUR_IDS`).
struct CompactIdsCache {
    /// Allocated by the first insert: a model that never encodes costs nothing.
    slots: OnceLock<Box<[CompactSlot]>>,
    /// Slots claimed so far; inserts stop at `MAX_ENTRIES`, which keeps probe sequences short.
    len: AtomicUsize,
}

#[repr(C, align(16))]
struct CompactSlot {
    key: AtomicU64,
    ids: AtomicU64,
}

const _: () = assert!(std::mem::size_of::<CompactSlot>() == 16);

/// A piece of 1 to 7 bytes as one word: its bytes, little-endian, with its length in the top byte
/// (the padding alone cannot tell "a" from "a\0"); and the slot its probe starts at.
#[derive(Clone, Copy)]
struct CompactKey {
    word: u64,
    first_slot: usize,
}

impl CompactKey {
    fn new(piece: &[u8]) -> Option<CompactKey> {
        let len = piece.len();
        if len == 0 || len > CompactIdsCache::MAX_KEY_LEN {
            return None;
        }
        Some(Self::from_bytes(padded_word(piece), len))
    }

    /// The key of the piece `text[a..b]`: [`CompactKey::new`], but where 8 bytes of `text`
    /// follow `a` they are read as one word and the bytes past the piece masked off.
    #[inline(always)]
    fn in_text(text: &[u8], a: usize, b: usize) -> Option<CompactKey> {
        let len = b - a;
        if len == 0 || len > CompactIdsCache::MAX_KEY_LEN {
            return None;
        }
        let Some(window) = text.get(a..a + 8) else {
            return Self::new(&text[a..b]);
        };
        let bytes: [u8; 8] = window.try_into().expect("8 bytes");
        let mask = (1u64 << (8 * len)) - 1;
        Some(Self::from_bytes(u64::from_le_bytes(bytes) & mask, len))
    }

    #[inline(always)]
    fn from_bytes(bytes: u64, len: usize) -> CompactKey {
        let word = bytes | (len as u64) << 56;
        // Multiplicative hashing: the product's high bits, which pick the slot, depend on
        // every bit of the word.
        let hash = word.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        CompactKey {
            word,
            first_slot: (hash >> (64 - CompactIdsCache::SLOT_BITS)) as usize,
        }
    }
}

impl CompactIdsCache {
    const SLOT_BITS: u32 = 16;
    const SLOTS: usize = 1 << Self::SLOT_BITS;
    const MAX_ENTRIES: usize = Self::SLOTS / 2;
    const MAX_KEY_LEN: usize = 7;
    const MAX_IDS: usize = 4;
    const ID_BITS: u32 = 21;
    /// The all-ones id: marks an unused place in the ids word of 1 to 3 ids (so it cannot itself
    /// be stored).
    const NO_ID: u32 = (1 << Self::ID_BITS) - 1;
    /// Set in a stored key word whose ids word holds four 16-bit ids. A piece's key word leaves
    /// it clear (its length needs 3 bits of the top byte), so lookups compare without it.
    const FOUR_IDS: u64 = 1 << 63;

    fn new() -> Self {
        CompactIdsCache {
            slots: OnceLock::new(),
            len: AtomicUsize::new(0),
        }
    }

    /// Whether an entry for `piece` and `ids` has room in a slot.
    fn fits(piece: &[u8], ids: &[u32]) -> bool {
        let ids_fit = match ids.len() {
            1..=3 => ids.iter().all(|&id| id < Self::NO_ID),
            Self::MAX_IDS => ids.iter().all(|&id| id <= u32::from(u16::MAX)),
            _ => false,
        };
        (1..=Self::MAX_KEY_LEN).contains(&piece.len()) && ids_fit
    }

    /// `ids` (which [`CompactIdsCache::fits`]) as one word, and the format bit its key is stored
    /// with: four ids of 16 bits (`FOUR_IDS`), or three places of 21 bits, `NO_ID` in the
    /// unused ones.
    fn pack(ids: &[u32]) -> (u64, u64) {
        if ids.len() == 4 {
            let word = ids
                .iter()
                .rev()
                .fold(0, |word, &id| word << 16 | u64::from(id));
            return (word, Self::FOUR_IDS);
        }
        let word = (0..3).fold(0, |word, i| {
            let id = ids.get(i).copied().unwrap_or(Self::NO_ID);
            word | u64::from(id) << (Self::ID_BITS * i as u32)
        });
        (word, 0)
    }

    /// The published ids word of `key` and its format bit, if stored.
    #[inline]
    fn find(&self, key: &CompactKey) -> Option<(u64, u64)> {
        let slots = self.slots.get()?;
        for i in linear_probe(key.first_slot, Self::SLOTS) {
            let slot = &slots[i];
            let word = slot.key.load(Ordering::Acquire);
            if word & !Self::FOUR_IDS == key.word {
                // The `Acquire` load that saw the published key orders the ids' store before.
                return Some((slot.ids.load(Ordering::Relaxed), word & Self::FOUR_IDS));
            }
            // An empty slot ends the probe: inserts claim the first empty slot they meet.
            if word == EMPTY_SLOT {
                return None;
            }
        }
        None
    }

    /// Starts loading the slot a lookup of `key` reads first: a hint, results never depend on it.
    #[inline]
    fn prefetch(&self, key: &CompactKey) {
        let Some(slots) = self.slots.get() else {
            return;
        };
        prefetch_line(&slots[key.first_slot]);
    }

    #[cfg(test)]
    fn get(&self, piece: &[u8]) -> Option<Vec<u32>> {
        let mut out = Vec::new();
        let key = CompactKey::new(piece)?;
        self.extend_with_key(&key, &mut out).then_some(out)
    }

    /// Appends the ids of the piece whose key is `key` to `out`; `false` when it is not stored.
    #[inline]
    fn extend_with_key(&self, key: &CompactKey, out: &mut Vec<u32>) -> bool {
        let Some((packed, format)) = self.find(key) else {
            return false;
        };
        let (ids, used) = if format == Self::FOUR_IDS {
            let id = |i: u32| u32::from((packed >> (16 * i)) as u16);
            ([id(0), id(1), id(2), id(3)], 4)
        } else {
            let id = |i: u32| (packed >> (Self::ID_BITS * i)) as u32 & Self::NO_ID;
            let ids = [id(0), id(1), id(2), 0];
            // The first place is always used, and unused places only follow used ones.
            let used = 1 + usize::from(ids[1] != Self::NO_ID) + usize::from(ids[2] != Self::NO_ID);
            (ids, used)
        };
        // Copying every place and cutting back avoids a branch per id.
        let len = out.len() + used;
        out.extend_from_slice(&ids);
        out.truncate(len);
        true
    }

    /// Stores `ids` for `piece` (which must [`CompactIdsCache::fits`]); `false` when the table is
    /// full, so that the caller stores them elsewhere. A second insert of a piece keeps the first
    /// ids (and answers `true` unless the table is full).
    fn insert(&self, piece: &[u8], ids: &[u32]) -> bool {
        debug_assert!(Self::fits(piece, ids));
        let Some(key) = CompactKey::new(piece) else {
            return false;
        };
        if self.len.load(Ordering::Relaxed) >= Self::MAX_ENTRIES {
            return false;
        }
        let slots = self.slots.get_or_init(|| {
            (0..Self::SLOTS)
                .map(|_| CompactSlot {
                    key: AtomicU64::new(EMPTY_SLOT),
                    ids: AtomicU64::new(0),
                })
                .collect()
        });
        for i in linear_probe(key.first_slot, Self::SLOTS) {
            let slot = &slots[i];
            match claim_slot(&slot.key) {
                Ok(()) => {
                    let (packed, format) = Self::pack(ids);
                    slot.ids.store(packed, Ordering::Relaxed);
                    slot.key.store(key.word | format, Ordering::Release);
                    self.len.fetch_add(1, Ordering::Relaxed);
                    return true;
                }
                Err(word) if word & !Self::FOUR_IDS == key.word => return true,
                Err(_) => {}
            }
        }
        false
    }

    fn clear(&mut self) {
        self.slots = OnceLock::new();
        *self.len.get_mut() = 0;
    }
}

/// The slots of a table of `slots` (a power of two) to try from `start`, in order: linear probing,
/// wrapping at the end: the probe sequence of all three tables.
#[inline]
fn linear_probe(start: usize, slots: usize) -> impl Iterator<Item = usize> {
    debug_assert!(slots.is_power_of_two());
    (0..slots).map(move |i| (start + i) & (slots - 1))
}

/// The word of an empty slot, in both write-once tables.
const EMPTY_SLOT: u64 = 0;
/// The word of a slot claimed and not yet published: no key's word in either table (a compact
/// key's top byte holds a length of 1 or more; an inline tag has `InlineKey::PUBLISHED` set).
const BUSY_SLOT: u64 = 1;

/// Claims the slot whose key or tag word is `word` for an insert: `Ok` when it was empty and is
/// now `BUSY_SLOT`, this thread its only writer; otherwise the word it holds (another thread's,
/// published or busy). The word is loaded before any compare-exchange, which would take the
/// cache line away from the readers of a filled slot even when it fails.
fn claim_slot(word: &AtomicU64) -> Result<(), u64> {
    let seen = word.load(Ordering::Acquire);
    if seen != EMPTY_SLOT {
        return Err(seen);
    }
    word.compare_exchange(EMPTY_SLOT, BUSY_SLOT, Ordering::Relaxed, Ordering::Acquire)
        .map(|_| ())
}

/// Starts loading the cache line of `target`: a hint, results never depend on it.
#[inline(always)]
fn prefetch_line<T>(target: &T) {
    let line: *const T = target;
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch only hints the cache; it reads nothing and cannot fault, and the
    // pointer is to a live value anyway.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch(line.cast::<i8>(), _MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = line;
}

/// Piece → ids with the key and the ids inline in one 64-byte slot: a hit is one cache line
/// (the [`PieceCache`] follows a pointer to the key and another to the value, three dependent
/// misses), and keys are compared as three words instead of by a `memcmp` call. Pieces longer
/// than [`InlineIdsCache::MAX_KEY_LEN`] bytes or with more than [`InlineIdsCache::MAX_IDS`] ids
/// are not stored.
///
/// Like [`PieceCache`] it is shared by all threads without locks, never evicts, and is bounded:
/// inserts stop once half the slots are taken. A slot is written once: an insert claims an empty
/// slot by swapping its tag from `EMPTY_SLOT` to `BUSY_SLOT`, writes the payload, and publishes
/// the key's tag (never `EMPTY_SLOT` or `BUSY_SLOT`) with `Release`; a lookup reads the payload
/// only after loading a published tag with `Acquire`. Two threads may both store a key (one passes
/// the other's busy slot); both entries hold the same ids, so either answers.
struct InlineIdsCache {
    /// Allocated by the first insert: a model that never encodes costs nothing.
    slots: OnceLock<Box<[InlineSlot]>>,
    /// Slots claimed so far; inserts stop at `MAX_ENTRIES`, which keeps probe sequences short.
    len: AtomicUsize,
}

#[repr(C, align(64))]
struct InlineSlot {
    /// `EMPTY_SLOT`, `BUSY_SLOT`, or the published [`InlineKey::tag`] of the payload's key.
    tag: AtomicU64,
    payload: UnsafeCell<InlinePayload>,
}

#[derive(Clone, Copy)]
struct InlinePayload {
    key: [u64; InlineIdsCache::KEY_WORDS],
    ids: [u32; InlineIdsCache::MAX_IDS],
    ids_len: u8,
}

const _: () = assert!(std::mem::size_of::<InlineSlot>() == 64);

// SAFETY: the payload is written only by the thread whose compare-exchange moved the slot's tag
// from `EMPTY_SLOT` to `BUSY_SLOT` (one thread at most, and only once per allocation of the
// table), before it publishes the tag with `Release`; readers touch the payload only after
// loading a published tag with `Acquire`, so that write happens before every read, and nothing
// writes it afterwards.
// Sharing `&InlineSlot` between threads therefore never races on the payload.
unsafe impl Sync for InlineSlot {}

/// A piece in the form the slots keep: its bytes as zero-padded little-endian words, and its tag.
#[derive(Clone, Copy)]
struct InlineKey {
    words: [u64; InlineIdsCache::KEY_WORDS],
    tag: u64,
    first_slot: usize,
}

impl InlineKey {
    /// Set in every published tag, so that no key's tag is `EMPTY_SLOT` or `BUSY_SLOT`.
    const PUBLISHED: u64 = 1 << 63;

    fn new(piece: &[u8]) -> Option<InlineKey> {
        let len = piece.len();
        if len > InlineIdsCache::MAX_KEY_LEN {
            return None;
        }
        let word = |i: usize| padded_word(&piece[(8 * i).min(len)..(8 * i + 8).min(len)]);
        Some(Self::from_words([word(0), word(1), word(2)], len))
    }

    /// The key of the piece `text[a..b]`: [`InlineKey::new`], but where 24 bytes of `text`
    /// follow `a` they are read as three whole words and the bytes past the piece masked off,
    /// with no per-length branches.
    #[inline(always)]
    fn in_text(text: &[u8], a: usize, b: usize) -> Option<InlineKey> {
        let len = b - a;
        if len > InlineIdsCache::MAX_KEY_LEN {
            return None;
        }
        let Some(window) = text.get(a..a + InlineIdsCache::MAX_KEY_LEN) else {
            return Self::new(&text[a..b]);
        };
        let word = |i: usize| {
            let bytes: [u8; 8] = window[8 * i..8 * i + 8].try_into().expect("8 bytes");
            // The low `kept` bytes belong to the piece (0 to 8 of them).
            let kept = len.saturating_sub(8 * i).min(8) as u32;
            let mask = u64::MAX.checked_shr(64 - 8 * kept).unwrap_or(0);
            u64::from_le_bytes(bytes) & mask
        };
        Some(Self::from_words([word(0), word(1), word(2)], len))
    }

    #[inline]
    fn from_words(words: [u64; InlineIdsCache::KEY_WORDS], len: usize) -> InlineKey {
        // Fx-style multiply chain: the high bits, which pick the slot, depend on every byte.
        let mut hash = len as u64;
        for word in words {
            hash = (hash ^ word).wrapping_mul(0xf135_7aea_2e62_a9c5);
        }
        // The low byte holds the length: padded words alone cannot tell "a" from "a\0".
        let tag = (hash & !0xff) | len as u64 | Self::PUBLISHED;
        let first_slot = (hash >> (64 - InlineIdsCache::SLOT_BITS)) as usize;
        InlineKey {
            words,
            tag,
            first_slot,
        }
    }

    fn matches(&self, payload: &InlinePayload) -> bool {
        let [a, b, c] = self.words;
        let [x, y, z] = payload.key;
        (a ^ x) | (b ^ y) | (c ^ z) == 0
    }
}

/// `bytes` (at most 8) as a little-endian word padded with zeros. Overlapping loads cover each
/// length without a loop or a `memcpy` call.
fn padded_word(bytes: &[u8]) -> u64 {
    let len = bytes.len();
    debug_assert!(len <= 8);
    match len {
        8.. => u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")),
        4..=7 => {
            let low = u32::from_le_bytes(bytes[..4].try_into().expect("4 bytes"));
            let high = u32::from_le_bytes(bytes[len - 4..].try_into().expect("4 bytes"));
            // The overlapping bytes are the same in both loads, so OR keeps them intact.
            u64::from(low) | u64::from(high) << ((len - 4) * 8)
        }
        1..=3 => {
            u64::from(bytes[0])
                | u64::from(bytes[len / 2]) << (len / 2 * 8)
                | u64::from(bytes[len - 1]) << ((len - 1) * 8)
        }
        0 => 0,
    }
}

impl InlineIdsCache {
    const SLOT_BITS: u32 = 17;
    const SLOTS: usize = 1 << Self::SLOT_BITS;
    const MAX_ENTRIES: usize = Self::SLOTS / 2;
    const KEY_WORDS: usize = 3;
    const MAX_KEY_LEN: usize = 8 * Self::KEY_WORDS;
    const MAX_IDS: usize = 7;

    fn new() -> Self {
        InlineIdsCache {
            slots: OnceLock::new(),
            len: AtomicUsize::new(0),
        }
    }

    /// Whether an entry for `piece` and `ids` has room in a slot.
    fn fits(piece: &[u8], ids: &[u32]) -> bool {
        piece.len() <= Self::MAX_KEY_LEN && ids.len() <= Self::MAX_IDS
    }

    /// The published payload of `key`, if stored.
    #[inline]
    fn find(&self, key: &InlineKey) -> Option<&InlinePayload> {
        let slots = self.slots.get()?;
        for i in linear_probe(key.first_slot, Self::SLOTS) {
            let slot = &slots[i];
            let tag = slot.tag.load(Ordering::Acquire);
            // An empty slot ends the probe: inserts claim the first empty slot they meet.
            if tag == EMPTY_SLOT {
                return None;
            }
            if tag == key.tag {
                // SAFETY: `tag` is published (`key.tag` is never `EMPTY_SLOT` or `BUSY_SLOT`), and
                // the `Acquire` load that saw it orders the payload's only write before this read.
                let payload = unsafe { &*slot.payload.get() };
                if key.matches(payload) {
                    return Some(payload);
                }
            }
        }
        None
    }

    /// Starts loading the slot a lookup of `key` reads first: a hint, results never depend on it.
    #[inline]
    fn prefetch(&self, key: &InlineKey) {
        let Some(slots) = self.slots.get() else {
            return;
        };
        prefetch_line(&slots[key.first_slot]);
    }

    #[cfg(test)]
    fn get(&self, piece: &[u8]) -> Option<&[u32]> {
        self.find(&InlineKey::new(piece)?)
            .map(|payload| &payload.ids[..usize::from(payload.ids_len)])
    }

    /// Appends the ids of `piece` to `out`; `false` when `piece` is not stored.
    fn extend_with_ids(&self, piece: &[u8], out: &mut Vec<u32>) -> bool {
        InlineKey::new(piece).is_some_and(|key| self.extend_with_key(&key, out))
    }

    /// [`InlineIdsCache::extend_with_ids`] of the piece whose key is `key`.
    #[inline]
    fn extend_with_key(&self, key: &InlineKey, out: &mut Vec<u32>) -> bool {
        let Some(payload) = self.find(key) else {
            return false;
        };
        // Copying the whole fixed-size array and cutting it back avoids a `memcpy` call of a
        // variable length.
        let len = out.len() + usize::from(payload.ids_len);
        out.extend_from_slice(&payload.ids);
        out.truncate(len);
        true
    }

    /// Stores `ids` for `piece`, unless they do not fit, the cache is full, or `piece` is
    /// already stored (a second insert keeps the first ids).
    fn insert(&self, piece: &[u8], ids: &[u32]) {
        if !Self::fits(piece, ids) || self.len.load(Ordering::Relaxed) >= Self::MAX_ENTRIES {
            return;
        }
        let Some(key) = InlineKey::new(piece) else {
            return;
        };
        let slots = self.slots.get_or_init(|| {
            (0..Self::SLOTS)
                .map(|_| InlineSlot {
                    tag: AtomicU64::new(EMPTY_SLOT),
                    payload: UnsafeCell::new(InlinePayload {
                        key: [0; Self::KEY_WORDS],
                        ids: [0; Self::MAX_IDS],
                        ids_len: 0,
                    }),
                })
                .collect()
        });
        for i in linear_probe(key.first_slot, Self::SLOTS) {
            let slot = &slots[i];
            let tag = match claim_slot(&slot.tag) {
                Ok(()) => {
                    let mut payload = InlinePayload {
                        key: key.words,
                        ids: [0; Self::MAX_IDS],
                        ids_len: ids.len() as u8,
                    };
                    payload.ids[..ids.len()].copy_from_slice(ids);
                    // SAFETY: the compare-exchange made this thread the slot's only writer, and
                    // readers skip a `BUSY_SLOT` slot's payload until the `Release` store below
                    // publishes it.
                    unsafe { *slot.payload.get() = payload };
                    slot.tag.store(key.tag, Ordering::Release);
                    self.len.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                Err(tag) => tag,
            };
            if tag == key.tag {
                // SAFETY: as in `find`: a published tag loaded with `Acquire`.
                if key.matches(unsafe { &*slot.payload.get() }) {
                    return;
                }
            }
        }
    }

    fn clear(&mut self) {
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

    fn published_slots(cache: &InlineIdsCache) -> usize {
        let slots = cache.slots.get().unwrap();
        let published = |s: &InlineSlot| s.tag.load(Ordering::Relaxed) & InlineKey::PUBLISHED != 0;
        slots.iter().filter(|s| published(s)).count()
    }

    #[test]
    fn padded_words_are_the_bytes_zero_padded() {
        let bytes = *b"\x01\x82\x03\xf4\x05\x06\x07\x88";
        for len in 0..=8 {
            let mut padded = [0u8; 8];
            padded[..len].copy_from_slice(&bytes[..len]);
            assert_eq!(
                padded_word(&bytes[..len]),
                u64::from_le_bytes(padded),
                "{len}"
            );
        }
    }

    #[test]
    fn inline_cache_finds_what_fits_and_stops_when_full() {
        let mut cache = InlineIdsCache::new();
        assert_eq!(cache.get(b"hello"), None);
        cache.insert(b"hello", &[1, 2]);
        cache.insert(b"hello", &[9]); // a second insert of a key keeps the first ids
        assert_eq!(cache.get(b"hello"), Some(&[1, 2][..]));
        assert_eq!(cache.get(b"hell"), None);
        assert_eq!(cache.get(b"hello\0"), None); // padding does not hide a length
        cache.insert(b"", &[]);
        assert_eq!(cache.get(b""), Some(&[][..]));
        let longest = [b'x'; InlineIdsCache::MAX_KEY_LEN];
        let most = [7; InlineIdsCache::MAX_IDS];
        cache.insert(&longest, &most);
        assert_eq!(cache.get(&longest), Some(&most[..]));
        // Over-long keys and too many ids are refused.
        cache.insert(&[b'x'; InlineIdsCache::MAX_KEY_LEN + 1], &[1]);
        assert_eq!(cache.get(&[b'x'; InlineIdsCache::MAX_KEY_LEN + 1]), None);
        cache.insert(b"many", &[1; InlineIdsCache::MAX_IDS + 1]);
        assert_eq!(cache.get(b"many"), None);
        let mut out = vec![5];
        assert!(cache.extend_with_ids(b"hello", &mut out));
        assert!(!cache.extend_with_ids(b"many", &mut out));
        assert_eq!(out, [5, 1, 2]);

        for i in 0..200_000u32 {
            cache.insert(i.to_string().as_bytes(), &[i]);
        }
        assert_eq!(published_slots(&cache), InlineIdsCache::MAX_ENTRIES);
        assert_eq!(cache.get(b"17"), Some(&[17][..]));
        assert_eq!(cache.get(b"199999"), None);
        cache.clear();
        assert_eq!(cache.get(b"hello"), None);
        cache.insert(b"hello", &[5]);
        assert_eq!(cache.get(b"hello"), Some(&[5][..]));
    }

    #[test]
    fn keys_read_in_whole_words_equal_keys_of_the_piece() {
        // Every piece of every length up to one past the longest key, at every start, with and
        // without the 24 bytes after its start that allow whole-word reads.
        let text: Vec<u8> = (0..64u8).map(|b| b.wrapping_mul(37) | 1).collect();
        for a in 0..text.len() {
            for b in a..=(a + InlineIdsCache::MAX_KEY_LEN + 1).min(text.len()) {
                let read = InlineKey::in_text(&text, a, b);
                let made = InlineKey::new(&text[a..b]);
                let parts = |k: Option<InlineKey>| k.map(|k| (k.words, k.tag, k.first_slot));
                assert_eq!(parts(read), parts(made), "piece {a}..{b}");
                let read = CompactKey::in_text(&text, a, b);
                let made = CompactKey::new(&text[a..b]);
                let parts = |k: Option<CompactKey>| k.map(|k| (k.word, k.first_slot));
                assert_eq!(parts(read), parts(made), "compact piece {a}..{b}");
                assert_eq!(made.is_some(), (1..=7).contains(&(b - a)), "piece {a}..{b}");
            }
        }
    }

    #[test]
    fn pipelined_lookups_equal_one_lookup_per_piece() {
        // A text cut into pieces of every kind: cached inline, spilled (a short piece with more
        // ids than a slot holds, and a piece longer than a key), and not cached; more pieces
        // than the pipeline's depth, the last ones too close to the end for whole-word reads.
        let words = [
            "alpha",
            " beta",
            " gamma",
            "many",
            " delta",
            " a-piece-longer-than-24-bytes",
            "!",
            "four",
            " eps",
            " 8 bytes",
        ];
        let text: String = words.iter().cycle().take(40).copied().collect();
        let mut pieces = Vec::new();
        let mut at = 0;
        for word in words.iter().cycle().take(40) {
            pieces.push((at, at + word.len()));
            at += word.len();
        }
        // "four" has more ids than a compact slot holds and " eps" an id too large for one: both
        // are short pieces kept inline; " 8 bytes" is one byte too long for a compact key.
        let ids_of = |piece: &[u8]| -> Vec<u32> {
            let n = match piece {
                b"many" => InlineIdsCache::MAX_IDS + 2,
                b"four" => CompactIdsCache::MAX_IDS + 1,
                _ => 2,
            };
            let base = match piece {
                b" eps" => u32::MAX - 10,
                _ => piece.len() as u32 * 100,
            };
            (0..n as u32).map(|i| base + i).collect()
        };
        let cache = PieceIdsCache::new();
        for word in [
            "alpha",
            " beta",
            "many",
            " delta",
            " a-piece-longer-than-24-bytes",
            "four",
            " eps",
            " 8 bytes",
        ] {
            cache.insert(word.as_bytes(), &ids_of(word.as_bytes()));
        }
        let count = |table: &AtomicUsize| table.load(Ordering::Relaxed);
        assert_eq!(count(&cache.compact.len), 3);
        assert_eq!(count(&cache.inline.len), 3);
        assert_eq!(count(&cache.spilled.len), 2);
        let mut expected = vec![9];
        let mut missed = Vec::new();
        for &(a, b) in &pieces {
            let piece = &text.as_bytes()[a..b];
            if !cache.extend_with_ids(piece, &mut expected) {
                missed.push((a, b));
                expected.extend(ids_of(piece));
            }
        }
        // 4 of the 40 pieces are " gamma" and 4 are "!", the two pieces not cached.
        assert_eq!(missed.len(), 8);
        assert!(missed
            .iter()
            .all(|&(a, b)| [" gamma", "!"].contains(&&text[a..b])));
        let mut got = vec![9];
        let mut got_missed = Vec::new();
        cache
            .extend_with_pieces(text.as_bytes(), &pieces, &mut got, |a, b, out| {
                got_missed.push((a, b));
                out.extend(ids_of(&text.as_bytes()[a..b]));
                Ok(())
            })
            .unwrap();
        assert_eq!(got, expected);
        assert_eq!(got_missed, missed);
        // With padding past the last piece (the fast path for every key), and with fewer
        // pieces than the pipeline's depth.
        let padded = format!("{text}{}", "\0".repeat(InlineIdsCache::MAX_KEY_LEN));
        for n in [pieces.len(), 3, 0] {
            let mut again = vec![9];
            cache
                .extend_with_pieces(padded.as_bytes(), &pieces[..n], &mut again, |a, b, out| {
                    out.extend(ids_of(&text.as_bytes()[a..b]));
                    Ok(())
                })
                .unwrap();
            let end = if n == pieces.len() {
                expected.len()
            } else {
                again.len()
            };
            assert_eq!(again, expected[..end], "{n} pieces");
        }
        // In runs: the same ids, and at each run's end (empty runs, runs ending together, a run
        // said to end past the last piece) the ids so far.
        let run_ends = [0, 0, 5, 17, 17, 39, 40, 41];
        let mut runs = vec![9];
        let mut ends = Vec::new();
        cache
            .extend_with_piece_runs(text.as_bytes(), &pieces, &run_ends, &mut runs, &mut ends, {
                |a, b, out| {
                    out.extend(ids_of(&text.as_bytes()[a..b]));
                    Ok(())
                }
            })
            .unwrap();
        assert_eq!(runs, expected);
        // The length of `runs` after the first `n` pieces (its leading 9 included).
        let ids_after = |n: usize| {
            let mut ids = vec![9];
            for &(a, b) in &pieces[..n.min(pieces.len())] {
                let piece = &text.as_bytes()[a..b];
                if !cache.extend_with_ids(piece, &mut ids) {
                    ids.extend(ids_of(piece));
                }
            }
            ids.len()
        };
        let expected_ends: Vec<usize> = run_ends.iter().map(|&n| ids_after(n)).collect();
        assert_eq!(ends, expected_ends);
    }

    #[test]
    fn inline_cache_threads_inserting_the_same_keys_agree() {
        let cache = InlineIdsCache::new();
        let key = |i: u32| format!("piece {i}");
        std::thread::scope(|scope| {
            for t in 0..4u32 {
                let (cache, key) = (&cache, &key);
                scope.spawn(move || {
                    for i in 0..20_000u32 {
                        cache.insert(key(i).as_bytes(), &[i, t]);
                        let got = cache.get(key(i).as_bytes()).map(|ids| ids[0]);
                        assert_eq!(got, Some(i));
                    }
                });
            }
        });
        // Two threads may both store a key; never more than one slot per insert.
        let stored = published_slots(&cache);
        assert!((20_000..=80_000).contains(&stored), "{stored}");
        assert_eq!(cache.len.load(Ordering::Relaxed), stored);
        for i in 0..20_000u32 {
            assert_eq!(cache.get(key(i).as_bytes()).map(|ids| ids[0]), Some(i));
        }
    }

    #[test]
    fn piece_ids_cache_keeps_each_piece_in_the_table_it_fits() {
        let mut cache = PieceIdsCache::new();
        let long = vec![b'a'; 100];
        let entries: [(&[u8], &[u32]); 7] = [
            (b"short", &[1, 2]),
            (b"8 bytes!", &[3]),
            (b"4 ids", &[4, 5, 6, 65_535]),
            (b"4 large", &[4, 5, 6, 65_536]),
            (b"big id", &[CompactIdsCache::NO_ID]),
            (&long, &[8]),
            (b"many ids", &[9; 20]),
        ];
        for (piece, ids) in entries {
            cache.insert(piece, ids);
        }
        let count = |table: &AtomicUsize| table.load(Ordering::Relaxed);
        assert_eq!(count(&cache.compact.len), 2);
        assert_eq!(count(&cache.inline.len), 3);
        assert_eq!(count(&cache.spilled.len), 2);
        for (piece, ids) in entries {
            let mut out = vec![0];
            assert!(cache.extend_with_ids(piece, &mut out));
            assert_eq!(out[1..], *ids);
        }
        cache.clear();
        for (piece, _) in entries {
            assert!(!cache.extend_with_ids(piece, &mut Vec::new()));
        }
    }

    #[test]
    fn compact_cache_finds_what_fits_and_stops_when_full() {
        let mut cache = CompactIdsCache::new();
        assert_eq!(cache.get(b"hello"), None);
        assert!(cache.insert(b"hello", &[1, 2]));
        assert!(cache.insert(b"hello", &[9])); // a second insert keeps the first ids
        assert_eq!(cache.get(b"hello"), Some(vec![1, 2]));
        assert_eq!(cache.get(b"hell"), None);
        assert_eq!(cache.get(b"hello\0"), None); // padding does not hide a length
        assert_eq!(cache.get(b""), None);
        // One to three ids, the largest storable one included, at each place.
        let top = CompactIdsCache::NO_ID - 1;
        let cases: [(&[u8], &[u32]); 7] = [
            (b"four", &[65_535, 0, 1, 2]),
            (b"4", &[0, 65_535, 0, 65_535]),
            (b"a", &[0]),
            (b"a\0", &[top]),
            (b"\xff\xfe\xfd\xfc\xfb\xfa\xf9", &[top, 0, top]),
            (b"two", &[5, top]),
            (b"\0", &[top, top, 7]),
        ];
        for (piece, ids) in cases {
            assert!(CompactIdsCache::fits(piece, ids));
            assert!(cache.insert(piece, ids));
        }
        for (piece, ids) in cases {
            assert_eq!(cache.get(piece).as_deref(), Some(ids), "{piece:?}");
        }
        // What does not fit: no bytes, too many bytes, no ids, too many ids, an id too large.
        let refused: [(&[u8], &[u32]); 7] = [
            (b"", &[1]),
            (b"8 bytes!", &[1]),
            (b"none", &[]),
            (b"five", &[1, 2, 3, 4, 5]),
            (b"four", &[1, 2, 65_536, 4]),
            (b"four", &[1, 2, 3, u32::MAX]),
            (b"large", &[1, CompactIdsCache::NO_ID]),
        ];
        for (piece, ids) in refused {
            assert!(!CompactIdsCache::fits(piece, ids), "{piece:?}");
        }
        let mut out = vec![5];
        assert!(cache.extend_with_key(&CompactKey::new(b"hello").unwrap(), &mut out));
        assert!(!cache.extend_with_key(&CompactKey::new(b"other").unwrap(), &mut out));
        assert_eq!(out, [5, 1, 2]);

        let mut stored = 0;
        for i in 0..200_000u32 {
            stored += usize::from(cache.insert(i.to_string().as_bytes(), &[i]));
        }
        let published = |cache: &CompactIdsCache| {
            let slots = cache.slots.get().unwrap();
            let busy_or_empty = [EMPTY_SLOT, BUSY_SLOT];
            let published =
                |s: &&CompactSlot| !busy_or_empty.contains(&s.key.load(Ordering::Relaxed));
            slots.iter().filter(published).count()
        };
        assert_eq!(published(&cache), CompactIdsCache::MAX_ENTRIES);
        assert_eq!(
            cache.len.load(Ordering::Relaxed),
            CompactIdsCache::MAX_ENTRIES
        );
        assert!(stored < CompactIdsCache::MAX_ENTRIES);
        assert_eq!(cache.get(b"17"), Some(vec![17]));
        assert_eq!(cache.get(b"199999"), None);
        assert!(!cache.insert(b"new", &[1])); // full: the caller stores it elsewhere
        cache.clear();
        assert_eq!(cache.get(b"hello"), None);
        assert!(cache.insert(b"hello", &[5]));
        assert_eq!(cache.get(b"hello"), Some(vec![5]));
    }

    #[test]
    fn short_pieces_stored_once_the_compact_table_is_full_are_found_inline() {
        let cache = PieceIdsCache::new();
        for i in 0..CompactIdsCache::MAX_ENTRIES as u32 {
            cache.insert(format!("{i:x}").as_bytes(), &[i]);
        }
        assert_eq!(
            cache.compact.len.load(Ordering::Relaxed),
            CompactIdsCache::MAX_ENTRIES
        );
        cache.insert(b" late", &[1, 2]);
        assert_eq!(cache.inline.len.load(Ordering::Relaxed), 1);
        let mut out = Vec::new();
        assert!(cache.extend_with_ids(b" late", &mut out));
        let text = b"ab late lateab";
        let pieces = [(0, 2), (2, 7), (7, 12), (12, 14)];
        let mut piped = Vec::new();
        cache
            .extend_with_pieces(text, &pieces, &mut piped, |_, _, _| {
                panic!("every piece is cached")
            })
            .unwrap();
        assert_eq!(out, [1, 2]);
        assert_eq!(piped, [0xab, 1, 2, 1, 2, 0xab]);
    }

    #[test]
    fn compact_cache_threads_inserting_the_same_keys_agree() {
        let cache = CompactIdsCache::new();
        let key = |i: u32| format!("p{i}");
        std::thread::scope(|scope| {
            for t in 0..4u32 {
                let (cache, key) = (&cache, &key);
                scope.spawn(move || {
                    for i in 0..20_000u32 {
                        assert!(cache.insert(key(i).as_bytes(), &[i, t]));
                        let got = cache.get(key(i).as_bytes()).map(|ids| ids[0]);
                        assert_eq!(got, Some(i));
                    }
                });
            }
        });
        // Two threads may both store a key; never more than one slot per insert.
        let stored = cache.len.load(Ordering::Relaxed);
        assert!(
            (20_000..=CompactIdsCache::MAX_ENTRIES).contains(&stored),
            "{stored}"
        );
        for i in 0..20_000u32 {
            assert_eq!(cache.get(key(i).as_bytes()).map(|ids| ids[0]), Some(i));
        }
    }
}
