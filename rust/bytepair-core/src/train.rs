//! Byte-level BPE training: the merge loop.
//!
//! Rule (DESIGN §3.4, the Stanford CS336 assignment's): ids 0..255 are the single bytes, merges get ids 256.. in
//! creation order, special tokens follow. Each step merges the pair with the highest count; ties go to the
//! lexicographically greatest `(bytes_left, bytes_right)`. Pairs never cross a pre-token or a special token.
//!
//! The distinct pre-tokens live in one arena, one slot per byte: a token's first slot holds its id and its last
//! slot its length, so neighbours are found without links (a merged pair keeps the left start, the right one
//! dies). Each pair has its count and the list of arena positions where it starts (stale entries are skipped when
//! read); a pair whose count drops to 0 leaves the table. A merge visits only the occurrences of the merged pair,
//! left to right, and updates the counts of the neighbouring pairs in place: the work of a step is proportional to
//! the number of distinct pre-tokens containing the pair, whatever their length (a 20 MB pre-token costs nothing
//! per step beyond its occurrences). The best pair comes from a max-heap with lazy invalidation: counts of existing
//! pairs only go down, so an entry whose count is stale is re-pushed with the current count when it reaches the
//! top. Rare pairs stay out of the heap until the best count comes near theirs (the heap's floor).
use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::hash_map::Entry as MapEntry;

use rustc_hash::FxHashMap;

pub use crate::counts::PretokenCounts;
use crate::error::{Error, Result};
use crate::special::SpecialTokens;

/// Training options.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Final vocabulary size: 256 bytes + merges + special tokens.
    pub vocab_size: usize,
    /// Special tokens, appended to the vocab in this order.
    pub special_tokens: Vec<String>,
    /// Stop when the best pair occurs fewer times than this.
    pub min_frequency: u64,
    /// Never create a token longer than this many bytes.
    pub max_token_length: Option<usize>,
}

/// The result of training.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trained {
    /// id -> bytes: 0..255 single bytes, then merged tokens, then special tokens.
    pub vocab: Vec<(u32, Vec<u8>)>,
    /// Merges in creation order.
    pub merges: Vec<(Vec<u8>, Vec<u8>)>,
    /// Special tokens and their ids.
    pub special_tokens: Vec<(String, u32)>,
}

/// Checks the options before any work is done.
///
/// # Errors
/// [`Error::InvalidArgument`] when `vocab_size < 256 + len(special_tokens)`, a special token is empty or
/// duplicated, or `max_token_length` is 0.
pub fn check_options(opts: &TrainOptions) -> Result<()> {
    let min = 256 + opts.special_tokens.len();
    if opts.vocab_size < min {
        return Err(Error::InvalidArgument(format!(
            "vocab_size={} is too small: it must be at least 256 (one token per byte) + {} special token(s) = {min}",
            opts.vocab_size,
            opts.special_tokens.len()
        )));
    }
    if opts.vocab_size > u32::MAX as usize {
        return Err(Error::InvalidArgument(format!(
            "vocab_size={} is too large (at most {})",
            opts.vocab_size,
            u32::MAX
        )));
    }
    if opts.max_token_length == Some(0) {
        return Err(Error::InvalidArgument(
            "max_token_length must be at least 1".to_string(),
        ));
    }
    let tokens: Vec<(String, u32)> = opts
        .special_tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), i as u32))
        .collect();
    SpecialTokens::new(tokens)?;
    Ok(())
}

/// Positions read per block in a merge step: the slots the first pass loads stay in cache for the second.
const BLOCK: usize = 512;

/// The heap's floor is divided by this each time it is lowered (see the merge loop).
const FLOOR_STEP: u64 = 8;

/// Slot values of the arena that are not token ids (ids are below `u32::MAX - longest pre-token`, checked):
/// the separator before and after every pre-token,
const SEP: u32 = u32::MAX;
/// a slot inside a token that is neither its first nor its last byte,
const DEAD: u32 = u32::MAX - 1;

/// and the last byte of a token of `len >= 2` bytes, which gives the token's start to its right neighbour.
#[inline]
fn end_mark(len: u32) -> u32 {
    u32::MAX - len
}

