//! BPE on one pre-token (tiktoken's rule): if the whole piece is a token, it is that token; otherwise repeatedly
//! merge the adjacent pair whose concatenated bytes have the lowest rank, leftmost on ties.
//!
//! The merge loop works on ranks: a [`PairMap`] gives the rank of two adjacent tokens' concatenation, so no byte
//! span is hashed. Pieces of up to 32 parts use tiktoken's array scan, pieces below 256 bytes a heap on the stack,
//! longer ones per-rank buckets of positions (linear in practice); no input is quadratic. Without a pair map (ranks
//! of 2^21 or more) the same rule runs on byte spans: the scan, then a binary heap with lazy invalidation.
//!
//! A per-thread [`PieceCache`] answers pieces seen before, and long pieces of wide chars (Chinese, Japanese) are cut
//! where no token can span the boundary ([`CutTable`]), so their segments are cached too.
use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rustc_hash::FxHashMap;

/// Token bytes to rank.
pub type Ranks = FxHashMap<Vec<u8>, u32>;

/// Bytes -> rank, tuned for lookups: tokens of up to 15 bytes (nearly all) are packed into a `u128` key, so a
/// lookup is one integer hash and compare, no `memcmp`; longer tokens go to a second map.
///
/// Single bytes and byte pairs (the first and most frequent lookups of every merge) are direct tables.
///
/// It also holds a [`PairMap`] (left rank, right rank) -> merged rank, so the merge loop works on ranks alone.
#[derive(Debug, Clone)]
pub struct RankMap {
    single: [u32; 256],
    pair: Vec<u32>,
    small: FxHashMap<u128, u32>,
    large: FxHashMap<Box<[u8]>, u32>,
    /// Built on first use (not every tokenizer encodes, and loading stays fast).
    pairs: std::sync::OnceLock<Option<PairMap>>,
    /// Built on the first long non-ASCII piece.
    cuts: std::sync::OnceLock<CutTable>,
    /// Built on the first non-ASCII piece that needs merges.
    chars: std::sync::OnceLock<CharTable>,
}

impl Default for RankMap {
    fn default() -> Self {
        Self {
            single: [u32::MAX; 256],
            pair: vec![u32::MAX; 1 << 16],
            small: FxHashMap::default(),
            large: FxHashMap::default(),
            pairs: std::sync::OnceLock::new(),
            cuts: std::sync::OnceLock::new(),
            chars: std::sync::OnceLock::new(),
        }
    }
}

/// Ranks in a [`PairMap`] take 21 bits each.
const PAIR_BITS: u32 = 21;
const PAIR_MASK: u64 = (1 << PAIR_BITS) - 1;
const PAIR_EMPTY: u64 = u64::MAX;

/// (left rank, right rank) -> rank of the concatenation, for every pair of tokens whose concatenated bytes are a
/// token: an open-addressed table of packed `u64` entries (three 21-bit ranks), one cache line per lookup.
///
/// In tiktoken's merge loop every part is a token (single bytes at first, then only concatenations that have a
/// rank), so "the bytes of parts i and i+1 have a rank" is exactly "(rank i, rank i+1) is in this table", and the
/// merged part's rank is the value. The table lists every split of every token into two tokens, not only the
/// merge that made it, so the equivalence holds for any ranks (a concatenation can be reached by another split).
#[derive(Debug, Clone)]
pub struct PairMap {
    slots: Vec<u64>,
    shift: u32,
    /// One bit per hash value (a Bloom filter with one hash), small enough to stay in L2: most lookups are for
    /// pairs that do not merge, and this answers them without touching the table.
    filter: Vec<u64>,
    filter_shift: u32,
}

impl PairMap {
    /// Builds the table from the tokens of `lookup` (in parallel), or `None` when a rank does not fit in 21 bits
    /// (the byte-span path is used then).
    fn build(lookup: &RankMap) -> Option<Self> {
        use rayon::prelude::*;
        if lookup
            .small
            .values()
            .chain(lookup.large.values())
            .any(|&r| r as u64 >= PAIR_MASK)
        {
            return None;
        }
        // (packed keys hold up to 15 bytes; longer tokens are copied out of the large map)
        let mut tokens: Vec<(u128, u32)> = lookup.small.iter().map(|(&k, &r)| (k, r)).collect();
        let long: Vec<(&[u8], u32)> = lookup.large.iter().map(|(k, &r)| (&k[..], r)).collect();
        let splits = |bytes: &[u8], rank: u32| -> Vec<u64> {
            (1..bytes.len())
                .filter_map(|k| {
                    let l = lookup.get(&bytes[..k])?;
                    let r = lookup.get(&bytes[k..])?;
                    Some(((l as u64) << (2 * PAIR_BITS)) | ((r as u64) << PAIR_BITS) | rank as u64)
                })
                .collect()
        };
        tokens.retain(|&(k, _)| (k >> 120) > 1);
        let of_token = |&(key, rank): &(u128, u32)| {
            let n = (key >> 120) as usize;
            splits(&key.to_le_bytes()[..n], rank)
        };
        // In parallel only from outside a rayon pool. On a pool thread this runs inside the `OnceLock` that
        // other tasks of the same pool may wait on, and a pool thread waiting for its parallel parts runs
        // other tasks meanwhile: one that asks for the pair map again would wait for itself (a deadlock seen
        // in a batch whose first encode was on the pool). [`RankMap::prepare`] builds it before a batch starts.
        let mut entries: Vec<u64> = if rayon::current_thread_index().is_none() {
            tokens.par_iter().flat_map_iter(of_token).collect()
        } else {
            tokens.iter().flat_map(of_token).collect()
        };
        entries.extend(long.iter().flat_map(|&(b, r)| splits(b, r)));
        // load factor at most 1/2
        let cap = (entries.len() * 2).next_power_of_two().max(1024);
        let filter_bits = (entries.len() * 8).next_power_of_two().max(1 << 12);
        let mut map = PairMap {
            slots: vec![PAIR_EMPTY; cap],
            shift: 64 - cap.trailing_zeros(),
            filter: vec![0; filter_bits / 64],
            filter_shift: 64 - filter_bits.trailing_zeros(),
        };
        for e in entries {
            let f = map.filter_bit(e >> PAIR_BITS);
            set_bit(&mut map.filter, f);
            let mut i = map.slot(e >> PAIR_BITS);
            while map.slots[i] != PAIR_EMPTY {
                i = (i + 1) & (cap - 1);
            }
            map.slots[i] = e;
        }
        Some(map)
    }

    #[inline(always)]
    fn filter_bit(&self, key: u64) -> usize {
        (key.wrapping_mul(0xD6E8_FEB8_6659_FD93) >> self.filter_shift) as usize
    }

    #[inline(always)]
    fn slot(&self, key: u64) -> usize {
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// The rank of the concatenation of tokens `l` and `r`, or `u32::MAX` when it is not a token.
    #[inline(always)]
    pub fn get(&self, l: u32, r: u32) -> u32 {
        let key = ((l as u64) << PAIR_BITS) | r as u64;
        if !bit(&self.filter, self.filter_bit(key)) {
            return u32::MAX;
        }
        let mask = self.slots.len() - 1;
        let mut i = self.slot(key);
        loop {
            let s = self.slots[i];
            if s >> PAIR_BITS == key {
                return (s & PAIR_MASK) as u32;
            }
            if s == PAIR_EMPTY {
                return u32::MAX;
            }
            i = (i + 1) & mask;
        }
    }
}

/// UTF-8 length announced by a first byte (0 for a continuation byte or an invalid first byte).
#[inline(always)]
fn utf8_len(b: u8) -> usize {
    match b {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 0,
    }
}

/// A char's bytes (at most 4) as a little-endian `u32`.
#[inline(always)]
fn char_key(c: &[u8]) -> u32 {
    let mut k = 0u32;
    for (i, &x) in c.iter().enumerate() {
        k |= (x as u32) << (8 * i);
    }
    k
}

/// Which char boundaries no token crosses.
///
/// If no token of the vocabulary can span a boundary of a piece, no BPE part ever does (every part is a token),
/// so the merges on either side never meet and BPE of the piece is BPE of each side, concatenated. Cutting long
/// pieces there (Chinese and Japanese runs, which have no spaces) turns them into short segments, mostly one or two
/// chars, that the [`PieceCache`] already holds.
///
/// A token crosses the boundary between chars X and Y of valid text only if, at one of its inner char starts, the
/// char before and the char after are X and Y (`joined`, a one-hash Bloom filter: a false positive only loses a
/// cut), or the token begins or ends inside a char there, when the two bytes around the boundary are recorded
/// instead (`fragment`). Both tests are necessary conditions, so a boundary that passes neither is safe.
#[derive(Debug, Clone)]
pub struct CutTable {
    joined: Vec<u64>,
    /// one bit per (last byte before, first byte after) the boundary: 64K bits
    fragment: Vec<u64>,
}

/// The `joined` filter has 2^20 bits (128 KiB, in L2); o200k_base joins about 25K pairs of chars.
const JOINED_BITS: u32 = 20;

impl CutTable {
    fn build(lookup: &RankMap) -> Self {
        let mut t = CutTable {
            joined: vec![0; 1 << (JOINED_BITS - 6)],
            fragment: vec![0; 1 << 10],
        };
        lookup.for_each_token(|tok, _| {
            // previous char start in the token, if any
            let mut prev: Option<usize> = None;
            for k in 0..tok.len() {
                if tok[k] & 0xC0 == 0x80 {
                    continue;
                }
                if k > 0 {
                    let left_whole = prev.is_some_and(|a| k - a == utf8_len(tok[a]));
                    let len = utf8_len(tok[k]);
                    let right_whole = len > 0
                        && k + len <= tok.len()
                        && tok[k + 1..k + len].iter().all(|&x| x & 0xC0 == 0x80)
                        && tok.get(k + len).is_none_or(|&x| x & 0xC0 != 0x80);
                    if left_whole && right_whole {
                        let a = prev.unwrap_or(0);
                        t.set_joined(char_key(&tok[a..k]), char_key(&tok[k..k + len]));
                    } else {
                        set_bit(&mut t.fragment, two(tok[k - 1], tok[k]));
                    }
                }
                prev = Some(k);
            }
        });
        t
    }

