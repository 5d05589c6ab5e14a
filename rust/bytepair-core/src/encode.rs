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

/// Pieces at least this long go through the heap algorithm.
const HEAP_THRESHOLD: usize = 256;

#[inline]
fn rank_of(ranks: &Ranks, bytes: &[u8]) -> u32 {
    ranks.get(bytes).copied().unwrap_or(u32::MAX)
}

/// Appends the ranks of the tokens of `piece` to `out`. Every single byte must have a rank.
pub fn encode_piece(ranks: &Ranks, piece: &[u8], out: &mut Vec<u32>) {
    if piece.is_empty() {
        return;
    }
    if let Some(&r) = ranks.get(piece) {
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
fn merge_scan(ranks: &Ranks, piece: &[u8], out: &mut Vec<u32>) {
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
fn merge_heap(ranks: &Ranks, piece: &[u8], out: &mut Vec<u32>) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn toy_ranks() -> Ranks {
        let mut r: Ranks = (0..=255u8).map(|b| (vec![b], b as u32)).collect();
        for (i, t) in ["ab", "bc", "abc", "aa", "aaaa", "cab"].iter().enumerate() {
            r.insert(t.as_bytes().to_vec(), 256 + i as u32);
        }
        r
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