#[inline]
fn key(a: u32, b: u32) -> u64 {
    ((a as u64) << 32) | b as u64
}

/// One byte of the arena: the token starting here (or [`SEP`], [`DEAD`], an [`end_mark`]), and the pre-token's
/// count (see [`Freq`]): a merge reads both from one cache line.
///
/// A token of `n` bytes starting at `p` has its id in slot `p`, its end mark in slot `p + n - 1` (when `n >= 2`)
/// and no id in between ([`DEAD`] or an old end mark), so the next token starts at `p + n` and the previous one is found from slot `p - 1`:
/// no links to keep (8 bytes a byte, and neighbours share cache lines). A slot that stops being a start is
/// overwritten at once, so a stale position never reads an id.
#[derive(Clone, Copy)]
struct Slot {
    sym: u32,
    freq: u32,
}

/// Pre-token counts as stored in the arena: below `2^31` the count itself, else `2^31 +` an index into a table
/// of the (few) larger counts.
struct Freq {
    big: Vec<u64>,
}

impl Freq {
    const BIG: u32 = 1 << 31;

    fn encode(&mut self, f: u64) -> u32 {
        if f < Self::BIG as u64 {
            f as u32
        } else {
            self.big.push(f);
            Self::BIG + (self.big.len() - 1) as u32
        }
    }

    #[inline]
    fn get(&self, x: u32) -> u64 {
        if x < Self::BIG {
            x as u64
        } else {
            self.big[(x - Self::BIG) as usize]
        }
    }
}

#[derive(Default)]
struct PairInfo {
    count: u64,
    /// Arena positions where the pair may start (checked when read).
    at: Positions,
}

/// A list of arena positions, the first few inline: most pairs are rare, and a heap allocation each would cost
/// more time and memory than their positions. 16 bytes, so an entry of the pair table takes 32.
// The Box keeps the enum at 16 bytes (a Vec is 24); the extra indirection is only paid by the common pairs.
#[allow(clippy::box_collection)]
enum Positions {
    Inline(u8, [u32; 3]),
    Heap(Box<Vec<u32>>),
}

impl Default for Positions {
    fn default() -> Self {
        Positions::Inline(0, [0; 3])
    }
}

impl Positions {
    #[inline]
    fn push(&mut self, p: u32) {
        match self {
            Positions::Inline(n, a) if (*n as usize) < a.len() => {
                a[*n as usize] = p;
                *n += 1;
            }
            Positions::Inline(_, a) => {
                let mut v = Vec::with_capacity(8);
                v.extend_from_slice(a);
                v.push(p);
                *self = Positions::Heap(Box::new(v));
            }
            Positions::Heap(v) => v.push(p),
        }
    }

    fn from_vec(v: Vec<u32>) -> Self {
        if v.len() <= 3 {
            let mut a = [0; 3];
            a[..v.len()].copy_from_slice(&v);
            Positions::Inline(v.len() as u8, a)
        } else {
            Positions::Heap(Box::new(v))
        }
    }

    fn as_slice(&self) -> &[u32] {
        match self {
            Positions::Inline(n, a) => &a[..*n as usize],
            Positions::Heap(v) => v,
        }
    }

    /// Moves the positions into `out` (cleared first), leaving the list empty.
    fn take_into(&mut self, out: &mut Vec<u32>) {
        out.clear();
        out.extend_from_slice(std::mem::take(self).as_slice());
    }
}

/// A change to one pair during a merge step, applied to the table once at the end of the step.
#[derive(Default)]
struct Delta {
    add: u64,
    sub: u64,
    at: Positions,
}

/// The neighbours on one side of a step's occurrences, grouped by token.
struct Group {
    x: u32,
    count: u64,
    at: Positions,
}

struct Groups {
    /// Token id -> index in `list`, or `u32::MAX`.
    index: Vec<u32>,
    list: Vec<Group>,
}

impl Groups {
    fn new(n_tokens: usize) -> Self {
        Groups {
            index: vec![u32::MAX; n_tokens],
            list: Vec::new(),
        }
    }