    #[inline(always)]
    fn joined_bit(x: u32, y: u32) -> usize {
        let key = ((x as u64) << 32) | y as u64;
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - JOINED_BITS)) as usize
    }

    fn set_joined(&mut self, x: u32, y: u32) {
        set_bit(&mut self.joined, Self::joined_bit(x, y));
    }

    /// True when no token can cross the boundary between char `x` (ending in byte `last`) and char `y`
    /// (starting with byte `first`), keys as [`char_key`].
    #[inline(always)]
    fn safe(&self, x: u32, y: u32, last: u8, first: u8) -> bool {
        !bit(&self.fragment, two(last, first)) && !bit(&self.joined, Self::joined_bit(x, y))
    }
}

/// The chars of two or three bytes that BPE may take whole from the start, with their ranks.
///
/// BPE starts from single bytes, and in most text the first merges only rebuild chars: the two bytes of a Cyrillic,
/// Greek or Arabic letter, the three of a Chinese ideograph. Starting from those chars instead (one part each)
/// leaves out half or two thirds of the merges of such a piece, and gives the same tokens when char `c` (rank
/// `r(c)`) satisfies, where it stands in the piece:
///
/// 1. BPE of `c`'s bytes alone gives `c`, by merges of ranks at most `r(c)`;
/// 2. no token that matches the piece there begins or ends inside `c` and reaches beyond it;
/// 3. every longer token that contains `c` ranks above `c`.
///
/// Why: by (2), no merge joins a part inside `c` to a part outside until `c` is whole, so `c`'s bytes merge as they
/// would alone and the rest of the piece merges as if `c` were there whole; the only difference is that a pair
/// (x, `c`) or (`c`, y) can be chosen while `c` is not yet whole. It cannot: while `c` is not whole, its next merge
/// has a rank of at most `r(c)` (1), so anything chosen instead ranks at most `r(c)`, below every pair holding `c`
/// (3). The argument holds for one char at a time, hence for all.
///
/// Conditions 1 and 3 depend on `c` alone (`rank`). For 2, the tables record, for every token that ends inside a
/// char, the byte before that char's start and the char's first bytes, and for every token that begins inside a
/// char, the char's last bytes and the byte after it; `c` passes when the bytes around it in the piece match none
/// (a Bloom filter for three bytes: a false positive only leaves `c` in bytes). Byte-level vocabularies have
/// tokens such as a space and the first byte of a Cyrillic letter, so a letter after a space stays in bytes while
/// the letters inside a word are taken whole. Trained ranks meet 1 and 3 for nearly every char they have a token
/// for (a token is made after its parts); the table is built from the ranks, so any ranks stay exact.
#[derive(Debug, Clone)]
pub struct CharTable {
    /// Rank of each char of two or three bytes, by code point (below U+10000), or `u32::MAX` when it fails 1 or 3.
    rank: Vec<u32>,
    /// (byte before the char, its first byte) of tokens that end one byte into a char: 64K bits.
    left1: Vec<u64>,
    /// (its last byte, byte after) of tokens that begin one byte before a char's end: 64K bits.
    right1: Vec<u64>,
    /// (byte before, first two bytes) and (last two bytes, byte after), for chars of three bytes: Bloom filters.
    left2: Vec<u64>,
    right2: Vec<u64>,
}

/// Bits of the three-byte Bloom filters of [`CharTable`] (32 KiB each).
const CHAR_BLOOM_BITS: u32 = 18;

#[inline(always)]
fn bit(v: &[u64], i: usize) -> bool {
    v[i >> 6] & (1 << (i & 63)) != 0
}

#[inline(always)]
fn set_bit(v: &mut [u64], i: usize) {
    v[i >> 6] |= 1 << (i & 63);
}

#[inline(always)]
fn bloom3(a: u8, b: u8, c: u8) -> usize {
    let k = u32::from_le_bytes([a, b, c, 0]);
    (k.wrapping_mul(0x9E37_79B1) >> (32 - CHAR_BLOOM_BITS)) as usize
}

#[inline(always)]
fn two(a: u8, b: u8) -> usize {
    u16::from_le_bytes([a, b]) as usize
}

impl CharTable {
    fn build(lookup: &RankMap) -> Self {
        let mut t = CharTable {
            rank: vec![u32::MAX; 1 << 16],
            left1: vec![0; 1 << 10],
            right1: vec![0; 1 << 10],
            left2: vec![0; 1 << (CHAR_BLOOM_BITS - 6)],
            right2: vec![0; 1 << (CHAR_BLOOM_BITS - 6)],
        };
        // for each char, the lowest rank of a longer token that contains it
        let mut container = vec![u32::MAX; 1 << 16];
        lookup.for_each_token(|tok, rank| {
            let n = tok.len();
            let lead = tok.iter().take_while(|&&x| x & 0xC0 == 0x80).count();
            if lead == n {
                return; // inside one char
            }
            let mut i = lead;
            let mut tail = n;
            while i < n {
                let len = utf8_len(tok[i]);
                if len == 0
                    || tok[i + 1..(i + len).min(n)]
                        .iter()
                        .any(|&x| x & 0xC0 != 0x80)
                {
                    return; // not a piece of valid text: matches none
                }
                if i + len > n {
                    tail = i;
                    break;
                }
                if (2..=3).contains(&len) && n > len {
                    let cp = code_point(&tok[i..i + len]) as usize;
                    container[cp] = container[cp].min(rank);
                }
                i += len;
            }
            // (a token that begins or ends three bytes into a char concerns chars of four bytes, never whole)
            match lead {
                1 => set_bit(&mut t.right1, two(tok[0], tok[1])),
                2 => set_bit(&mut t.right2, bloom3(tok[0], tok[1], tok[2])),
                _ => {}
            }
            if tail > 0 {
                match n - tail {
                    1 => set_bit(&mut t.left1, two(tok[tail - 1], tok[tail])),
                    2 => set_bit(
                        &mut t.left2,
                        bloom3(tok[tail - 1], tok[tail], tok[tail + 1]),
                    ),
                    _ => {}
                }
            }
        });
        let mut buf = [0u8; 4];
        for cp in 0x80u32..0x10000 {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            let b = c.encode_utf8(&mut buf).as_bytes();
            let Some(r) = lookup.get(b) else { continue };
            if container[cp as usize] > r && Self::merges_whole(lookup, b, r) {
                t.rank[cp as usize] = r;
            }
        }
        t
    }

    /// Condition 1 for a char of two or three bytes.
    fn merges_whole(lookup: &RankMap, b: &[u8], r: u32) -> bool {
        if b.len() == 2 {
            return true; // its one merge is itself
        }
        // three bytes: the first merge is the lower of the two pairs that are tokens, then the whole char
        let (x, y) = (lookup.get(&b[..2]), lookup.get(&b[1..]));
        let first = match (x, y) {
            (Some(x), Some(y)) => x.min(y),
            (Some(x), None) => x,
            (None, Some(y)) => y,
            (None, None) => return false,
        };
        first < r
    }

    /// The rank of the char of two or three bytes `piece[i..i + len]` when BPE may take it whole there. Bytes
    /// that are not one well-formed char (`encode_piece` takes any bytes) are never taken whole.
    #[inline(always)]
    fn whole(&self, piece: &[u8], i: usize, len: usize) -> Option<u32> {
        let b = &piece[i..i + len];
        let cp = code_point(b);
        let r = self.rank[cp as usize];
        let well_formed = b[1..].iter().all(|&x| x & 0xC0 == 0x80) && cp >= [0x80, 0x800][len - 2];
        if r == u32::MAX || !well_formed {
            return None;
        }
        if i > 0 {
            let x = piece[i - 1];
            if bit(&self.left1, two(x, b[0]))
                || (len == 3 && bit(&self.left2, bloom3(x, b[0], b[1])))
            {
                return None;
            }
        }
        if let Some(&y) = piece.get(i + len) {
            let last = b[len - 1];
            if bit(&self.right1, two(last, y))
                || (len == 3 && bit(&self.right2, bloom3(b[1], last, y)))
            {
                return None;
            }
        }
        Some(r)
    }
}

