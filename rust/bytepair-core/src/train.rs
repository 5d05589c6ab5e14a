//! Byte-level BPE training.
//!
//! Rule (DESIGN §3.4, the Stanford CS336 assignment's): ids 0..255 are the single bytes, merges get ids 256.. in
//! creation order, special tokens follow. Each step merges the pair with the highest count; ties go to the
//! lexicographically greatest `(bytes_left, bytes_right)`. Pairs never cross a pre-token or a special token.
//!
//! Counting pre-tokens is parallel (rayon) and order-independent (sums of 64-bit counts). The merge loop keeps the
//! pair counts up to date incrementally: only the words that contain the merged pair are touched (an index from
//! pair to words), and the best pair comes from a max-heap with lazy invalidation: an entry whose count is stale
//! is re-pushed with the current count when it reaches the top (counts of existing pairs only go down).
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::rc::Rc;

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::error::{Error, Result};
use crate::pretokenize::PreTokenizer;
use crate::special::{Allowed, SpecialTokens};

/// Texts longer than this are cut (at safe boundaries, built-in patterns only) for parallel pre-tokenization.
const CHUNK_BYTES: usize = 1 << 20;

/// Counts of pre-tokens (their UTF-8 bytes), 64-bit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PretokenCounts {
    counts: FxHashMap<Vec<u8>, u64>,
}

impl PretokenCounts {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of distinct pre-tokens.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Total number of pre-tokens counted.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// The table.
    pub fn counts(&self) -> &FxHashMap<Vec<u8>, u64> {
        &self.counts
    }

    /// Adds `count` occurrences of a pre-token.
    pub fn add(&mut self, pretoken: &[u8], count: u64) {
        if let Some(c) = self.counts.get_mut(pretoken) {
            *c += count;
        } else {
            self.counts.insert(pretoken.to_vec(), count);
        }
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &PretokenCounts) {
        for (k, v) in &other.counts {
            self.add(k, *v);
        }
    }

    /// Counts the pre-tokens of documents, in parallel on the current rayon pool. Special tokens split documents
    /// and are not counted.
    ///
    /// # Errors
    /// When a custom pattern's regex engine fails.
    pub fn add_texts<S: AsRef<str> + Sync>(
        &mut self,
        texts: &[S],
        pretok: &PreTokenizer,
        specials: &SpecialTokens,
    ) -> Result<()> {
        let mut chunks: Vec<&str> = Vec::new();
        for text in texts {
            specials.split(text.as_ref(), Allowed::All, |part| {
                if let Ok(segment) = part {
                    chunks.extend(pretok.chunks(segment, CHUNK_BYTES));
                }
                Ok(())
            })?;
        }
        let partial = chunks
            .par_iter()
            .map(|chunk| -> Result<FxHashMap<&[u8], u64>> {
                let mut m: FxHashMap<&[u8], u64> = FxHashMap::default();
                pretok.split(chunk, |p| *m.entry(p.as_bytes()).or_insert(0) += 1)?;
                Ok(m)
            })
            .try_reduce(FxHashMap::default, |mut a, b| {
                if a.len() < b.len() {
                    return Ok(merge_into(b, a));
                }
                a = merge_into(a, b);
                Ok(a)
            })?;
        for (k, v) in partial {
            self.add(k, v);
        }
        Ok(())
    }
}

fn merge_into<'a>(
    mut big: FxHashMap<&'a [u8], u64>,
    small: FxHashMap<&'a [u8], u64>,
) -> FxHashMap<&'a [u8], u64> {
    for (k, v) in small {
        *big.entry(k).or_insert(0) += v;
    }
    big
}

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

