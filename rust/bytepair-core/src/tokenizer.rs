//! The tokenizer: ranks (bytes -> rank), ids, special tokens and a pre-tokenizer, with encode and decode.
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::encode::{encode_piece, PieceCache, RankMap, Ranks};
use crate::error::{Error, Result};
use crate::pretokenize::PreTokenizer;
use crate::special::{Allowed, SpecialTokens};

/// A byte-level BPE tokenizer. Immutable once built, `Send + Sync`.
#[derive(Debug, Clone)]
pub struct Tokenizer {
    /// Mergeable token bytes -> rank (merge priority; lower merges first).
    ranks: Ranks,
    /// The same, packed for fast lookups.
    lookup: RankMap,
    /// Identifies this tokenizer's entries in the per-thread piece cache.
    uid: u64,
    /// rank -> id (identity for tiktoken ranks and trained tokenizers).
    rank_to_id: Vec<u32>,
    /// True when `rank_to_id` is the identity (then encoding skips the mapping pass).
    ids_are_ranks: bool,
    /// id -> bytes (`None` for unassigned ids), for ids below [`Tokenizer::dense_ids`]: the regular tokens and
    /// the special tokens near them.
    decoder: Vec<Option<Vec<u8>>>,
    /// Special tokens whose ids are far above the regular ones (see [`NEAR_SPECIALS`]), sorted by id: a table
    /// indexed by id would take gigabytes for one id near 2**32.
    far: Vec<(u32, Vec<u8>)>,
    /// One more than the largest id.
    n_vocab: usize,
    special: SpecialTokens,
    pretok: PreTokenizer,
    /// The merges, in order, when the tokenizer was built from them (or trained).
    merges: Option<Vec<(Vec<u8>, Vec<u8>)>>,
}

/// Regular token ids (and ranks) must be below this, for `n` regular tokens: twice as many, and 2**22 more (ranks
/// past the pair map's 21 bits stay possible in a small vocabulary, and the tests use them). Tables indexed by id
/// or rank then take at most about 100 MB more than the vocabulary's own size; tiktoken's files and trained
/// vocabularies number their tokens 0..n.
fn dense_bound(n: usize) -> u64 {
    2 * n as u64 + (1 << 22)
}

/// Special tokens with ids up to this far above the largest regular id are kept in the table indexed by id (a
/// few MB at most); the others in a sorted list, so that one id near 2**32 costs nothing.
const NEAR_SPECIALS: u64 = 1 << 16;

/// An error naming the largest id when the regular ids are too sparse for tables indexed by id ([`dense_bound`]),
/// instead of allocating gigabytes for one stray id.
fn check_dense(max_id: u32, n: usize) -> Result<()> {
    if max_id as u64 >= dense_bound(n) {
        return Err(Error::InvalidArgument(format!(
            "the token ids (ranks) are sparse: {max_id} is the largest for {n} regular tokens; bytepair keeps tables \
             indexed by id and accepts ids (ranks) below 2 x {n} + 2**22 = {} (tiktoken's files number them from 0 \
             to {}); special tokens may have any id (pass them as special tokens, not in the vocab)",
            dense_bound(n),
            n.saturating_sub(1)
        )));
    }
    Ok(())
}

impl Tokenizer {
    /// Builds a tokenizer from tiktoken-style ranks (bytes -> rank, which is also the id), special tokens with
    /// their ids, and a pattern (name or regex).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when a single byte is missing from the ranks, two tokens share a rank, a special
    /// token's id is also a rank, or special tokens are empty/duplicated; [`Error::Pattern`] for a bad pattern.
    pub fn from_ranks(
        ranks: Ranks,
        special_tokens: Vec<(String, u32)>,
        pattern: &str,
    ) -> Result<Self> {
        let pretok = PreTokenizer::new(pattern)?;
        let max_rank = ranks.values().copied().max().unwrap_or(0);
        check_dense(max_rank, ranks.len())?;
        let mut rank_to_id = Vec::with_capacity(max_rank as usize + 1);
        rank_to_id.extend(0..=max_rank);
        let pairs: Vec<(Vec<u8>, u32)> = ranks.iter().map(|(k, v)| (k.clone(), *v)).collect();
        Self::assemble(ranks, rank_to_id, pairs, special_tokens, pretok, None)
    }