/// The code point of a char of two or three bytes (of valid UTF-8).
#[inline(always)]
fn code_point(b: &[u8]) -> u32 {
    if b.len() == 2 {
        ((b[0] as u32 & 0x1F) << 6) | (b[1] as u32 & 0x3F)
    } else {
        ((b[0] as u32 & 0x0F) << 12) | ((b[1] as u32 & 0x3F) << 6) | (b[2] as u32 & 0x3F)
    }
}

/// Packs up to 15 bytes and the length into a `u128` (little-endian bytes, length in the top byte).
#[inline(always)]
pub(crate) fn pack(b: &[u8]) -> Option<u128> {
    let n = b.len();
    if n > 15 {
        return None;
    }
    let len = (n as u128) << 120;
    if n >= 8 {
        let lo = u64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8])) as u128;
        // bytes 8..n are the last n - 8 of the eight bytes that end the piece (none when n = 8)
        let end = u64::from_le_bytes(b[n - 8..].try_into().unwrap_or([0; 8]));
        let hi = (end >> (8 * (15 - n))) >> 8;
        Some(lo | ((hi as u128) << 64) | len)
    } else if n >= 4 {
        let a = u32::from_le_bytes(b[..4].try_into().unwrap_or([0; 4])) as u64;
        let c = u32::from_le_bytes(b[n - 4..].try_into().unwrap_or([0; 4])) as u64;
        // overlapping loads: bytes 0..4 and n-4..n
        let v = a | (c << (8 * (n - 4)));
        Some(v as u128 | len)
    } else if n > 0 {
        // one to three bytes: the first, middle and last byte (the same byte when n = 1)
        let v =
            b[0] as u64 | (b[n / 2] as u64) << (8 * (n / 2)) | (b[n - 1] as u64) << (8 * (n - 1));
        Some(v as u128 | len)
    } else {
        Some(0)
    }
}

impl RankMap {
    /// Builds the pair map that the merges need, if not built yet. Call it before encoding on a rayon pool, from
    /// a thread outside it: the build then runs in parallel, and the pool's threads do not wait for it.
    pub fn prepare(&self) {
        let _ = self.pairs();
    }

    /// The pair map, built on first use; `None` when the ranks do not fit it.
    #[inline(always)]
    fn pairs(&self) -> Option<&PairMap> {
        self.pairs.get_or_init(|| PairMap::build(self)).as_ref()
    }

    /// The cut table, built on first use.
    #[inline(always)]
    fn cuts(&self) -> &CutTable {
        self.cuts.get_or_init(|| CutTable::build(self))
    }

    /// The whole-char table, built on first use.
    #[inline(always)]
    fn chars(&self) -> &CharTable {
        self.chars.get_or_init(|| CharTable::build(self))
    }

    /// Calls `f` with every token's bytes and rank.
    fn for_each_token(&self, mut f: impl FnMut(&[u8], u32)) {
        for (&key, &r) in &self.small {
            let n = (key >> 120) as usize;
            f(&key.to_le_bytes()[..n], r);
        }
        for (k, &r) in &self.large {
            f(k, r);
        }
    }

    /// Builds the lookup map from ranks.
    pub fn new(ranks: &Ranks) -> Self {
        let mut m = RankMap::default();
        m.small.reserve(ranks.len());
        for (k, &v) in ranks {
            m.insert(k, v);
        }
        m
    }

    /// Adds a token.
    fn insert(&mut self, bytes: &[u8], rank: u32) {
        match bytes.len() {
            1 => self.single[bytes[0] as usize] = rank,
            2 => self.pair[u16::from_le_bytes([bytes[0], bytes[1]]) as usize] = rank,
            _ => {}
        }
        match pack(bytes) {
            Some(k) => {
                self.small.insert(k, rank);
            }
            None => {
                self.large.insert(bytes.into(), rank);
            }
        }
    }

    /// The rank of a token.
    #[inline(always)]
    pub fn get(&self, bytes: &[u8]) -> Option<u32> {
        let r = match bytes.len() {
            1 => self.single[bytes[0] as usize],
            2 => self.pair[u16::from_le_bytes([bytes[0], bytes[1]]) as usize],
            _ => return self.get_long(bytes),
        };
        (r != u32::MAX).then_some(r)
    }

    #[inline(always)]
    fn get_long(&self, bytes: &[u8]) -> Option<u32> {
        match pack(bytes) {
            Some(k) => self.small.get(&k).copied(),
            None => self.large.get(bytes).copied(),
        }
    }
}

/// Pieces at least this long go through the heap algorithm.
const HEAP_THRESHOLD: usize = 256;

#[inline(always)]
fn rank_of(ranks: &RankMap, bytes: &[u8]) -> u32 {
    ranks.get(bytes).unwrap_or(u32::MAX)
}

/// Appends the ranks of the tokens of `piece` to `out`. Every single byte must have a rank.
pub fn encode_piece(ranks: &RankMap, piece: &[u8], out: &mut Vec<u32>) {
    if piece.is_empty() {
        return;
    }
    if let Some(r) = ranks.get(piece) {
        out.push(r);
        return;
    }
    encode_merges(ranks, piece, out);
}

/// The merges of [`encode_piece`] without its whole-piece lookup (a token need not be what BPE makes of its own
/// bytes, so a segment of a cut piece must not be looked up whole). `piece` is not empty.
fn encode_merges(ranks: &RankMap, piece: &[u8], out: &mut Vec<u32>) {
    if piece.len() == 1 {
        out.push(ranks.single[piece[0] as usize]);
        return;
    }
    match (ranks.pairs(), piece.len() < HEAP_THRESHOLD) {
        (Some(pairs), true) if !piece.is_ascii() => merge_chars(ranks, pairs, piece, out),
        (Some(pairs), true) if piece.len() > SCAN_MAX => merge_heap_small(ranks, pairs, piece, out),
        (Some(pairs), true) => merge_scan_ranks(ranks, pairs, piece, out),
        (Some(pairs), false) => merge_buckets(ranks, pairs, piece, out),
        (None, true) => merge_scan(ranks, piece, out),
        (None, false) => merge_heap(ranks, piece, out),
    }
}

/// Pieces up to this long use the array scan; longer ones (below [`HEAP_THRESHOLD`]) a heap on the stack. Up to
/// 32 parts, the scan's vectorized minimum and shift cost less than the heap's branches: first-seen pieces of the
/// code corpus (`examples/merge_bench`, cl100k, five alternating pairs) took 364-399 ns for 9-15 bytes and
/// 709-936 ns for 16-31 bytes with 32, against 424-465 and 967-1066 ns with 12.
const SCAN_MAX: usize = 32;

/// A binary min-heap of `u32` keys in a fixed array (no allocation).
struct StackHeap<const N: usize> {
    keys: [u32; N],
    len: usize,
}

impl<const N: usize> StackHeap<N> {
    #[inline(always)]
    fn push(&mut self, key: u32) {
        let mut i = self.len;
        self.len += 1;
        while i > 0 {
            let parent = (i - 1) / 2;
            if self.keys[parent] <= key {
                break;
            }
            self.keys[i] = self.keys[parent];
            i = parent;
        }
        self.keys[i] = key;
    }

    #[inline(always)]
    fn pop(&mut self) -> Option<u32> {
        if self.len == 0 {
            return None;
        }
        let top = self.keys[0];
        self.len -= 1;
        let last = self.keys[self.len];
        let mut i = 0;
        loop {
            let mut c = 2 * i + 1;
            if c >= self.len {
                break;
            }
            if c + 1 < self.len && self.keys[c + 1] < self.keys[c] {
                c += 1;
            }
            if last <= self.keys[c] {
                break;
            }
            self.keys[i] = self.keys[c];
            i = c;
        }
        self.keys[i] = last;
        Some(top)
    }
}

/// The rule for pieces of [`SCAN_MAX`] to [`HEAP_THRESHOLD`] bytes: a linked list of parts and a min-heap of
/// `rank << 8 | start` keys (lowest rank, then leftmost), all on the stack. Each merge costs O(log n) instead of the
/// scan's O(n), which matters for long runs of letters without spaces (Chinese, Japanese, Thai).
fn merge_heap_small(ranks: &RankMap, pairs: &PairMap, piece: &[u8], out: &mut Vec<u32>) {
    // (stack arrays sized to the piece, as in merge_scan_ranks)
    if piece.len() <= 24 {
        merge_heap_small_n::<24, 72>(ranks, pairs, piece, out)
    } else if piece.len() <= 64 {
        merge_heap_small_n::<64, 192>(ranks, pairs, piece, out)
    } else {
        merge_heap_small_n::<HEAP_THRESHOLD, { 3 * HEAP_THRESHOLD }>(ranks, pairs, piece, out)
    }
}