    #[inline]
    fn add(&mut self, x: u32, count: u64, pos: u32) {
        let i = &mut self.index[x as usize];
        if *i == u32::MAX {
            *i = self.list.len() as u32;
            self.list.push(Group {
                x,
                count: 0,
                at: Positions::default(),
            });
        }
        let g = &mut self.list[*i as usize];
        g.count += count;
        g.at.push(pos);
    }

    /// Takes the groups out, resetting the index.
    fn drain(&mut self) -> impl Iterator<Item = Group> + '_ {
        for g in &self.list {
            self.index[g.x as usize] = u32::MAX;
        }
        self.list.drain(..)
    }
}

/// A heap entry: the count and the pair (16 bytes; ties are broken with [`Tokens::prefix`], then the bytes).
#[derive(Clone, Copy)]
struct Entry {
    count: u64,
    pair: u64,
}

fn prefix8(b: &[u8]) -> u64 {
    let mut x = [0u8; 8];
    let n = b.len().min(8);
    x[..n].copy_from_slice(&b[..n]);
    u64::from_be_bytes(x)
}

/// Token bytes (for ties), with each token's length and [`prefix8`] at hand in dense arrays: making a heap entry or
/// stepping over a token in the arena touches no token's bytes.
struct Tokens {
    bytes: Vec<Box<[u8]>>,
    len: Vec<u32>,
    prefix: Vec<u64>,
}

impl Tokens {
    fn push(&mut self, b: Box<[u8]>) -> u32 {
        self.len.push(b.len() as u32);
        self.prefix.push(prefix8(&b));
        self.bytes.push(b);
        (self.bytes.len() - 1) as u32
    }

    fn get(&self, id: u32) -> &[u8] {
        &self.bytes[id as usize]
    }

    /// Token bytes order, by the 8-byte prefixes first (big-endian: comparing the numbers compares the bytes).
    #[inline]
    fn cmp_ids(&self, x: u32, y: u32) -> Ordering {
        if x == y {
            return Ordering::Equal;
        }
        let (px, py) = (self.prefix[x as usize], self.prefix[y as usize]);
        if px != py {
            return px.cmp(&py);
        }
        self.get(x).cmp(self.get(y))
    }

    /// The §3.4 order: count, then `(bytes_left, bytes_right)`; `Greater` means `x` is merged first.
    fn cmp(&self, x: &Entry, y: &Entry) -> Ordering {
        x.count.cmp(&y.count).then_with(|| {
            let (xl, yl) = ((x.pair >> 32) as u32, (y.pair >> 32) as u32);
            let (xr, yr) = (x.pair as u32, y.pair as u32);
            self.cmp_ids(xl, yl).then_with(|| self.cmp_ids(xr, yr))
        })
    }
}

/// A binary max-heap ordered by [`Tokens::cmp`] (the standard library's needs `Ord` without context).
struct Heap {
    v: Vec<Entry>,
}

impl Heap {
    fn push(&mut self, e: Entry, t: &Tokens) {
        self.v.push(e);
        let mut i = self.v.len() - 1;
        while i > 0 {
            let parent = (i - 1) / 2;
            if t.cmp(&self.v[i], &self.v[parent]) != Ordering::Greater {
                break;
            }
            self.v.swap(i, parent);
            i = parent;
        }
    }

    fn pop(&mut self, t: &Tokens) -> Option<Entry> {
        let n = self.v.len();
        if n == 0 {
            return None;
        }
        self.v.swap(0, n - 1);
        let top = self.v.pop();
        self.sift_down(0, t);
        top
    }

    fn sift_down(&mut self, mut i: usize, t: &Tokens) {
        let n = self.v.len();
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut best = i;
            if l < n && t.cmp(&self.v[l], &self.v[best]) == Ordering::Greater {
                best = l;
            }
            if r < n && t.cmp(&self.v[r], &self.v[best]) == Ordering::Greater {
                best = r;
            }
            if best == i {
                return;
            }
            self.v.swap(i, best);
            i = best;
        }
    }

    fn heapify(&mut self, t: &Tokens) {
        for i in (0..self.v.len() / 2).rev() {
            self.sift_down(i, t);
        }
    }
}