    /// Builds a tokenizer from a vocabulary (id -> bytes, special tokens included or not) and an ordered list of
    /// merges, as trained. Multi-byte tokens get their rank from the position of the first merge that makes them;
    /// encoding then follows tiktoken's rule on those ranks.
    ///
    /// # Errors
    /// [`Error::Format`] when the vocab and merges disagree (a merge whose parts or result are not in the vocab),
    /// [`Error::InvalidArgument`] as for [`Tokenizer::from_ranks`].
    pub fn from_vocab_merges(
        vocab: Vec<(u32, Vec<u8>)>,
        merges: Vec<(Vec<u8>, Vec<u8>)>,
        special_tokens: Vec<(String, u32)>,
        pattern: &str,
    ) -> Result<Self> {
        let pretok = PreTokenizer::new(pattern)?;
        let special_ids: FxHashMap<u32, &str> = special_tokens
            .iter()
            .map(|(t, id)| (*id, t.as_str()))
            .collect();
        let mut by_bytes: FxHashMap<Vec<u8>, u32> = FxHashMap::default();
        for (id, bytes) in &vocab {
            if let Some(t) = special_ids.get(id) {
                if t.as_bytes() != bytes.as_slice() {
                    return Err(Error::Format(format!(
                        "special token {t:?} has id {id}, but the vocab has {:?} at that id",
                        String::from_utf8_lossy(bytes)
                    )));
                }
                continue;
            }
            if bytes.is_empty() {
                return Err(Error::Format(format!("vocab id {id} is an empty token")));
            }
            if let Some(prev) = by_bytes.insert(bytes.clone(), *id) {
                return Err(Error::Format(format!(
                    "vocab ids {prev} and {id} are the same token {:?}",
                    String::from_utf8_lossy(bytes)
                )));
            }
        }
        // Ranks: single bytes 0..255 by byte value; then merge results in merge order; then any other tokens.
        let mut ranks: Ranks = FxHashMap::default();
        let mut rank_to_id: Vec<u32> = Vec::with_capacity(vocab.len());
        for b in 0..=255u8 {
            match by_bytes.get(&[b][..]) {
                Some(&id) => {
                    ranks.insert(vec![b], b as u32);
                    rank_to_id.push(id);
                }
                None => {
                    return Err(Error::Format(format!(
                        "the vocab has no token for the single byte {b} (0x{b:02x}); a byte-level BPE vocab needs \
                         all 256"
                    )))
                }
            }
        }
        for (i, (a, b)) in merges.iter().enumerate() {
            for part in [a, b] {
                if !by_bytes.contains_key(part) {
                    return Err(Error::Format(format!(
                        "merge {i} ({:?}, {:?}) uses {:?}, which is not in the vocab",
                        String::from_utf8_lossy(a),
                        String::from_utf8_lossy(b),
                        String::from_utf8_lossy(part)
                    )));
                }
            }
            let mut joined = a.clone();
            joined.extend_from_slice(b);
            match by_bytes.get(&joined) {
                None => {
                    return Err(Error::Format(format!(
                        "merge {i} ({:?}, {:?}) makes {:?}, which is not in the vocab",
                        String::from_utf8_lossy(a),
                        String::from_utf8_lossy(b),
                        String::from_utf8_lossy(&joined)
                    )))
                }
                Some(&id) => {
                    if let std::collections::hash_map::Entry::Vacant(e) = ranks.entry(joined) {
                        e.insert(rank_to_id.len() as u32);
                        rank_to_id.push(id);
                    }
                }
            }
        }
        let mut rest: Vec<(u32, &Vec<u8>)> = by_bytes
            .iter()
            .filter(|(k, _)| !ranks.contains_key(*k))
            .map(|(k, v)| (*v, k))
            .collect();
        rest.sort();
        for (id, bytes) in rest {
            ranks.insert(bytes.clone(), rank_to_id.len() as u32);
            rank_to_id.push(id);
        }
        let pairs: Vec<(Vec<u8>, u32)> = by_bytes.into_iter().collect();
        Self::assemble(
            ranks,
            rank_to_id,
            pairs,
            special_tokens,
            pretok,
            Some(merges),
        )
    }