#[derive(PartialEq, Eq)]
struct Entry {
    count: u64,
    left: Rc<[u8]>,
    right: Rc<[u8]>,
    pair: (u32, u32),
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        self.count
            .cmp(&other.count)
            .then_with(|| self.left.cmp(&other.left))
            .then_with(|| self.right.cmp(&other.right))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
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

/// Learns merges from pre-token counts.
///
/// `progress(done, total)` is called every few merges with the number of merges made and the number wanted;
/// returning `false` stops training with [`Error::Interrupted`].
///
/// # Errors
/// As [`check_options`], or [`Error::Interrupted`].
pub fn train(
    counts: &PretokenCounts,
    opts: &TrainOptions,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Trained> {
    check_options(opts)?;
    let target_tokens = opts.vocab_size - opts.special_tokens.len();
    let wanted = target_tokens - 256;

    // Token table: id -> bytes, bytes -> id.
    let mut tokens: Vec<Rc<[u8]>> = (0..=255u8).map(|b| Rc::from(vec![b])).collect();
    let mut by_bytes: FxHashMap<Rc<[u8]>, u32> = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), i as u32))
        .collect();

    // Words in a canonical order (sorted by bytes) so everything downstream is deterministic.
    let mut entries: Vec<(&Vec<u8>, u64)> = counts
        .counts
        .iter()
        .filter(|(k, _)| k.len() > 1)
        .map(|(k, v)| (k, *v))
        .collect();
    entries.sort_unstable();
    let mut words: Vec<Vec<u32>> = entries
        .iter()
        .map(|(k, _)| k.iter().map(|&b| b as u32).collect())
        .collect();
    let freq: Vec<u64> = entries.iter().map(|(_, c)| *c).collect();
    drop(entries);

    let mut pair_counts: FxHashMap<(u32, u32), u64> = FxHashMap::default();
    let mut where_: FxHashMap<(u32, u32), Vec<u32>> = FxHashMap::default();
    for (w, word) in words.iter().enumerate() {
        for p in word.windows(2) {
            let pair = (p[0], p[1]);
            *pair_counts.entry(pair).or_insert(0) += freq[w];
            let list = where_.entry(pair).or_default();
            if list.last() != Some(&(w as u32)) {
                list.push(w as u32);
            }
        }
    }
    let mut heap: BinaryHeap<Entry> = pair_counts
        .iter()
        .map(|(&pair, &count)| Entry {
            count,
            left: tokens[pair.0 as usize].clone(),
            right: tokens[pair.1 as usize].clone(),
            pair,
        })
        .collect();

    let mut merges: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut banned: FxHashSet<(u32, u32)> = FxHashSet::default();
    let mut touched: Vec<(u32, u32)> = Vec::new();
    let mut new_word: Vec<u32> = Vec::new();
    while tokens.len() < target_tokens {
        let Some(top) = heap.pop() else { break };
        let current = pair_counts.get(&top.pair).copied().unwrap_or(0);
        if current != top.count {
            if current > 0 {
                heap.push(Entry {
                    count: current,
                    ..top
                });
            }
            continue;
        }
        if current == 0 || current < opts.min_frequency {
            break;
        }
        if banned.contains(&top.pair) {
            continue;
        }
        if let Some(max) = opts.max_token_length {
            if top.left.len() + top.right.len() > max {
                banned.insert(top.pair);
                continue;
            }
        }
        let (a, b) = top.pair;
        let mut joined = top.left.to_vec();
        joined.extend_from_slice(&top.right);
        let c = match by_bytes.get(&joined[..]) {
            Some(&id) => id,
            None => {
                let id = tokens.len() as u32;
                let rc: Rc<[u8]> = Rc::from(joined);
                tokens.push(rc.clone());
                by_bytes.insert(rc, id);
                id
            }
        };
        merges.push((top.left.to_vec(), top.right.to_vec()));

        let mut list = where_.remove(&(a, b)).unwrap_or_default();
        list.sort_unstable();
        list.dedup();
        touched.clear();
        for &w in &list {
            let word = &mut words[w as usize];
            if !word.windows(2).any(|p| p[0] == a && p[1] == b) {
                continue;
            }
            let f = freq[w as usize];
            for p in word.windows(2) {
                let e = pair_counts.get_mut(&(p[0], p[1])).expect("pair counted");
                *e -= f;
            }
            new_word.clear();
            let mut i = 0;
            while i < word.len() {
                if i + 1 < word.len() && word[i] == a && word[i + 1] == b {
                    new_word.push(c);
                    i += 2;
                } else {
                    new_word.push(word[i]);
                    i += 1;
                }
            }
            std::mem::swap(word, &mut new_word);
            for p in word.windows(2) {
                let pair = (p[0], p[1]);
                *pair_counts.entry(pair).or_insert(0) += f;
                if pair.0 == c || pair.1 == c {
                    touched.push(pair);
                    let l = where_.entry(pair).or_default();
                    if l.last() != Some(&w) {
                        l.push(w);
                    }
                }
            }
        }
        pair_counts.remove(&(a, b));
        touched.sort_unstable();
        touched.dedup();
        for &pair in &touched {
            let count = pair_counts.get(&pair).copied().unwrap_or(0);
            if count > 0 {
                heap.push(Entry {
                    count,
                    left: tokens[pair.0 as usize].clone(),
                    right: tokens[pair.1 as usize].clone(),
                    pair,
                });
            }
        }
        if merges.len() % 64 == 0 && !progress(merges.len(), wanted) {
            return Err(Error::Interrupted);
        }
    }
    progress(merges.len(), wanted);

    let mut vocab: Vec<(u32, Vec<u8>)> = tokens
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