/// Learns merges from pre-token counts.
///
/// `progress(done, total)` is called every few merges with the number of merges made and the number wanted;
/// returning `false` stops training with [`Error::Interrupted`].
///
/// # Errors
/// As [`check_options`], [`Error::InvalidArgument`] when the distinct pre-tokens hold 2^32 - 1 bytes or more, or
/// [`Error::Interrupted`].
pub fn train(
    counts: &PretokenCounts,
    opts: &TrainOptions,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Trained> {
    train_from(counts, opts, progress)
}

/// [`train`], taking the counts: their memory is freed once the merge loop's own tables are built.
///
/// # Errors
/// As [`train`].
pub fn train_owned(
    counts: PretokenCounts,
    opts: &TrainOptions,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Trained> {
    train_from(counts, opts, progress)
}

fn train_from<C: Borrow<PretokenCounts>>(
    counts: C,
    opts: &TrainOptions,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Trained> {
    check_options(opts)?;
    let target_tokens = opts.vocab_size - opts.special_tokens.len();
    let wanted = target_tokens - 256;
    let max_len = opts.max_token_length.unwrap_or(usize::MAX);

    // Token table: id -> bytes, bytes -> id.
    let mut tokens = Tokens {
        bytes: Vec::new(),
        len: Vec::new(),
        prefix: Vec::new(),
    };
    for b in 0..=255u8 {
        tokens.push(Box::new([b]));
    }
    let mut by_bytes: FxHashMap<Box<[u8]>, u32> = tokens
        .bytes
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), i as u32))
        .collect();

    // The arena: every distinct pre-token of two bytes or more, one after the other, between separators.
    let (mut total, mut words, mut longest) = (0usize, 0usize, 0usize);
    for k in counts.borrow().counts().keys().filter(|k| k.len() > 1) {
        total += k.len();
        words += 1;
        longest = longest.max(k.len());
    }
    let slots = total + words + 1;
    if slots as u64 + target_tokens as u64 + longest as u64 >= u32::MAX as u64 {
        return Err(Error::InvalidArgument(format!(
            "the distinct pre-tokens hold {total} bytes in {words} pre-tokens; training handles fewer than {} \
             bytes + pre-tokens + vocab_size + longest pre-token",
            u32::MAX
        )));
    }
    let mut arena: Vec<Slot> = Vec::with_capacity(slots);
    let mut freq = Freq { big: Vec::new() };
    arena.push(Slot { sym: SEP, freq: 0 });
    for (k, &f) in counts.borrow().counts() {
        if k.len() < 2 {
            continue;
        }
        let f = freq.encode(f);
        arena.extend(k.iter().map(|&b| Slot {
            sym: b as u32,
            freq: f,
        }));
        arena.push(Slot { sym: SEP, freq: 0 });
    }

    drop(counts);

    // Every symbol is a byte yet: the pairs are counted in a dense table, then their positions go into lists of
    // the exact size (no hashing, no growing).
    let byte_pair = |w: &[Slot]| {
        (w[0].sym != SEP && w[1].sym != SEP).then(|| (w[0].sym as usize) << 8 | w[1].sym as usize)
    };
    let mut n_at = vec![0u32; 1 << 16];
    let mut byte_counts = vec![0u64; 1 << 16];
    for w in arena.windows(2) {
        if let Some(k) = byte_pair(w) {
            n_at[k] += 1;
            byte_counts[k] += freq.get(w[0].freq);
        }
    }
    let mut lists: Vec<Vec<u32>> = n_at
        .iter()
        .map(|&n| Vec::with_capacity(n as usize))
        .collect();
    for (p, w) in arena.windows(2).enumerate() {
        if let Some(k) = byte_pair(w) {
            lists[k].push(p as u32);
        }
    }
    let mut pairs: FxHashMap<u64, PairInfo> = FxHashMap::default();
    for (k, at) in lists.into_iter().enumerate() {
        if !at.is_empty() {
            let info = PairInfo {
                count: byte_counts[k],
                at: Positions::from_vec(at),
            };
            pairs.insert(key((k >> 8) as u32, (k & 0xff) as u32), info);
        }
    }
    let entry = |tokens: &Tokens, k: u64, count: u64| -> Option<Entry> {
        let (l, r) = ((k >> 32) as usize, k as u32 as usize);
        (count > 0 && tokens.len[l] as usize + tokens.len[r] as usize <= max_len)
            .then_some(Entry { count, pair: k })
    };
    // Only pairs counted `floor` times or more are sure to be in the heap: most pairs are rare and never merged, and
    // pushing them would cost time and memory. When the best entry falls below the floor, the floor is lowered and
    // the pairs between the two floors are pushed (a scan of the table, a few times in a run).
    let mut floor = pairs.values().map(|e| e.count).max().unwrap_or(0) / FLOOR_STEP;
    let mut heap = Heap {
        v: pairs
            .iter()
            .filter(|(_, e)| e.count >= floor)
            .filter_map(|(&k, e)| entry(&tokens, k, e.count))
            .collect(),
    };
    heap.heapify(&tokens);

    let mut merges: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut deltas: FxHashMap<u64, Delta> = FxHashMap::default();
    // The neighbours of a step's occurrences, left and right of the merged pair: one group per neighbour token
    // (found through a dense id -> group table), with its summed count and the positions of the pairs it forms.
    let mut groups: [Groups; 2] = [Groups::new(target_tokens), Groups::new(target_tokens)];
    let mut cand: Vec<(u32, u64)> = Vec::new();
    let mut at: Vec<u32> = Vec::new();
    while tokens.bytes.len() < target_tokens {
        while floor > 1 && heap.v.first().is_none_or(|e| e.count < floor) {
            let lower = floor / FLOOR_STEP;
            for (&k, e) in &pairs {
                if (lower..floor).contains(&e.count) {
                    if let Some(x) = entry(&tokens, k, e.count) {
                        heap.push(x, &tokens);
                    }
                }
            }
            floor = lower;
        }
        let Some(top) = heap.pop(&tokens) else { break };
        let current = pairs.get(&top.pair).map_or(0, |e| e.count);
        if current != top.count {
            if current > 0 && current >= floor {
                heap.push(
                    Entry {
                        count: current,
                        ..top
                    },
                    &tokens,
                );
            }
            continue;
        }
        if current < opts.min_frequency {
            break;
        }
        let (a, b) = ((top.pair >> 32) as u32, top.pair as u32);
        let left = tokens.get(a).to_vec();
        let right = tokens.get(b).to_vec();
        let joined: Box<[u8]> = [&left[..], &right[..]].concat().into_boxed_slice();
        let c = match by_bytes.get(&joined) {
            Some(&id) => id,
            None => {
                let id = tokens.push(joined.clone());
                by_bytes.insert(joined, id);
                id
            }
        };
        merges.push((left, right));

        if let Some(mut e) = pairs.remove(&top.pair) {
            e.at.take_into(&mut at);
        } else {
            at.clear();
        }
        at.sort();
        let (la, lb) = (tokens.len[a as usize], tokens.len[b as usize]);
        let end = end_mark(la + lb);
        // In blocks, two passes: the first makes independent loads (the memory system overlaps them), dropping most
        // stale positions and reading each count; the second then finds its slots in cache.
        for block in at.chunks(BLOCK) {
            cand.clear();
            for &p in block {
                let s = arena[p as usize];
                if s.sym == a {
                    cand.push((p, freq.get(s.freq)));
                }
            }
            for &(p, f) in &cand {
                // Occurrences are visited left to right, so in `a a a` with a == b the first two merge and the third
                // (its slot now inside the new token) is skipped.
                if arena[p as usize].sym != a {
                    continue;
                }
                let q = p + la;
                if arena[q as usize].sym != b {
                    continue;
                }
                let r = q + lb;
                // (x, a) loses f and (x, c) gains f for the left neighbour x; (b, y) and (c, y) likewise on the right.
                // Summed per neighbour here, turned into per-pair changes once per step below.
                let before = arena[p as usize - 1].sym;
                if before != SEP {
                    let l = if before < target_tokens as u32 {
                        p - 1
                    } else {
                        p - (u32::MAX - before)
                    };
                    let x = arena[l as usize].sym;
                    groups[0].add(x, f, l);
                }
                let y = arena[r as usize].sym;
                if y != SEP {
                    groups[1].add(y, f, p);
                }
                arena[p as usize].sym = c;
                arena[q as usize].sym = DEAD;
                arena[r as usize - 1].sym = end;
            }
        }
        for (side, g) in groups.iter_mut().enumerate() {
            for Group { x, count, at } in g.drain() {
                let (gone, new) = if side == 0 {
                    (key(x, a), key(x, c))
                } else {
                    (key(b, x), key(c, x))
                };
                deltas.entry(gone).or_default().sub += count;
                let d = deltas.entry(new).or_default();
                d.add += count;
                if d.at.as_slice().is_empty() {
                    d.at = at;
                } else {
                    at.as_slice().iter().for_each(|&p| d.at.push(p));
                }
            }
        }
        for (k, d) in deltas.drain() {
            if k == top.pair {
                continue; // every occurrence is gone
            }
            // A pair whose count drops to 0 leaves the table (its positions are all stale): the table stays the
            // size of the live pairs instead of every pair ever seen.
            let count = match pairs.entry(k) {
                MapEntry::Occupied(mut o) => {
                    let e = o.get_mut();
                    e.count = e.count + d.add - d.sub;
                    if e.count == 0 {
                        o.remove();
                        continue;
                    }
                    d.at.as_slice().iter().for_each(|&p| e.at.push(p));
                    e.count
                }
                MapEntry::Vacant(v) => {
                    let count = d.add - d.sub;
                    if count == 0 {
                        continue;
                    }
                    v.insert(PairInfo { count, at: d.at });
                    count
                }
            };
            if d.add > d.sub && count >= floor {
                if let Some(x) = entry(&tokens, k, count) {
                    heap.push(x, &tokens);
                }
            }
        }
        if merges.len() % 64 == 0 && !progress(merges.len(), wanted) {
            return Err(Error::Interrupted);
        }
    }
    progress(merges.len(), wanted);

    let mut vocab: Vec<(u32, Vec<u8>)> = tokens
        .bytes
        .iter()
        .enumerate()
        .map(|(i, t)| (i as u32, t.to_vec()))
        .collect();
    let mut special_tokens = Vec::new();
    for t in &opts.special_tokens {
        let id = vocab.len() as u32;
        vocab.push((id, t.as_bytes().to_vec()));
        special_tokens.push((t.clone(), id));
    }
    Ok(Trained {
        vocab,
        merges,
        special_tokens,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(words: &[(&str, u64)]) -> PretokenCounts {
        let mut c = PretokenCounts::new();
        for (w, n) in words {
            c.add(w.as_bytes(), *n);
        }
        c
    }

    fn show(m: &[(Vec<u8>, Vec<u8>)]) -> Vec<String> {
        m.iter()
            .map(|(a, b)| {
                format!(
                    "{} {}",
                    String::from_utf8_lossy(a),
                    String::from_utf8_lossy(b)
                )
            })
            .collect()
    }

    #[test]
    fn cs336_worked_example() {
        let c = counts(&[("low", 5), ("lower", 2), ("widest", 3), ("newest", 6)]);
        let opts = TrainOptions {
            vocab_size: 256 + 12,
            special_tokens: vec![],
            min_frequency: 1,
            max_token_length: None,
        };
        let t = train(&c, &opts, &mut |_, _| true).unwrap();
        assert_eq!(
            show(&t.merges),
            vec![
                "s t", "e st", "o w", "l ow", "w est", "n e", "ne west", "w i", "wi d", "wid est",
                "low e", "lowe r"
            ]
        );
    }

    /// The §3.4 rule the obvious way: recount every pair at every step.
    fn naive(words: &[(Vec<u8>, u64)], opts: &TrainOptions) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut ws: Vec<(Vec<Vec<u8>>, u64)> = words
            .iter()
            .map(|(w, n)| (w.iter().map(|&b| vec![b]).collect(), *n))
            .collect();
        let max_len = opts.max_token_length.unwrap_or(usize::MAX);
        let mut made = std::collections::HashSet::new();
        let mut merges = Vec::new();
        while 256 + made.len() + opts.special_tokens.len() < opts.vocab_size {
            let mut counts: std::collections::BTreeMap<(Vec<u8>, Vec<u8>), u64> =
                Default::default();
            for (w, n) in &ws {
                for p in w.windows(2) {
                    if p[0].len() + p[1].len() <= max_len {
                        *counts.entry((p[0].clone(), p[1].clone())).or_default() += n;
                    }
                }
            }
            let Some((best, &n)) = counts.iter().max_by(|x, y| x.1.cmp(y.1).then(x.0.cmp(y.0)))
            else {
                break;
            };
            if n < opts.min_frequency {
                break;
            }
            let (l, r) = best.clone();
            let joined = [&l[..], &r[..]].concat();
            for (w, _) in &mut ws {
                let mut i = 0;
                while i + 1 < w.len() {
                    if w[i] == l && w[i + 1] == r {
                        w[i] = joined.clone();
                        w.remove(i + 1);
                    }
                    i += 1;
                }
            }
            made.insert(joined);
            merges.push((l, r));
        }
        merges
    }

    #[test]
    fn equals_naive_on_skewed_counts_with_options() {
        // Counts from 1 to ~10^6 (the heap's floor is lowered several times), few letters (many ties, pairs like
        // `a a` that overlap), and the options that keep pairs out of the heap or stop early.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for round in 0..24 {
            let mut c = PretokenCounts::new();
            let mut words = Vec::new();
            // Odd rounds: counts that are powers of 8, so pair counts often sit exactly on a floor.
            for _ in 0..[150, 40][round % 2] {
                let len = 1 + next(9) as usize;
                let w: Vec<u8> = (0..len).map(|_| b"abcd\xc3"[next(5) as usize]).collect();
                let n = if round % 2 == 0 {
                    1 + next(10) * 10u64.pow(next(6) as u32)
                } else {
                    8u64.pow(next(6) as u32)
                };
                c.add(&w, n);
                words.push((w, n));
            }
            if round % 2 == 1 {
                // The largest pair count is 8^7 exactly, so the floors are the powers of 8.
                c.add(b"yz", 8u64.pow(7));
                words.push((b"yz".to_vec(), 8u64.pow(7)));
            }
            let mut merged: std::collections::HashMap<Vec<u8>, u64> = Default::default();
            for (w, n) in words {
                *merged.entry(w).or_default() += n;
            }
            let words: Vec<(Vec<u8>, u64)> = merged.into_iter().collect();
            let opts = TrainOptions {
                vocab_size: 256 + 80,
                special_tokens: vec![],
                min_frequency: [1, 1, 1000][round % 3],
                max_token_length: [None, Some(3), None, Some(5)][round % 4],
            };
            let fast = train(&c, &opts, &mut |_, _| true).unwrap().merges;
            assert_eq!(fast, naive(&words, &opts), "round {round}");
        }
    }

    #[test]
    fn counts_of_2_pow_31_and_more_are_exact() {
        // (c, d) from one pre-token counted 2^32 times (kept beside the arena), (d, c) from three smaller ones adding
        // up to 2^32: a tie, which (d, c) wins on its bytes. Off by one either way, the order flips.
        let words: Vec<(Vec<u8>, u64)> = vec![
            (b"cd".to_vec(), 1 << 32),
            (b"dc".to_vec(), (1 << 31) - 1),
            (b"dca".to_vec(), (1 << 31) - 1),
            (b"dcb".to_vec(), 2),
        ];
        let mut c = PretokenCounts::new();
        words.iter().for_each(|(w, n)| c.add(w, *n));
        let opts = TrainOptions {
            vocab_size: 256 + 4,
            special_tokens: vec![],
            min_frequency: 1,
            max_token_length: None,
        };
        let fast = train(&c, &opts, &mut |_, _| true).unwrap().merges;
        assert_eq!(fast[0], (b"d".to_vec(), b"c".to_vec()));
        assert_eq!(fast, naive(&words, &opts));
    }

    #[test]
    fn too_small_vocab() {
        let opts = TrainOptions {
            vocab_size: 256,
            special_tokens: vec!["<|endoftext|>".into()],
            min_frequency: 1,
            max_token_length: None,
        };
        assert!(matches!(
            check_options(&opts),
            Err(Error::InvalidArgument(_))
        ));
    }
}