    fn assemble(
        ranks: Ranks,
        rank_to_id: Vec<u32>,
        id_bytes: Vec<(Vec<u8>, u32)>,
        special_tokens: Vec<(String, u32)>,
        pretok: PreTokenizer,
        merges: Option<Vec<(Vec<u8>, Vec<u8>)>>,
    ) -> Result<Self> {
        for b in 0..=255u8 {
            if !ranks.contains_key(&[b][..]) {
                return Err(Error::InvalidArgument(format!(
                    "the ranks have no token for the single byte {b} (0x{b:02x}); byte-level BPE needs all 256"
                )));
            }
        }
        let max_id = id_bytes
            .iter()
            .map(|(_, id)| *id)
            .chain(special_tokens.iter().map(|(_, id)| *id))
            .max()
            .unwrap_or(0);
        if max_id == u32::MAX {
            return Err(Error::InvalidArgument(format!(
                "token id {max_id} is too large"
            )));
        }
        let max_regular = id_bytes.iter().map(|(_, id)| *id).max().unwrap_or(0);
        check_dense(max_regular, id_bytes.len())?;
        // special tokens with ids up to NEAR_SPECIALS above the regular ones (as tiktoken's, right after them) go
        // in the table too; the others in `far`, however many, and whatever their ids
        let near = max_regular as u64 + NEAR_SPECIALS;
        let dense_len = special_tokens
            .iter()
            .map(|(_, id)| *id)
            .filter(|&id| (id as u64) <= near)
            .chain([max_regular])
            .max()
            .unwrap_or(0) as usize
            + 1;
        let mut decoder: Vec<Option<Vec<u8>>> = vec![None; dense_len];
        let mut far: Vec<(u32, Vec<u8>)> = Vec::new();
        for (bytes, id) in id_bytes {
            if decoder[id as usize].is_some() {
                return Err(Error::InvalidArgument(format!(
                    "two tokens have the id (rank) {id}"
                )));
            }
            decoder[id as usize] = Some(bytes);
        }
        let taken = |t: &str, id: u32, other: String| {
            Error::InvalidArgument(format!(
                "special token {t:?} has id {id}, which is already the id of {other}"
            ))
        };
        // two special tokens with one id name each other (a stable sort keeps them in the order given)
        let mut by_id: Vec<&(String, u32)> = special_tokens.iter().collect();
        by_id.sort_by_key(|(_, id)| *id);
        if let Some(w) = by_id.windows(2).find(|w| w[0].1 == w[1].1) {
            let other = format!("the special token {:?}", w[0].0);
            return Err(taken(&w[1].0, w[1].1, other));
        }
        for (t, id) in &special_tokens {
            let bytes = t.as_bytes().to_vec();
            match decoder.get_mut(*id as usize) {
                Some(Some(_)) => return Err(taken(t, *id, "a regular token".to_string())),
                Some(slot) => *slot = Some(bytes),
                None => far.push((*id, bytes)),
            }
        }
        far.sort_unstable_by_key(|(id, _)| *id);
        let special = SpecialTokens::new(special_tokens)?;
        let lookup = RankMap::new(&ranks);
        let ids_are_ranks = rank_to_id.iter().enumerate().all(|(i, &id)| i as u32 == id);
        Ok(Self {
            ids_are_ranks,
            uid: next_uid(),
            lookup,
            ranks,
            rank_to_id,
            decoder,
            far,
            n_vocab: max_id as usize + 1,
            special,
            pretok,
            merges,
        })
    }