/// [`merge_heap_small`] with arrays of `M` parts and `H = 3 M` heap keys.
fn merge_heap_small_n<const M: usize, const H: usize>(
    ranks: &RankMap,
    pairs: &PairMap,
    piece: &[u8],
    out: &mut Vec<u32>,
) {
    let n = piece.len();
    debug_assert!((2..=M).contains(&n) && H >= 3 * M);
    let mut part = [0u32; M];
    let mut pair = [u32::MAX; M];
    for i in 0..n {
        part[i] = ranks.single[piece[i] as usize];
    }
    for i in 0..n - 1 {
        pair[i] = ranks.pair[u16::from_le_bytes([piece[i], piece[i + 1]]) as usize];
    }
    heap_loop::<M, H>(pairs, &mut part, &mut pair, n, out)
}

/// The merge loop of [`merge_heap_small`] on `n` parts: `part[i]` the rank of part i, `pair[i]` the rank of
/// merging parts i and i + 1 (`u32::MAX` when they do not merge).
#[inline(always)]
fn heap_loop<const M: usize, const H: usize>(
    pairs: &PairMap,
    part: &mut [u32; M],
    pair: &mut [u32; M],
    n: usize,
    out: &mut Vec<u32>,
) {
    const NONE: u16 = u16::MAX;
    let mut next = [0u16; M];
    let mut prev = [NONE; M];
    // each merge pushes at most two keys, so n - 1 initial pairs + 2 (n - 1) merges fit in 3 M
    let mut heap = StackHeap::<H> {
        keys: [0; H],
        len: 0,
    };
    for i in 0..n {
        next[i] = (i + 1) as u16;
        if i > 0 {
            prev[i] = (i - 1) as u16;
        }
    }
    for (i, &r) in pair[..n - 1].iter().enumerate() {
        if r != u32::MAX {
            heap.push((r << 8) | i as u32);
        }
    }
    while let Some(key) = heap.pop() {
        let (r, i) = (key >> 8, (key & 0xff) as usize);
        // stale: the part was absorbed or its right neighbour changed
        if pair[i] != r {
            continue;
        }
        let j = next[i] as usize;
        let k = next[j] as usize;
        next[i] = k as u16;
        part[i] = r;
        pair[j] = u32::MAX;
        let ri = if k < n {
            prev[k] = i as u16;
            pairs.get(r, part[k])
        } else {
            u32::MAX
        };
        pair[i] = ri;
        if ri != u32::MAX {
            heap.push((ri << 8) | i as u32);
        }
        let p = prev[i];
        if p != NONE {
            let p = p as usize;
            let rp = pairs.get(part[p], r);
            pair[p] = rp;
            if rp != u32::MAX {
                heap.push((rp << 8) | p as u32);
            }
        }
    }
    let mut i = 0;
    while i < n {
        out.push(part[i]);
        i = next[i] as usize;
    }
}

/// The rule for pieces (below [`HEAP_THRESHOLD`] bytes) with chars of two or more bytes: the chars of
/// [`CharTable`] start as one part each, the others as bytes, then the array scan or the heap as for bytes.
fn merge_chars(ranks: &RankMap, pairs: &PairMap, piece: &[u8], out: &mut Vec<u32>) {
    if piece.len() <= 32 {
        merge_chars_n::<32, 96>(ranks, pairs, piece, out)
    } else {
        merge_chars_n::<HEAP_THRESHOLD, { 3 * HEAP_THRESHOLD }>(ranks, pairs, piece, out)
    }
}

fn merge_chars_n<const M: usize, const H: usize>(
    ranks: &RankMap,
    pairs: &PairMap,
    piece: &[u8],
    out: &mut Vec<u32>,
) {
    debug_assert!(piece.len() >= 2 && piece.len() <= M);
    let chars = ranks.chars();
    let mut part = [0u32; M];
    let mut pair = [u32::MAX; M];
    let mut n = 0;
    // the byte of the previous part when it is a single byte (the pair then comes from the byte-pair table)
    let mut prev_byte: Option<u8> = None;
    let mut i = 0;
    while i < piece.len() {
        let len = utf8_len(piece[i]);
        let whole = match len {
            2 | 3 if i + len <= piece.len() => chars.whole(piece, i, len),
            _ => None,
        };
        let (r, step, byte) = match whole {
            Some(r) => (r, len, None),
            None => (ranks.single[piece[i] as usize], 1, Some(piece[i])),
        };
        if n > 0 {
            pair[n - 1] = match (prev_byte, byte) {
                (Some(a), Some(b)) => ranks.pair[u16::from_le_bytes([a, b]) as usize],
                _ => pairs.get(part[n - 1], r),
            };
        }
        part[n] = r;
        n += 1;
        prev_byte = byte;
        i += step;
    }
    if n == 1 {
        out.push(part[0]);
    } else if n <= SCAN_MAX {
        scan_loop::<M>(pairs, &mut part, &mut pair, n, out)
    } else {
        heap_loop::<M, H>(pairs, &mut part, &mut pair, n, out)
    }
}

/// Index of the leftmost minimum of a non-empty slice.
#[inline(always)]
fn leftmost_min(v: &[u32]) -> (u32, usize) {
    let m = v.iter().copied().min().unwrap_or(u32::MAX);
    (m, v.iter().position(|&x| x == m).unwrap_or(0))
}

/// tiktoken's array scan on ranks: `part[i]` is the rank of part i, `pair[i]` the rank of merging parts i and i+1.
/// Each merge is a vectorized minimum, a shift and two [`PairMap`] lookups; no byte spans are hashed and the
/// output is the part ranks as they stand.
fn merge_scan_ranks(ranks: &RankMap, pairs: &PairMap, piece: &[u8], out: &mut Vec<u32>) {
    // (stack arrays sized to the piece: most pieces are short, and clearing 2 KiB for each one shows)
    if piece.len() <= 32 {
        merge_scan_ranks_n::<32>(ranks, pairs, piece, out)
    } else {
        merge_scan_ranks_n::<HEAP_THRESHOLD>(ranks, pairs, piece, out)
    }
}

fn merge_scan_ranks_n<const N: usize>(
    ranks: &RankMap,
    pairs: &PairMap,
    piece: &[u8],
    out: &mut Vec<u32>,
) {
    debug_assert!(piece.len() <= N && piece.len() >= 2);
    let mut part = [0u32; N];
    let mut pair = [u32::MAX; N];
    let n = piece.len();
    for (p, &b) in part.iter_mut().zip(piece) {
        *p = ranks.single[b as usize];
    }
    for (p, w) in pair.iter_mut().zip(piece.windows(2)) {
        *p = ranks.pair[u16::from_le_bytes([w[0], w[1]]) as usize];
    }
    scan_loop::<N>(pairs, &mut part, &mut pair, n, out)
}

/// The merge loop of [`merge_scan_ranks`] on `n` parts (`part` and `pair` as in [`heap_loop`]).
#[inline(always)]
fn scan_loop<const N: usize>(
    pairs: &PairMap,
    part: &mut [u32; N],
    pair: &mut [u32; N],
    n: usize,
    out: &mut Vec<u32>,
) {
    let mut len = n; // parts; pair[..len - 1] are live
    while len > 1 {
        let (r, i) = leftmost_min(&pair[..len - 1]);
        if r == u32::MAX {
            break;
        }
        part[i] = r;
        part.copy_within(i + 2..len, i + 1);
        pair.copy_within(i + 2..len, i + 1);
        len -= 1;
        if i > 0 {
            pair[i - 1] = pairs.get(part[i - 1], r);
        }
        if i + 1 < len {
            pair[i] = pairs.get(r, part[i + 1]);
        } else {
            pair[i] = u32::MAX;
        }
    }
    out.extend_from_slice(&part[..len]);
}

