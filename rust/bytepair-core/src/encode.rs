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
///
/// Single bytes and byte pairs (the first and most frequent lookups of every merge) are direct tables.
#[derive(Debug, Clone)]
pub struct RankMap {
    single: [u32; 256],
    pair: Vec<u32>,
    small: FxHashMap<u128, u32>,
    large: FxHashMap<Box<[u8]>, u32>,
}

impl Default for RankMap {
    fn default() -> Self {
        Self {
            single: [u32::MAX; 256],
            pair: vec![u32::MAX; 1 << 16],
            small: FxHashMap::default(),
            large: FxHashMap::default(),
        }
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
        let mut hi: u64 = 0;
        for (i, &x) in b[8..].iter().enumerate() {
            hi |= (x as u64) << (8 * i);
        }
        Some(lo | ((hi as u128) << 64) | len)
    } else if n >= 4 {
        let a = u32::from_le_bytes(b[..4].try_into().unwrap_or([0; 4])) as u64;
        let c = u32::from_le_bytes(b[n - 4..].try_into().unwrap_or([0; 4])) as u64;
        // overlapping loads: bytes 0..4 and n-4..n
        let v = a | (c << (8 * (n - 4)));
        Some(v as u128 | len)
    } else {
        let mut v: u64 = 0;
        for (i, &x) in b.iter().enumerate() {
            v |= (x as u64) << (8 * i);
        }
        Some(v as u128 | len)
    }
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
    if piece.len() < HEAP_THRESHOLD {
        merge_scan(ranks, piece, out);
    } else {
        merge_heap(ranks, piece, out);
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

/// A small direct-mapped cache from short pieces (packed, at most 15 bytes) to their tokens (at most 3), in front
/// of the rank map: real text is Zipfian, so most pieces hit it and skip both the rank-map probes (cache misses in
/// a multi-megabyte table) and the merge loop.
pub struct PieceCache {
    keys: Vec<u128>,
    vals: Vec<[u32; 4]>, // [n, t0, t1, t2]
    mask: usize,
}

/// Slots of the piece cache (a power of two).
const CACHE_SLOTS: usize = 1 << 15;

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
            let v = self.vals[slot];
            out.push(v[1]);
            if v[0] > 1 {
                out.push(v[2]);
                if v[0] > 2 {
                    out.push(v[3]);
                }
            }
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

    #[test]
    fn whole_piece_wins() {
        let ranks = toy_ranks();
        let mut out = Vec::new();
        encode_piece(&ranks, b"cab", &mut out);
        assert_eq!(out, vec![261]);
    }
}