    /// One more than the largest id (tiktoken's `n_vocab`).
    pub fn n_vocab(&self) -> usize {
        self.n_vocab
    }

    /// Ids below this are the regular tokens and the special tokens near them (tables indexed by id can cover
    /// them); the ids from here to [`Tokenizer::n_vocab`] are at most the special tokens far above the rest.
    pub fn dense_ids(&self) -> usize {
        self.decoder.len()
    }

    /// The pre-tokenization regex.
    pub fn pattern(&self) -> &str {
        self.pretok.pattern()
    }

    /// The pre-tokenizer.
    pub fn pretokenizer(&self) -> &PreTokenizer {
        &self.pretok
    }

    /// Special tokens with their ids.
    pub fn special_tokens(&self) -> &[(String, u32)] {
        self.special.tokens()
    }

    /// The special-token set.
    pub fn specials(&self) -> &SpecialTokens {
        &self.special
    }

    /// Mergeable ranks (bytes -> rank).
    pub fn ranks(&self) -> &Ranks {
        &self.ranks
    }

    /// True when built from merges (or trained), false when built from ranks.
    pub fn has_merges(&self) -> bool {
        self.merges.is_some()
    }

    /// The id of a rank.
    pub fn rank_id(&self, rank: u32) -> u32 {
        self.rank_to_id[rank as usize]
    }

    /// The bytes of an id, `None` when unassigned or out of range.
    pub fn token_bytes(&self, id: u32) -> Option<&[u8]> {
        match self.decoder.get(id as usize) {
            Some(b) => b.as_deref(),
            None => self
                .far
                .binary_search_by_key(&id, |(i, _)| *i)
                .ok()
                .map(|k| &self.far[k].1[..]),
        }
    }

    /// Iterates `(id, bytes)` over assigned ids in id order, special tokens included.
    pub fn vocab(&self) -> impl Iterator<Item = (u32, &[u8])> {
        self.decoder
            .iter()
            .enumerate()
            .filter_map(|(i, b)| b.as_deref().map(|b| (i as u32, b)))
            .chain(self.far.iter().map(|(i, b)| (*i, &b[..])))
    }

    /// The merges in order: as given or trained, or else derived from the ranks (each multi-byte token's merge is
    /// the split that BPE with only lower ranks produces, as in tiktoken's educational `bpe_train`).
    pub fn merges(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        if let Some(m) = &self.merges {
            return m.clone();
        }
        let mut by_rank: Vec<(&Vec<u8>, u32)> = self
            .ranks
            .iter()
            .filter(|(k, _)| k.len() > 1)
            .map(|(k, v)| (k, *v))
            .collect();
        by_rank.sort_by_key(|(_, r)| *r);
        let mut out = Vec::with_capacity(by_rank.len());
        for (bytes, rank) in by_rank {
            let parts = split_with_lower_ranks(&self.ranks, bytes, rank);
            if parts.len() == 1 {
                out.push((bytes[..parts[0]].to_vec(), bytes[parts[0]..].to_vec()));
            }
        }
        out
    }

    #[inline]
    fn encode_text(&self, text: &str, out: &mut Vec<u32>) -> Result<()> {
        let start = out.len();
        with_cache(self.uid, |cache| {
            self.pretok.split(text, |piece| {
                cache.encode(&self.lookup, piece, out);
            })
        })?;
        self.ranks_to_ids(&mut out[start..]);
        Ok(())
    }