/// The same rule on ranks for long pieces, linear in practice: a doubly linked list of parts holding their ranks,
/// and a bucket of positions per pair rank. Buckets are taken lowest rank first (a small heap of the ranks that
/// have a bucket) and their positions sorted, so merges go by (rank, position) as in tiktoken; memory is scanned in
/// position order, not hopped through a heap of n entries.
///
/// Merging at rank r makes pairs of longer tokens, never another pair of rank r, so a bucket's order stays valid
/// while it is processed. If a merge makes a pair of a *lower* rank (possible with arbitrary ranks), the rest of
/// the bucket is put back and the lower rank goes first.
fn merge_buckets(ranks: &RankMap, pairs: &PairMap, piece: &[u8], out: &mut Vec<u32>) {
    if piece.len() >= u32::MAX as usize {
        return merge_heap_wide(ranks, piece, out);
    }
    let n = piece.len() as u32;
    const NONE: u32 = u32::MAX;
    /// The part starting at a byte (one 16-byte record, so a merge touches few cache lines).
    #[derive(Clone, Copy)]
    struct Node {
        /// rank of the part
        part: u32,
        /// rank of merging it with the next part (u32::MAX if none / not a token)
        pair: u32,
        /// start of the next part (n at the end)
        next: u32,
        /// start of the previous part (NONE at the start)
        prev: u32,
    }
    let mut node: Vec<Node> = (0..n)
        .map(|i| Node {
            part: ranks.single[piece[i as usize] as usize],
            pair: u32::MAX,
            next: i + 1,
            prev: if i == 0 { NONE } else { i - 1 },
        })
        .collect();
    let mut buckets: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
    // the ranks that have a bucket, each once
    let mut order: BinaryHeap<Reverse<u32>> = BinaryHeap::new();
    fn add(
        buckets: &mut FxHashMap<u32, Vec<u32>>,
        order: &mut BinaryHeap<Reverse<u32>>,
        r: u32,
        i: u32,
    ) {
        buckets
            .entry(r)
            .or_insert_with(|| {
                order.push(Reverse(r));
                Vec::new()
            })
            .push(i);
    }
    for i in 0..n as usize - 1 {
        let r = ranks.pair[u16::from_le_bytes([piece[i], piece[i + 1]]) as usize];
        node[i].pair = r;
        if r != u32::MAX {
            add(&mut buckets, &mut order, r, i as u32);
        }
    }
    while let Some(Reverse(r)) = order.pop() {
        let Some(mut list) = buckets.remove(&r) else {
            continue;
        };
        list.sort_unstable();
        let mut done = list.len();
        for (at, &i) in list.iter().enumerate() {
            // Stale entries: the part was absorbed (pair reset to MAX) or its right neighbour changed.
            if node[i as usize].pair != r {
                continue;
            }
            let j = node[i as usize].next;
            let k = node[j as usize].next;
            node[j as usize].pair = u32::MAX;
            let ri = if k < n {
                node[k as usize].prev = i;
                pairs.get(r, node[k as usize].part)
            } else {
                u32::MAX
            };
            let p = node[i as usize].prev;
            node[i as usize] = Node {
                part: r,
                pair: ri,
                next: k,
                prev: p,
            };
            let mut lower = false;
            if ri != u32::MAX {
                add(&mut buckets, &mut order, ri, i);
                lower |= ri < r;
            }
            if p != NONE {
                let rp = pairs.get(node[p as usize].part, r);
                node[p as usize].pair = rp;
                if rp != u32::MAX {
                    add(&mut buckets, &mut order, rp, p);
                    lower |= rp < r;
                }
            }
            if lower {
                done = at + 1;
                break;
            }
        }
        for &i in &list[done..] {
            add(&mut buckets, &mut order, r, i);
        }
    }
    let mut i = 0;
    while i < n {
        out.push(node[i as usize].part);
        i = node[i as usize].next;
    }
}

/// tiktoken's `_byte_pair_merge`: O(n·m) for n bytes and m merges, fast for short pieces (on the stack).
fn merge_scan(ranks: &RankMap, piece: &[u8], out: &mut Vec<u32>) {
    debug_assert!(piece.len() < HEAP_THRESHOLD);
    // starts[i]: start of part i; rank[i]: rank of merging part i with part i+1 (u32::MAX if none).
    let mut starts = [0u32; HEAP_THRESHOLD + 1];
    let mut rank = [u32::MAX; HEAP_THRESHOLD + 1];
    let n = piece.len();
    let mut len = n + 1; // parts + the end sentinel
    let mut min_rank = (u32::MAX, usize::MAX);
    for i in 0..n - 1 {
        let r = rank_of(ranks, &piece[i..i + 2]);
        if r < min_rank.0 {
            min_rank = (r, i);
        }
        starts[i] = i as u32;
        rank[i] = r;
    }
    starts[n - 1] = (n - 1) as u32;
    starts[n] = n as u32;
    while min_rank.0 != u32::MAX {
        let i = min_rank.1;
        // remove part i + 1
        starts.copy_within(i + 2..len, i + 1);
        rank.copy_within(i + 2..len, i + 1);
        len -= 1;
        let span = |a: usize| -> u32 {
            if a + 2 < len {
                rank_of(ranks, &piece[starts[a] as usize..starts[a + 2] as usize])
            } else {
                u32::MAX
            }
        };
        if i > 0 {
            rank[i - 1] = span(i - 1);
        }
        rank[i] = span(i);
        min_rank = (u32::MAX, usize::MAX);
        for (j, &r) in rank[..len - 2].iter().enumerate() {
            if r < min_rank.0 {
                min_rank = (r, j);
            }
        }
    }
    for w in starts[..len].windows(2) {
        out.push(rank_of(ranks, &piece[w[0] as usize..w[1] as usize]));
    }
}

/// The same rule with a doubly linked list of parts and a min-heap keyed by (rank, start): O(n log n). Indices are
/// `u32` and heap entries one packed `u64` (rank in the high half, start in the low half), so the working set stays
/// small and the heap compares plain integers.
fn merge_heap(ranks: &RankMap, piece: &[u8], out: &mut Vec<u32>) {
    if piece.len() >= u32::MAX as usize {
        // (4 GiB pieces cannot come from a Python str of reasonable size; keep the simple algorithm for them)
        return merge_heap_wide(ranks, piece, out);
    }
    let n = piece.len() as u32;
    const NONE: u32 = u32::MAX;
    // Part starting at byte i spans [i, next[i]); prev[i] is the start of the previous part (NONE if none).
    let mut next: Vec<u32> = (1..=n).collect();
    let mut prev: Vec<u32> = (0..n).map(|i| if i == 0 { NONE } else { i - 1 }).collect();
    // rank[i]: rank of merging the part at i with the following part (u32::MAX if none / not a token).
    let mut rank: Vec<u32> = vec![u32::MAX; n as usize];
    let mut heap: BinaryHeap<Reverse<u64>> = BinaryHeap::with_capacity(n as usize);
    let key = |r: u32, i: u32| ((r as u64) << 32) | i as u64;
    for i in 0..n - 1 {
        let r = rank_of(ranks, &piece[i as usize..i as usize + 2]);
        rank[i as usize] = r;
        if r != u32::MAX {
            heap.push(Reverse(key(r, i)));
        }
    }
    let pair_rank = |next: &Vec<u32>, i: u32| -> u32 {
        let j = next[i as usize];
        if j >= n {
            return u32::MAX;
        }
        rank_of(ranks, &piece[i as usize..next[j as usize] as usize])
    };
    while let Some(Reverse(k)) = heap.pop() {
        let (r, i) = ((k >> 32) as u32, k as u32);
        // Stale entries: the part was absorbed (rank reset to MAX) or its right neighbour changed.
        if rank[i as usize] != r {
            continue;
        }
        let j = next[i as usize];
        let k2 = next[j as usize];
        next[i as usize] = k2;
        if k2 < n {
            prev[k2 as usize] = i;
        }
        rank[j as usize] = u32::MAX;
        let ri = pair_rank(&next, i);
        rank[i as usize] = ri;
        if ri != u32::MAX {
            heap.push(Reverse(key(ri, i)));
        }
        let p = prev[i as usize];
        if p != NONE {
            let rp = pair_rank(&next, p);
            rank[p as usize] = rp;
            if rp != u32::MAX {
                heap.push(Reverse(key(rp, p)));
            }
        }
    }
    let mut i = 0;
    while i < n {
        out.push(rank_of(
            ranks,
            &piece[i as usize..next[i as usize] as usize],
        ));
        i = next[i as usize];
    }
}

/// [`merge_heap`] with `usize` indices, for pieces of 4 GiB or more.
fn merge_heap_wide(ranks: &RankMap, piece: &[u8], out: &mut Vec<u32>) {
    let n = piece.len();
    // Part starting at byte i spans [i, next[i]); prev[i] is the start of the previous part (usize::MAX if none).
    let mut next: Vec<usize> = (1..=n).collect();
    let mut prev: Vec<usize> = (0..n).map(|i| i.wrapping_sub(1)).collect();
    // rank[i]: rank of merging the part at i with the following part (u32::MAX if none / not a token).
    let mut rank: Vec<u32> = vec![u32::MAX; n];
    let mut heap: BinaryHeap<Reverse<(u32, usize)>> = BinaryHeap::with_capacity(n);
    for i in 0..n - 1 {
        let r = rank_of(ranks, &piece[i..i + 2]);
        rank[i] = r;
        if r != u32::MAX {
            heap.push(Reverse((r, i)));
        }
    }
    let pair_rank = |next: &Vec<usize>, i: usize| -> u32 {
        let j = next[i];
        if j >= n {
            return u32::MAX;
        }
        rank_of(ranks, &piece[i..next[j]])
    };
    while let Some(Reverse((r, i))) = heap.pop() {
        // Stale entries: the part was absorbed (rank reset to MAX) or its right neighbour changed.
        if rank[i] != r {
            continue;
        }
        let j = next[i];
        let k = next[j];
        next[i] = k;
        if k < n {
            prev[k] = i;
        }
        rank[j] = u32::MAX;
        let ri = pair_rank(&next, i);
        rank[i] = ri;
        if ri != u32::MAX {
            heap.push(Reverse((ri, i)));
        }
        let p = prev[i];
        if p != usize::MAX {
            let rp = pair_rank(&next, p);
            rank[p] = rp;
            if rp != u32::MAX {
                heap.push(Reverse((rp, p)));
            }
        }
    }
    let mut i = 0;
    while i < n {
        out.push(rank_of(ranks, &piece[i..next[i]]));
        i = next[i];
    }
}

