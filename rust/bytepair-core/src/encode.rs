//! BPE on one pre-token (tiktoken's rule): if the whole piece is a token, it is that token; otherwise repeatedly
//! merge the adjacent pair whose concatenated bytes have the lowest rank, leftmost on ties.
//!
//! Short pieces use tiktoken's array scan; long pieces use a linked list with a binary heap and lazy invalidation
//! (O(n log n)), so no input is quadratic.
use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rustc_hash::FxHashMap;

/// Token bytes to rank.
pub type Ranks = FxHashMap<Vec<u8>, u32>;

/// Bytes -> rank, tuned for lookups: tokens of up to 15 bytes (nearly all) are packed into a `u128` key, so a
/// lookup is one integer hash and compare, no `memcmp`; longer tokens go to a second map.
#[derive(Debug, Clone, Default)]
pub struct RankMap {
    small: FxHashMap<u128, u32>,
    large: FxHashMap<Box<[u8]>, u32>,
}

#[inline(always)]
pub(crate) fn pack(b: &[u8]) -> Option<u128> {
    if b.len() > 15 {
        return None;
    }
    let mut buf = [0u8; 16];
    buf[..b.len()].copy_from_slice(b);
    buf[15] = b.len() as u8;
    Some(u128::from_le_bytes(buf))
}

impl RankMap {
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
    pub fn insert(&mut self, bytes: &[u8], rank: u32) {
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
    if piece.len() < HEAP_THRESHOLD {
        merge_scan(ranks, piece, out);
    } else {
        merge_heap(ranks, piece, out);
    }
}

/// tiktoken's `_byte_pair_merge`: O(n·m) for n bytes and m merges, fast for short pieces.
fn merge_scan(ranks: &RankMap, piece: &[u8], out: &mut Vec<u32>) {
    // parts[i] = (start of part i, rank of merging part i with part i+1)
    let mut parts: Vec<(usize, u32)> = Vec::with_capacity(piece.len() + 1);
    let mut min_rank = (u32::MAX, usize::MAX);
    for i in 0..piece.len() - 1 {
        let r = rank_of(ranks, &piece[i..i + 2]);
        if r < min_rank.0 {
            min_rank = (r, i);
        }
        parts.push((i, r));
    }
    parts.push((piece.len() - 1, u32::MAX));
    parts.push((piece.len(), u32::MAX));

    let get_rank = |parts: &Vec<(usize, u32)>, i: usize| -> u32 {
        if i + 3 < parts.len() {
            rank_of(ranks, &piece[parts[i].0..parts[i + 3].0])
        } else {
            u32::MAX
        }
    };
    while min_rank.0 != u32::MAX {
        let i = min_rank.1;
        if i > 0 {
            parts[i - 1].1 = get_rank(&parts, i - 1);
        }
        parts[i].1 = get_rank(&parts, i);
        parts.remove(i + 1);
        min_rank = (u32::MAX, usize::MAX);
        for (j, &(_, r)) in parts[..parts.len() - 1].iter().enumerate() {
            if r < min_rank.0 {
                min_rank = (r, j);
            }
        }
    }
    for w in parts.windows(2) {
        out.push(rank_of(ranks, &piece[w[0].0..w[1].0]));
    }
}

/// The same rule with a doubly linked list of parts and a min-heap keyed by (rank, start): O(n log n).
fn merge_heap(ranks: &RankMap, piece: &[u8], out: &mut Vec<u32>) {
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

/// A small direct-mapped cache from short pieces (packed, at most 15 bytes) to their tokens (at most 3), in front
/// of the rank map: real text is Zipfian, so most pieces hit it and skip both the rank-map probes (cache misses in
/// a multi-megabyte table) and the merge loop.
pub struct PieceCache {
    keys: Vec<u128>,
    vals: Vec<[u32; 4]>, // [n, t0, t1, t2]
    mask: usize,
}

/// Slots of the piece cache (a power of two).
const CACHE_SLOTS: usize = 1 << 13;

impl Default for PieceCache {
    fn default() -> Self {
        Self::new()
    }
}

impl PieceCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self {
            keys: vec![0; CACHE_SLOTS],
            vals: vec![[0; 4]; CACHE_SLOTS],
            mask: CACHE_SLOTS - 1,
        }
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.keys.iter_mut().for_each(|k| *k = 0);
    }

    /// Appends the ranks of `piece`'s tokens to `out`, through the cache.
    #[inline(always)]
    pub fn encode(&mut self, ranks: &RankMap, piece: &[u8], out: &mut Vec<u32>) {
        let Some(key) = pack(piece) else {
            encode_piece(ranks, piece, out);
            return;
        };
        // key is never 0 for a non-empty piece (the length byte is set)
        let h = (key as u64 ^ (key >> 64) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let slot = (h >> 40) as usize & self.mask;
        if self.keys[slot] == key {
            let v = &self.vals[slot];
            out.extend_from_slice(&v[1..1 + v[0] as usize]);
            return;
        }
        let start = out.len();
        encode_piece(ranks, piece, out);
        let n = out.len() - start;
        if n <= 3 {
            let mut v = [n as u32, 0, 0, 0];
            v[1..1 + n].copy_from_slice(&out[start..]);
            self.keys[slot] = key;
            self.vals[slot] = v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        for len in 2..300 {
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

    #[test]
    fn whole_piece_wins() {
        let ranks = toy_ranks();
        let mut out = Vec::new();
        encode_piece(&ranks, b"cab", &mut out);
        assert_eq!(out, vec![261]);
    }
}