    /// Maps ranks to ids in place (nothing to do when they are the same).
    #[inline]
    fn ranks_to_ids(&self, ranks: &mut [u32]) {
        if !self.ids_are_ranks {
            for r in ranks {
                *r = self.rank_to_id[*r as usize];
            }
        }
    }

    /// The number of tokens of [`Tokenizer::encode_ordinary`], without keeping the ids.
    ///
    /// # Errors
    /// Only when a custom pattern's regex engine fails.
    pub fn count_tokens(&self, text: &str) -> Result<usize> {
        let mut count = 0;
        let mut scratch: Vec<u32> = Vec::with_capacity(64);
        with_cache(self.uid, |cache| {
            self.pretok.split(text, |piece| {
                scratch.clear();
                cache.encode(&self.lookup, piece, &mut scratch);
                count += scratch.len();
            })
        })?;
        Ok(count)
    }

    /// Encodes text with special-token text treated as plain text.
    ///
    /// # Errors
    /// Only when a custom pattern's regex engine fails.
    pub fn encode_ordinary(&self, text: &str) -> Result<Vec<u32>> {
        let mut out = Vec::with_capacity(text.len() / 3 + 1);
        self.encode_text(text, &mut out)?;
        Ok(out)
    }

    /// Encodes text with tiktoken's special-token semantics: an occurrence of a `disallowed` token anywhere raises
    /// [`Error::DisallowedSpecial`]; `allowed` tokens become their ids (leftmost-longest); the rest is plain text.
    ///
    /// # Errors
    /// [`Error::DisallowedSpecial`], or [`Error::InvalidArgument`] for a name that is not a special token.
    pub fn encode(
        &self,
        text: &str,
        allowed: Allowed<'_>,
        disallowed: Allowed<'_>,
    ) -> Result<Vec<u32>> {
        let mut out = Vec::new();
        self.encode_into(text, allowed, disallowed, &mut out)?;
        Ok(out)
    }

    /// [`Tokenizer::encode`], appending the ids to `out` (a buffer can then be reused from one text to the next).
    ///
    /// # Errors
    /// As [`Tokenizer::encode`]; `out` may then hold some of the ids.
    pub fn encode_into(
        &self,
        text: &str,
        allowed: Allowed<'_>,
        disallowed: Allowed<'_>,
        out: &mut Vec<u32>,
    ) -> Result<()> {
        self.check_disallowed(text, disallowed)?;
        out.reserve(text.len() / 3 + 1);
        self.special.split(text, allowed, |part| {
            match part {
                Ok(segment) => self.encode_text(segment, out)?,
                Err(id) => out.push(id),
            }
            Ok(())
        })
    }

    fn check_disallowed(&self, text: &str, disallowed: Allowed<'_>) -> Result<()> {
        if let Some((token, offset)) = self.special.find_any(text, disallowed) {
            return Err(Error::DisallowedSpecial { token, offset });
        }
        Ok(())
    }

    /// Encodes raw bytes. Valid UTF-8 gives the same ids as [`Tokenizer::encode_ordinary`]; each invalid sequence
    /// (as [`slice::utf8_chunks`] reports them, the ones Python's decoder replaces one by one: at most 3 bytes) is a
    /// piece of its own (BPE over its bytes), and pre-tokenization never crosses one.
    pub fn encode_bytes(&self, bytes: &[u8]) -> Result<Vec<u32>> {
        let mut out = Vec::with_capacity(bytes.len() / 3 + 1);
        for chunk in bytes.utf8_chunks() {
            self.encode_text(chunk.valid(), &mut out)?;
            let invalid = chunk.invalid();
            if !invalid.is_empty() {
                let start = out.len();
                encode_piece(&self.lookup, invalid, &mut out);
                self.ranks_to_ids(&mut out[start..]);
            }
        }
        Ok(out)
    }

    /// Builds the tables every encode needs ([`RankMap::prepare`]), if not built yet: before encoding on a rayon
    /// pool, from a thread outside it.
    pub fn prepare(&self) {
        self.lookup.prepare();
    }