/// A two-way set-associative cache from short pieces (packed, at most 15 bytes) to their tokens (at most 3),
/// in front of the rank map: real text is Zipfian, so most pieces hit it and skip both the rank-map probes (cache
/// misses in a multi-megabyte table) and the merge loop. A set is one 64-byte cache line of two entries, the more
/// recently used first. A second, direct-mapped table holds pieces of 16 to 31 bytes.
///
/// Every entry carries the cache's generation (in the bits above its token count): [`PieceCache::clear`] only
/// bumps the generation, so emptying the cache (when a thread switches tokenizers) costs nothing, not a pass over
/// its 6 MiB.
pub struct PieceCache {
    sets: Vec<CacheSet>,
    mask: usize,
    /// Pieces of 16 to 31 bytes (long words of alphabets of two-byte chars, identifiers), one entry per line.
    long: Vec<LongSlot>,
    long_mask: usize,
    /// Entries of other generations are empty; starts at 1, so that zeroed entries never match.
    generation: u32,
}

/// Generations take the 24 bits above an entry's token count; at the last one the cache is really cleared.
const GENERATION_MAX: u32 = (1 << 24) - 1;

/// A long-piece entry: the piece's bytes zero-padded to 31 and its length in the last byte (all zero = empty),
/// and its tokens `[n | generation << 8, t0, .., t6]`.
#[derive(Clone, Copy, Default)]
#[repr(C, align(64))]
struct LongSlot {
    key: [u64; 4],
    vals: [u32; 8],
}

/// Entries of the long-piece cache (a power of two): 32K lines, 2 MiB per encoding thread.
const LONG_SLOTS: usize = 1 << 15;

/// The longest piece the long-piece cache holds.
const LONG_MAX: usize = 31;

/// One cache entry: the packed piece (0 = empty) and its tokens `[n | generation << 8, t0, t1, t2]`.
#[derive(Clone, Copy, Default)]
#[repr(C)]
struct CacheSlot {
    key: u128,
    vals: [u32; 4],
}

/// Two entries in one cache line.
#[derive(Clone, Copy, Default)]
#[repr(C, align(64))]
struct CacheSet([CacheSlot; 2]);

/// Sets of the piece cache (a power of two): 64K sets of two entries, 4 MiB per encoding thread. The distinct
/// pieces of a large English or code corpus outgrow 16K sets (1 MiB): there, 64K sets encoded 1.3-1.4x faster
/// (`examples/encode_bench`, median of paired runs), more than the extra lookups in L3 cost.
const CACHE_SETS: usize = 1 << 16;

impl Default for PieceCache {
    fn default() -> Self {
        Self::new()
    }
}

impl PieceCache {
    /// An empty cache (6 MiB).
    pub fn new() -> Self {
        Self::with_sizes(CACHE_SETS, LONG_SLOTS)
    }

    /// An empty cache of a few KiB, for a one-off use.
    pub fn small() -> Self {
        Self::with_sizes(64, 16)
    }

    fn with_sizes(sets: usize, long: usize) -> Self {
        debug_assert!(sets.is_power_of_two() && long.is_power_of_two());
        Self {
            sets: vec![CacheSet::default(); sets],
            mask: sets - 1,
            long: vec![LongSlot::default(); long],
            long_mask: long - 1,
            generation: 1,
        }
    }

    /// Forgets everything (a new generation: no memory is touched).
    pub fn clear(&mut self) {
        self.generation += 1;
        if self.generation > GENERATION_MAX {
            self.sets.iter_mut().for_each(|s| *s = CacheSet::default());
            self.long.iter_mut().for_each(|s| *s = LongSlot::default());
            self.generation = 1;
        }
    }

    /// Pieces of 16 to [`LONG_MAX`] bytes, through the long-piece cache (tokens kept when there are at most 7).
    #[inline(always)]
    fn through_long(
        &mut self,
        piece: &[u8],
        out: &mut Vec<u32>,
        make: impl FnOnce(&mut Self, &mut Vec<u32>),
    ) {
        debug_assert!(piece.len() > 15 && piece.len() <= LONG_MAX);
        let mut buf = [0u8; 32];
        buf[..piece.len()].copy_from_slice(piece);
        buf[31] = piece.len() as u8;
        let key: [u64; 4] = std::array::from_fn(|i| {
            u64::from_le_bytes(buf[8 * i..8 * i + 8].try_into().unwrap_or([0; 8]))
        });
        let h = (key[0] ^ key[1].rotate_left(17) ^ key[2].rotate_left(31) ^ key[3].rotate_left(47))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let at = (h >> 40) as usize & self.long_mask;
        let slot = &self.long[at];
        if slot.key == key && slot.vals[0] >> 8 == self.generation {
            let n = (slot.vals[0] & 0xff) as usize;
            out.extend_from_slice(&slot.vals[1..1 + n]);
            return;
        }
        let start = out.len();
        make(self, out);
        let n = out.len() - start;
        if n <= 7 {
            let mut vals = [n as u32 | self.generation << 8, 0, 0, 0, 0, 0, 0, 0];
            vals[1..1 + n].copy_from_slice(&out[start..]);
            self.long[at] = LongSlot { key, vals };
        }
    }

    /// Appends the ranks of `piece`'s tokens to `out`, through the cache. Long pieces with wide chars
    /// (`wide_chars`) are cut where no token can cross (see [`CutTable`]) and the segments go through the cache.
    #[inline(always)]
    pub fn encode(&mut self, ranks: &RankMap, piece: &str, out: &mut Vec<u32>) {
        let bytes = piece.as_bytes();
        // Text of the scripts written without spaces is mostly pieces never seen before (a run of Chinese is one
        // piece up to the next punctuation mark): those go straight to their cuts, whose segments recur; looking
        // the whole piece up would be a cache miss, and storing it would evict a segment. Pieces that open with
        // punctuation or symbols (U+2000..U+2FFF, as “quoted” words) do recur, and keep the cached path.
        let direct = bytes.len() >= CUT_MIN && (opens_wide(bytes[0]) || opens_wide(bytes[1]));
        if direct && self.encode_cut(ranks, bytes, out) {
            return;
        }
        // (a piece that had no cut there is not scanned for cuts again on a miss)
        let cut = !direct;
        match pack(bytes) {
            Some(key) => self.through(key, out, |cache, out| {
                cache.uncached(ranks, bytes, out, cut)
            }),
            None if bytes.len() <= LONG_MAX => self.through_long(bytes, out, |cache, out| {
                cache.uncached(ranks, bytes, out, cut)
            }),
            None => self.uncached(ranks, bytes, out, cut),
        }
    }

    /// A piece the cache does not hold: cut first when `cut`, it is long enough and it has wide chars.
    #[inline(always)]
    fn uncached(&mut self, ranks: &RankMap, piece: &[u8], out: &mut Vec<u32>, cut: bool) {
        if !(cut
            && piece.len() >= CUT_MIN
            && wide_chars(piece)
            && self.encode_cut(ranks, piece, out))
        {
            encode_piece(ranks, piece, out)
        }
    }