    /// Encodes many texts in parallel on the current rayon pool; results in input order. Long texts are also cut
    /// (see [`Tokenizer::encode_parallel`]), so a batch of a few large documents keeps every thread busy.
    pub fn encode_batch(
        &self,
        texts: &[String],
        allowed: Allowed<'_>,
        disallowed: Allowed<'_>,
    ) -> Result<Vec<Vec<u32>>> {
        self.prepare();
        texts
            .par_iter()
            .map(|t| self.encode_parallel(t, allowed, disallowed))
            .collect()
    }

    /// [`Tokenizer::encode`] on the current rayon pool: a text longer than [`PARALLEL_CHUNK`] bytes is cut at safe
    /// pre-tokenization boundaries ([`PreTokenizer::chunks`], inside the segments between special tokens), the
    /// chunks are encoded in parallel and the ids concatenated; the ids are those of [`Tokenizer::encode`].
    pub fn encode_parallel(
        &self,
        text: &str,
        allowed: Allowed<'_>,
        disallowed: Allowed<'_>,
    ) -> Result<Vec<u32>> {
        let mut out = Vec::new();
        self.encode_parallel_into(text, allowed, disallowed, &mut out)?;
        Ok(out)
    }

    /// [`Tokenizer::encode_parallel`], appending the ids to `out`. The chunks' ids go through buffers kept for the
    /// next long text ([`SpareBuffers`]): fresh memory for each costs page faults, which showed as a tenth of a
    /// batch's time in the kernel's page clearing.
    ///
    /// # Errors
    /// As [`Tokenizer::encode`]; `out` may then hold some of the ids.
    pub fn encode_parallel_into(
        &self,
        text: &str,
        allowed: Allowed<'_>,
        disallowed: Allowed<'_>,
        out: &mut Vec<u32>,
    ) -> Result<()> {
        if text.len() < 2 * PARALLEL_CHUNK {
            return self.encode_into(text, allowed, disallowed, out);
        }
        self.check_disallowed(text, disallowed)?;
        self.prepare();
        let mut items: Vec<std::result::Result<&str, u32>> = Vec::new();
        self.special.split(text, allowed, |part| {
            match part {
                Ok(segment) => items.extend(
                    self.pretok
                        .chunks(segment, PARALLEL_CHUNK)
                        .into_iter()
                        .map(Ok),
                ),
                Err(id) => items.push(Err(id)),
            }
            Ok(())
        })?;
        let parts: Vec<Result<Vec<u32>>> = items
            .par_iter()
            .map(|item| match item {
                Ok(chunk) => {
                    let mut ids = SPARE.take();
                    ids.reserve(chunk.len() / 3 + 1);
                    self.encode_text(chunk, &mut ids)?;
                    Ok(ids)
                }
                Err(id) => Ok(vec![*id]),
            })
            .collect();
        let mut result = Ok(());
        out.reserve(parts.iter().map(|p| p.as_ref().map_or(0, Vec::len)).sum());
        for p in parts {
            match p {
                Ok(ids) => {
                    if result.is_ok() {
                        out.extend_from_slice(&ids);
                    }
                    SPARE.give(ids);
                }
                Err(e) => result = result.and(Err(e)),
            }
        }
        result
    }

    /// Concatenated bytes of the ids.
    ///
    /// # Errors
    /// [`Error::InvalidId`] naming the first id that is out of range or unassigned.
    pub fn decode_bytes(&self, ids: &[u32]) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(ids.len() * 4);
        for &id in ids {
            match self.token_bytes(id) {
                Some(b) => out.extend_from_slice(b),
                None => return Err(self.invalid_id(id as i64)),
            }
        }
        Ok(out)
    }

    /// The error for an id that is not a token.
    pub fn invalid_id(&self, id: i64) -> Error {
        if id < 0 || id as u64 >= self.n_vocab() as u64 {
            Error::InvalidId(format!(
                "invalid token id {id}: ids must be from 0 to {} (n_vocab = {})",
                self.n_vocab() as i64 - 1,
                self.n_vocab()
            ))
        } else {
            Error::InvalidId(format!(
                "invalid token id {id}: no token has this id (unassigned id below n_vocab = {})",
                self.n_vocab()
            ))
        }
    }
}

/// Chunk size (bytes) of [`Tokenizer::encode_parallel`].
pub const PARALLEL_CHUNK: usize = 1 << 18;

/// Id buffers kept for reuse, up to a number of buffers and a length each: a batch that takes its buffers here
/// and gives them back when done with them reuses memory it has already touched.
pub struct SpareBuffers {
    kept: std::sync::Mutex<Vec<Vec<u32>>>,
    max: usize,
    max_len: usize,
}

impl SpareBuffers {
    /// Keeps at most `max` buffers, each of capacity at most `max_len` ids.
    pub const fn new(max: usize, max_len: usize) -> Self {
        Self {
            kept: std::sync::Mutex::new(Vec::new()),
            max,
            max_len,
        }
    }

    /// A kept buffer (empty), or a new one.
    pub fn take(&self) -> Vec<u32> {
        match self.kept.lock() {
            Ok(mut v) => v.pop().unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    }

    /// Keeps `buf` (emptied) for a later [`SpareBuffers::take`], unless it has no capacity or too much, or enough
    /// are kept.
    pub fn give(&self, mut buf: Vec<u32>) {
        if buf.capacity() == 0 || buf.capacity() > self.max_len {
            return;
        }
        buf.clear();
        if let Ok(mut v) = self.kept.lock() {
            if v.len() < self.max {
                v.push(buf);
            }
        }
    }
}

/// The chunk buffers of [`Tokenizer::encode_parallel_into`]: 16 of at most 256K ids (at most 16 MiB kept; a
/// chunk of [`PARALLEL_CHUNK`] bytes has fewer ids).
static SPARE: SpareBuffers = SpareBuffers::new(16, 1 << 18);

fn next_uid() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Bumped by [`clear_piece_caches`]: a thread's cache filled under an older epoch is emptied before its next use.
static CACHE_EPOCH: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Empties every thread's piece cache (each thread empties its own before its next encode).
///
/// Encoding never needs this: the caches only make repeated pieces faster, and the ids are the same with or
/// without them. It is for measurements: a benchmark that encodes the same documents several times and keeps the
/// best run would otherwise time the later runs with every piece of those documents already cached, which no
/// first pass over new text gets.
pub fn clear_piece_caches() {
    CACHE_EPOCH.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Runs `f` with this thread's piece cache, emptied first if it last served another tokenizer or
/// [`clear_piece_caches`] was called since.
fn with_cache<T>(uid: u64, f: impl FnOnce(&mut PieceCache) -> T) -> T {
    use std::cell::RefCell;
    thread_local! {
        static CACHE: RefCell<(u64, u64, Option<PieceCache>)> = const { RefCell::new((0, 0, None)) };
    }
    let epoch = CACHE_EPOCH.load(std::sync::atomic::Ordering::Relaxed);
    CACHE.with(|c| match c.try_borrow_mut() {
        Ok(mut guard) => {
            let (owner, filled, cache) = &mut *guard;
            let cache = cache.get_or_insert_with(PieceCache::new);
            if *owner != uid || *filled != epoch {
                cache.clear();
                *owner = uid;
                *filled = epoch;
            }
            f(cache)
        }
        // re-entrant use on this thread (not expected): a small private cache
        Err(_) => f(&mut PieceCache::small()),
    })
}

/// BPE on `bytes` using only ranks below `max_rank`; returns the start offsets of the parts after the first.
fn split_with_lower_ranks(ranks: &Ranks, bytes: &[u8], max_rank: u32) -> Vec<usize> {
    let mut parts: Vec<usize> = (0..=bytes.len()).collect();
    loop {
        let mut best: Option<(u32, usize)> = None;
        for i in 0..parts.len().saturating_sub(2) {
            if let Some(&r) = ranks.get(&bytes[parts[i]..parts[i + 2]]) {
                if r < max_rank && best.is_none_or(|(br, _)| r < br) {
                    best = Some((r, i));
                }
            }
        }
        match best {
            Some((_, i)) => {
                parts.remove(i + 1);
            }
            None => break,
        }
    }
    parts[1..parts.len() - 1].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy(pattern: &str) -> Tokenizer {
        let mut ranks: Ranks = (0..=255u8).map(|b| (vec![b], b as u32)).collect();
        for (i, t) in [
            " t", "he", " the", "in", " a", "an", "er", "ing", "\n\n", "  ",
        ]
        .iter()
        .enumerate()
        {
            ranks.insert(t.as_bytes().to_vec(), 256 + i as u32);
        }
        let specials = vec![("<|endoftext|>".to_string(), 1000)];
        Tokenizer::from_ranks(ranks, specials, pattern).unwrap()
    }

    /// A text several chunks long, with special tokens, multi-byte chars and whitespace runs at every offset.
    fn long_text() -> String {
        let words = [
            "the",
            " the",
            "  ",
            "\n\n",
            "ing",
            "é",
            "中文",
            "<|endoftext|>",
            " 123",
            "\n",
            "an",
            "!!",
        ];
        let mut s = String::new();
        let mut seed = 99u64;
        while s.len() < 3 * PARALLEL_CHUNK + 12345 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            s.push_str(words[(seed >> 33) as usize % words.len()]);
        }
        s
    }

    #[test]
    fn encode_parallel_equals_encode() -> Result<()> {
        let text = long_text();
        for pattern in ["gpt2", "cl100k", "o200k"] {
            let tok = toy(pattern);
            assert!(tok.pretokenizer().chunks(&text, PARALLEL_CHUNK).len() > 2);
            for allowed in [Allowed::None, Allowed::All] {
                let want = tok.encode(&text, allowed, Allowed::None)?;
                let got = tok.encode_parallel(&text, allowed, Allowed::None)?;
                assert_eq!(got, want, "{pattern}");
                let batch =
                    tok.encode_batch(&[text.clone(), "x".into()], allowed, Allowed::None)?;
                assert_eq!(batch[0], want);
                // the _into forms append (twice, so the second pass takes the chunk buffers the first gave back)
                for _ in 0..2 {
                    let mut out = vec![7, 8];
                    tok.encode_parallel_into(&text, allowed, Allowed::None, &mut out)?;
                    tok.encode_into("x y", allowed, Allowed::None, &mut out)?;
                    let x = tok.encode("x y", allowed, Allowed::None)?;
                    assert_eq!(out, [&[7, 8][..], &want, &x].concat());
                }
            }
            assert!(matches!(
                tok.encode_parallel(&text, Allowed::None, Allowed::All),
                Err(Error::DisallowedSpecial { .. })
            ));
        }
        Ok(())
    }

    #[test]
    fn spare_buffers_keep_what_they_may() {
        let spare = SpareBuffers::new(2, 100);
        assert_eq!(spare.take().capacity(), 0);
        spare.give(Vec::with_capacity(200)); // too large: not kept
        spare.give(Vec::new()); // no capacity: not kept
        assert_eq!(spare.take().capacity(), 0);
        for _ in 0..3 {
            let mut v = Vec::with_capacity(50);
            v.push(1);
            spare.give(v);
        }
        let (a, b, c) = (spare.take(), spare.take(), spare.take());
        assert!(a.is_empty() && a.capacity() >= 50 && b.capacity() >= 50);
        assert_eq!(c.capacity(), 0, "only two are kept");
    }
}