    /// Looks `key` up; on a miss runs `make` and keeps its tokens if there are at most three.
    #[inline(always)]
    fn through(
        &mut self,
        key: u128,
        out: &mut Vec<u32>,
        make: impl FnOnce(&mut Self, &mut Vec<u32>),
    ) {
        // key is never 0 for a non-empty piece (the length byte is set)
        let h = (key as u64 ^ (key >> 64) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let at = (h >> 40) as usize & self.mask;
        let g = self.generation;
        let set = &mut self.sets[at].0;
        let hit = if set[0].key == key && set[0].vals[0] >> 8 == g {
            Some(set[0].vals)
        } else if set[1].key == key && set[1].vals[0] >> 8 == g {
            set.swap(0, 1);
            Some(set[0].vals)
        } else {
            None
        };
        if let Some(v) = hit {
            let n = v[0] & 0xff;
            out.push(v[1]);
            if n > 1 {
                out.push(v[2]);
                if n > 2 {
                    out.push(v[3]);
                }
            }
            return;
        }
        let start = out.len();
        make(self, out);
        let n = out.len() - start;
        if n <= 3 {
            let mut vals = [n as u32 | g << 8, 0, 0, 0];
            vals[1..1 + n].copy_from_slice(&out[start..]);
            let set = &mut self.sets[at].0;
            set[1] = set[0];
            set[0] = CacheSlot { key, vals };
        }
    }

    /// A piece of valid UTF-8 cut at the char boundaries no token crosses, each segment's merges through the
    /// cache (under keys of their own: no whole-segment lookup). False, with nothing written, when there is no
    /// cut: the piece is then encoded whole by the caller (it may be a token; a piece with a cut is not, since
    /// every boundary inside a token is marked in [`CutTable`]).
    fn encode_cut(&mut self, ranks: &RankMap, piece: &[u8], out: &mut Vec<u32>) -> bool {
        let cuts = ranks.cuts();
        let n = piece.len();
        let mut seg = 0;
        let mut x_start = 0;
        let mut x_len = utf8_len(piece[0]).max(1);
        let mut x = char_key(&piece[..x_len.min(n)]);
        while x_start + x_len < n {
            let j = x_start + x_len;
            let y_len = utf8_len(piece[j]).max(1).min(n - j);
            let y = char_key(&piece[j..j + y_len]);
            if cuts.safe(x, y, piece[j - 1], piece[j]) {
                self.encode_segment(ranks, &piece[seg..j], out);
                seg = j;
            }
            (x_start, x_len, x) = (j, y_len, y);
        }
        if seg == 0 {
            return false;
        }
        self.encode_segment(ranks, &piece[seg..], out);
        true
    }

    #[inline(always)]
    fn encode_segment(&mut self, ranks: &RankMap, seg: &[u8], out: &mut Vec<u32>) {
        match pack(seg) {
            Some(key) => self.through(key | SEGMENT_KEY, out, |_, out| {
                encode_merges(ranks, seg, out)
            }),
            None => encode_merges(ranks, seg, out),
        }
    }
}

/// Whether `b` has chars of three or four bytes: the scripts written without spaces (Chinese, Japanese, Thai) are
/// there, and cuts are found between their chars; alphabets of one- and two-byte chars (Latin, Cyrillic, Greek,
/// Arabic) form words that tokens span whole, so looking for cuts in them is wasted.
#[inline(always)]
fn wide_chars(b: &[u8]) -> bool {
    b.iter().any(|&x| x >= 0xE0)
}

/// Whether byte `b` opens a char of three or four bytes other than U+2000..U+2FFF (punctuation, symbols).
#[inline(always)]
fn opens_wide(b: u8) -> bool {
    b >= 0xE0 && b != 0xE2
}

/// Cached pieces at least this long are cut on a miss when they have wide chars (shorter ones gain nothing).
const CUT_MIN: usize = 7;

/// Marks a cache key as a segment of a cut piece (merges only), apart from the same bytes as a whole piece (the
/// packed length takes the low four bits of the top byte).
const SEGMENT_KEY: u128 = 1 << 127;

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator: `rnd(m)` is in `0..m`.
    fn xorshift(mut seed: u64) -> impl FnMut(u64) -> u64 {
        move |m| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % m
        }
    }

    fn toy_ranks() -> RankMap {
        let mut r: Ranks = (0..=255u8).map(|b| (vec![b], b as u32)).collect();
        for (i, t) in ["ab", "bc", "abc", "aa", "aaaa", "cab"].iter().enumerate() {
            r.insert(t.as_bytes().to_vec(), 256 + i as u32);
        }
        RankMap::new(&r)
    }

    #[test]
    fn heap_equals_scan_on_random_pieces() {
        let ranks = toy_ranks();
        let mut seed = 12345u64;
        for len in 2..HEAP_THRESHOLD {
            let piece: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    b"abc"[(seed >> 33) as usize % 3]
                })
                .collect();
            let (mut a, mut b) = (Vec::new(), Vec::new());
            merge_scan(&ranks, &piece, &mut a);
            merge_heap(&ranks, &piece, &mut b);
            assert_eq!(a, b, "{}", String::from_utf8_lossy(&piece));
        }
    }

    /// Plain reference: lowest-rank adjacent pair, leftmost on ties, until none merges.
    fn naive(ranks: &RankMap, piece: &[u8]) -> Vec<u32> {
        let mut parts: Vec<Vec<u8>> = piece.iter().map(|&b| vec![b]).collect();
        loop {
            let mut best: Option<(u32, usize)> = None;
            for i in 0..parts.len().saturating_sub(1) {
                let joined = [parts[i].clone(), parts[i + 1].clone()].concat();
                if let Some(r) = ranks.get(&joined) {
                    if best.is_none_or(|(br, _)| r < br) {
                        best = Some((r, i));
                    }
                }
            }
            let Some((_, i)) = best else { break };
            let right = parts.remove(i + 1);
            parts[i].extend(right);
        }
        parts
            .iter()
            .map(|p| ranks.get(p).unwrap_or(u32::MAX))
            .collect()
    }

    #[test]
    fn heap_equals_naive_on_long_pieces() {
        let ranks = toy_ranks();
        let mut seed = 777u64;
        for len in [256, 257, 300, 511, 700] {
            for alphabet in [&b"a"[..], b"ab", b"abc", b"abc "] {
                let piece: Vec<u8> = (0..len)
                    .map(|_| {
                        seed = seed
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        alphabet[(seed >> 33) as usize % alphabet.len()]
                    })
                    .collect();
                let mut got = Vec::new();
                merge_heap(&ranks, &piece, &mut got);
                assert_eq!(got, naive(&ranks, &piece), "len {len}");
            }
        }
    }

    /// Random vocabularies over {a, b, c} (tokens of 2 to 5 bytes, ranks in random order, so a token can rank
    /// below its parts and be reachable by several splits): the rank-based scan and heap equal the naive rule.
    #[test]
    fn rank_paths_equal_naive_on_random_vocabularies() {
        let mut rnd = xorshift(0x5DEECE66Du64);
        for _ in 0..200 {
            let mut r: Ranks = (0..=255u8).map(|b| (vec![b], b as u32)).collect();
            let n_tokens = 5 + rnd(40);
            let mut next_rank = 256u32;
            let mut order: Vec<u32> = (0..n_tokens as u32).collect();
            for i in (1..order.len()).rev() {
                order.swap(i, rnd(i as u64 + 1) as usize);
            }
            for _ in 0..n_tokens {
                let len = 2 + rnd(4) as usize;
                let t: Vec<u8> = (0..len).map(|_| b"abc"[rnd(3) as usize]).collect();
                if let std::collections::hash_map::Entry::Vacant(e) = r.entry(t) {
                    e.insert(256 + order[(next_rank - 256) as usize]);
                    next_rank += 1;
                }
            }
            let ranks = RankMap::new(&r);
            let pairs = ranks.pairs().expect("small ranks fit");
            // (lengths around SCAN_MAX and the stack arrays' sizes: encode_merges picks the path by length)
            for len in [
                2usize, 3, 5, 8, 12, 13, 20, 32, 33, 40, 64, 65, 255, 256, 300,
            ] {
                let piece: Vec<u8> = (0..len).map(|_| b"abc"[rnd(3) as usize]).collect();
                let want = naive(&ranks, &piece);
                let (mut a, mut b) = (Vec::new(), Vec::new());
                encode_merges(&ranks, &piece, &mut a);
                assert_eq!(a, want, "encode_merges {}", String::from_utf8_lossy(&piece));
                a.clear();
                if len < HEAP_THRESHOLD {
                    merge_scan_ranks(&ranks, pairs, &piece, &mut a);
                    assert_eq!(a, want, "scan {}", String::from_utf8_lossy(&piece));
                    a.clear();
                    merge_heap_small(&ranks, pairs, &piece, &mut a);
                    assert_eq!(a, want, "small heap {}", String::from_utf8_lossy(&piece));
                }
                merge_buckets(&ranks, pairs, &piece, &mut b);
                assert_eq!(b, want, "heap {}", String::from_utf8_lossy(&piece));
            }
        }
    }

    /// `pack` (overlapping loads, no loop) gives the bytes in little-endian order and the length in the top
    /// byte, for every length and all byte values; nothing above 15 bytes.
    #[test]
    fn pack_equals_byte_loop() {
        let mut next = xorshift(11);
        for n in 0..=17usize {
            for _ in 0..2000 {
                let b: Vec<u8> = (0..n).map(|_| next(256) as u8).collect();
                let want = (n <= 15).then(|| {
                    b.iter()
                        .enumerate()
                        .fold((n as u128) << 120, |k, (i, &x)| k | (x as u128) << (8 * i))
                });
                assert_eq!(pack(&b), want, "{b:?}");
            }
        }
    }

    /// Pieces of 1 to 40 bytes (cached and not), each encoded three times through one cache (a miss,
    /// then hits, with evictions in between) give the tokens of `encode_piece`.
    #[test]
    fn piece_cache_returns_what_it_stored() {
        let ranks = toy_ranks();
        let mut cache = PieceCache::new();
        let mut seed = 4242u64;
        let pieces: Vec<String> = (0..3000)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let len = 1 + (seed >> 40) as usize % 40;
                (0..len)
                    .map(|k| char::from(b"abc d"[((seed >> (k % 50)) as usize + k * 7) % 5]))
                    .collect()
            })
            .collect();
        for _ in 0..3 {
            for p in &pieces {
                let (mut got, mut want) = (Vec::new(), Vec::new());
                cache.encode(&ranks, p, &mut got);
                encode_piece(&ranks, p.as_bytes(), &mut want);
                assert_eq!(got, want, "{p}");
            }
        }
    }

    /// Random vocabularies over a few chars of one to three bytes, with tokens that begin or end inside a char
    /// and ranks in random order: pieces encoded through the cache (long ones cut between chars) equal the naive
    /// rule on the whole piece.
    #[test]
    fn cut_pieces_equal_naive_on_random_vocabularies() {
        let mut rnd = xorshift(0x2545F4914F6CDD1Du64);
        let alphabet = ["中", "文", "字", "a", "é", " ", "の"];
        let mut cut_somewhere = false;
        for round in 0..300 {
            let mut r: Ranks = (0..=255u8).map(|b| (vec![b], b as u32)).collect();
            let n_tokens = 10 + rnd(60) as u32;
            let mut order: Vec<u32> = (0..n_tokens).collect();
            for i in (1..order.len()).rev() {
                order.swap(i, rnd(i as u64 + 1) as usize);
            }
            let mut next = 0;
            for _ in 0..n_tokens {
                let chars = 1 + rnd(4) as usize;
                let text: String = (0..chars)
                    .map(|_| alphabet[rnd(alphabet.len() as u64) as usize])
                    .collect();
                let b = text.as_bytes();
                // a byte substring: may begin or end inside a char
                let (i, j) = if b.len() >= 2 && rnd(3) == 0 {
                    let i = rnd(b.len() as u64 - 1) as usize;
                    (i, i + 2 + rnd((b.len() - i - 1) as u64) as usize)
                } else {
                    (0, b.len())
                };
                let j = j.min(b.len());
                if j - i >= 2 {
                    if let std::collections::hash_map::Entry::Vacant(e) = r.entry(b[i..j].to_vec())
                    {
                        e.insert(256 + order[next]);
                        next += 1;
                    }
                }
            }
            let ranks = RankMap::new(&r);
            let mut cache = PieceCache::new();
            // random pieces, and every token that is text (a piece that is a token whole is looked up only when
            // it has no cut)
            let mut pieces: Vec<String> = (0..40)
                .map(|_| {
                    let chars = 1 + rnd(30) as usize;
                    (0..chars)
                        .map(|_| alphabet[rnd(alphabet.len() as u64) as usize])
                        .collect()
                })
                .collect();
            pieces.extend(
                r.keys()
                    .filter_map(|k| std::str::from_utf8(k).ok())
                    .map(str::to_string),
            );
            for piece in pieces {
                let want = match ranks.get(piece.as_bytes()) {
                    Some(t) => vec![t],
                    None => naive(&ranks, piece.as_bytes()),
                };
                for pass in 0..2 {
                    let mut got = Vec::new();
                    cache.encode(&ranks, &piece, &mut got);
                    assert_eq!(got, want, "round {round} pass {pass} piece {piece:?}");
                }
            }
            let cuts = ranks.cuts();
            cut_somewhere |= cuts.safe(
                char_key("中".as_bytes()),
                char_key("文".as_bytes()),
                0xAD,
                0xE6,
            );
        }
        assert!(
            cut_somewhere,
            "no vocabulary left a boundary to cut: the test would not test cutting"
        );
    }

    /// After `clear` (a new generation, or a real clear when the generations run out) nothing stored before is
    /// returned: the same pieces encoded under other ranks through the same cache give those ranks' tokens.
    #[test]
    fn whole_chars_equal_naive_on_random_vocabularies() {
        // letters that share first bytes (п, р, и: D0/D1 ..), an Arabic letter, ideographs, a space and a
        // letter; tokens may begin or end inside a char (as " \xD0" does in real vocabularies); ranks either by
        // length, as training makes them (chars are taken whole), or in random order (conditions fail)
        let mut rnd = xorshift(0x9E37_79B9_7F4A_7C15u64);
        let alphabet = ["п", "р", "и", "в", "ل", "中", "文", " ", "a"];
        let mut taken_whole = 0;
        for round in 0..400 {
            let mut tokens: Vec<Vec<u8>> = Vec::new();
            for _ in 0..10 + rnd(70) {
                let chars = 1 + rnd(4) as usize;
                let text: String = (0..chars)
                    .map(|_| alphabet[rnd(alphabet.len() as u64) as usize])
                    .collect();
                let b = text.as_bytes();
                let (i, j) = match rnd(4) {
                    0 => (rnd(b.len() as u64) as usize, b.len()),
                    1 => (0, 1 + rnd(b.len() as u64) as usize),
                    _ => (0, b.len()),
                };
                if j >= i + 2 {
                    tokens.push(b[i..j].to_vec());
                }
            }
            if round % 2 == 0 {
                tokens.sort_by_key(|t| t.len());
            } else {
                for i in (1..tokens.len()).rev() {
                    tokens.swap(i, rnd(i as u64 + 1) as usize);
                }
            }
            let mut r: Ranks = (0..=255u8).map(|b| (vec![b], b as u32)).collect();
            for t in tokens {
                let next = r.len() as u32;
                r.entry(t).or_insert(next);
            }
            let ranks = RankMap::new(&r);
            for _ in 0..40 {
                let chars = 1 + rnd(20) as usize;
                let piece: String = (0..chars)
                    .map(|_| alphabet[rnd(alphabet.len() as u64) as usize])
                    .collect();
                let b = piece.as_bytes();
                if b.len() < 2 {
                    continue;
                }
                let mut got = Vec::new();
                encode_merges(&ranks, b, &mut got);
                assert_eq!(got, naive(&ranks, b), "round {round} piece {piece:?}");
            }
            if ranks.pairs().is_some() {
                taken_whole += ranks
                    .chars()
                    .rank
                    .iter()
                    .filter(|&&x| x != u32::MAX)
                    .count();
            }
        }
        assert!(
            taken_whole > 100,
            "{taken_whole}: too few chars taken whole to test anything"
        );
    }

    #[test]
    fn whole_chars_never_taken_from_malformed_bytes() {
        // encode_piece takes any bytes: a lead byte before a non-continuation byte, or an overlong encoding, must
        // not be read as the char whose code point its bits give (D0 41 as Ё = D0 81, E0 9F BF as U+07FF = DF BF)
        let mut r: Ranks = (0..=255u8).map(|b| (vec![b], b as u32)).collect();
        for t in ["Ё", "\u{7ff}", "中", "ЁЁ"] {
            let next = r.len() as u32;
            r.insert(t.as_bytes().to_vec(), next);
        }
        let ranks = RankMap::new(&r);
        let bytes = [
            0xD0u8, 0x41, 0x81, 0xE0, 0x9F, 0xBF, 0xDF, 0xE4, 0xB8, 0xAD, 0x20,
        ];
        let mut rnd = xorshift(7);
        for _ in 0..3000 {
            let n = 2 + rnd(12) as usize;
            let piece: Vec<u8> = (0..n)
                .map(|_| bytes[rnd(bytes.len() as u64) as usize])
                .collect();
            let mut got = Vec::new();
            encode_merges(&ranks, &piece, &mut got);
            assert_eq!(got, naive(&ranks, &piece), "{piece:x?}");
        }
        let mut got = Vec::new();
        encode_merges(&ranks, &[0xD0, 0x41, 0xD0, 0x81], &mut got);
        assert_eq!(got, vec![0xD0, 0x41, r[&"Ё".as_bytes().to_vec()]]);
    }

    #[test]
    fn cleared_cache_returns_nothing_old() {
        let a = toy_ranks();
        let mut rb: Ranks = (0..=255u8).map(|b| (vec![b], b as u32)).collect();
        for (i, t) in ["ba", "cb", "dc", "abc d", "bb", "aa", "aaaa"]
            .iter()
            .enumerate()
        {
            rb.insert(t.as_bytes().to_vec(), 256 + i as u32);
        }
        let b = RankMap::new(&rb);
        let mut seed = 99u64;
        let pieces: Vec<String> = (1..40)
            .map(|n| -> String {
                (0..n)
                    .map(|_| {
                        seed = seed
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        ["a", "b", "c", " ", "d"][(seed >> 33) as usize % 5]
                    })
                    .collect()
            })
            .chain([16, 20, 28].map(|n| "a".repeat(n))) // a few tokens each, so the long-piece cache keeps them
            .collect();
        // the two vocabularies disagree on many of these pieces (else the test could not see a stale entry)
        let differ = pieces
            .iter()
            .filter(|p| {
                let (mut x, mut y) = (Vec::new(), Vec::new());
                encode_piece(&a, p.as_bytes(), &mut x);
                encode_piece(&b, p.as_bytes(), &mut y);
                x != y
            })
            .count();
        assert!(differ > 20, "{differ}");
        for (small, near_max) in [(false, false), (true, false), (false, true)] {
            let mut cache = if small {
                PieceCache::small()
            } else {
                PieceCache::new()
            };
            if near_max {
                cache.generation = GENERATION_MAX;
            }
            for ranks in [&a, &b, &a] {
                for _ in 0..2 {
                    for p in &pieces {
                        let (mut got, mut want) = (Vec::new(), Vec::new());
                        cache.encode(ranks, p, &mut got);
                        encode_piece(ranks, p.as_bytes(), &mut want);
                        assert_eq!(got, want, "{p:?}");
                    }
                }
                cache.clear();
            }
            assert!(cache.generation >= 1 && cache.generation <= GENERATION_MAX);
        }
    }

    #[test]
    fn whole_piece_wins() {
        let ranks = toy_ranks();
        let mut out = Vec::new();
        encode_piece(&ranks, b"cab", &mut out);
        assert_eq!(out, vec![261]);
    }
}
