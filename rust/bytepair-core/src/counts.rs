//! Pre-token counts: the table training starts from. Counting is parallel (rayon) and order-independent (sums of
//! 64-bit counts), so counts made in pieces (threads, chunks, files, processes, machines) and added up are exactly
//! the counts of everything at once. A table remembers the pattern and special tokens it was counted with, and
//! tables counted differently refuse to be added.
use std::io::Read;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::error::{Error, Result};
use crate::pretokenize::PreTokenizer;
use crate::reader::ChunkReader;
use crate::special::{Allowed, SpecialTokens};

/// In-memory texts longer than this are cut (at safe points, built-in patterns only) for parallel counting.
const TASK_BYTES: usize = 256 << 10;

const MAGIC: &[u8; 8] = b"BPCOUNTS";
const VERSION: u32 = 1;

/// Counts of pre-tokens (their UTF-8 bytes), 64-bit, with the pattern and special tokens they were counted with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PretokenCounts {
    counts: FxHashMap<Vec<u8>, u64>,
    pattern: String,
    special_tokens: Vec<String>,
}

impl PretokenCounts {
    /// An empty table with no pattern recorded.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty table for texts pre-tokenized with `pattern` (the regex) and split at `special_tokens`.
    pub fn with_config(pattern: &str, special_tokens: Vec<String>) -> Self {
        Self {
            counts: FxHashMap::default(),
            pattern: pattern.to_string(),
            special_tokens,
        }
    }

    /// The pre-tokenization regex the counts were made with.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The special tokens that split the counted texts.
    pub fn special_tokens(&self) -> &[String] {
        &self.special_tokens
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

    /// Checks that `other` was counted the same way (pattern and set of special tokens).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the difference.
    pub fn check_compatible(&self, other: &PretokenCounts) -> Result<()> {
        if self.pattern != other.pattern {
            return Err(Error::InvalidArgument(format!(
                "cannot combine pre-token counts made with different patterns: {:?} and {:?}",
                self.pattern, other.pattern
            )));
        }
        let mut a = self.special_tokens.clone();
        let mut b = other.special_tokens.clone();
        a.sort();
        b.sort();
        if a != b {
            return Err(Error::InvalidArgument(format!(
                "cannot combine pre-token counts made with different special tokens: {:?} and {:?}",
                self.special_tokens, other.special_tokens
            )));
        }
        Ok(())
    }

    /// Adds every count of `other`, which must have been counted the same way.
    ///
    /// # Errors
    /// As [`PretokenCounts::check_compatible`].
    pub fn merge(&mut self, other: &PretokenCounts) -> Result<()> {
        self.check_compatible(other)?;
        self.counts.reserve(other.counts.len() / 2);
        for (k, v) in &other.counts {
            self.add(k, *v);
        }
        Ok(())
    }

    /// The `n` most frequent pre-tokens, most frequent first (ties by bytes, ascending).
    pub fn most_common(&self, n: usize) -> Vec<(&[u8], u64)> {
        let mut all: Vec<(&[u8], u64)> = self.counts.iter().map(|(k, v)| (&k[..], *v)).collect();
        let order = |a: &(&[u8], u64), b: &(&[u8], u64)| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0));
        if n < all.len() {
            all.select_nth_unstable_by(n, order);
            all.truncate(n);
        }
        all.sort_unstable_by(order);
        all
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
        let mut tasks: Vec<&str> = Vec::new();
        for text in texts {
            specials.split(text.as_ref(), Allowed::All, |part| {
                if let Ok(segment) = part {
                    tasks.extend(pretok.chunks(segment, TASK_BYTES));
                }
                Ok(())
            })?;
        }
        let partial = tasks
            .par_iter()
            .try_fold(FxHashMap::default, |mut m: FxHashMap<&[u8], u64>, task| {
                pretok.split(task, |p| *m.entry(p.as_bytes()).or_insert(0) += 1)?;
                Ok(m)
            })
            .try_reduce(FxHashMap::default, |a, b| Ok(merge_maps(a, b)))?;
        self.counts.reserve(partial.len() / 4);
        for (k, v) in partial {
            self.add(k, v);
        }
        Ok(())
    }

    /// Counts the pre-tokens of a stream (one document; special tokens split it), read chunk by chunk so memory
    /// does not grow with its size. `progress(bytes_read)` is called after each chunk; returning false stops with
    /// [`Error::Interrupted`].
    ///
    /// # Errors
    /// As [`ChunkReader::next_chunk`] and [`PretokenCounts::add_texts`], or [`Error::Interrupted`].
    pub fn add_reader<R: Read>(
        &mut self,
        reader: &mut ChunkReader<'_, R>,
        pretok: &PreTokenizer,
        specials: &SpecialTokens,
        progress: &mut dyn FnMut(u64) -> bool,
    ) -> Result<()> {
        while let Some(chunk) = reader.next_chunk()? {
            self.add_texts(std::slice::from_ref(&chunk), pretok, specials)?;
            reader.recycle(chunk);
            if !progress(reader.bytes_read()) {
                return Err(Error::Interrupted);
            }
        }
        Ok(())
    }

    /// Serializes the table (pattern, special tokens, then the entries sorted by bytes: equal tables give equal
    /// bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(32 + self.counts.len() * 16);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        put_bytes(&mut out, self.pattern.as_bytes());
        out.extend_from_slice(&(self.special_tokens.len() as u32).to_le_bytes());
        for t in &self.special_tokens {
            put_bytes(&mut out, t.as_bytes());
        }
        let mut entries: Vec<(&Vec<u8>, &u64)> = self.counts.iter().collect();
        entries.sort_unstable();
        out.extend_from_slice(&(entries.len() as u64).to_le_bytes());
        for (k, v) in entries {
            put_bytes(&mut out, k);
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    /// Reads what [`PretokenCounts::to_bytes`] wrote.
    ///
    /// # Errors
    /// [`Error::Format`] for data that is not a counts table, truncated, corrupt or of another version.
    pub fn from_bytes(data: &[u8]) -> Result<Self> {
        let mut r = Cursor { data, pos: 0 };
        if r.take(8)? != MAGIC {
            return Err(Error::Format(
                "not a bytepair pre-token counts file (bad magic)".to_string(),
            ));
        }
        let version = r.u32()?;
        if version != VERSION {
            return Err(Error::Format(format!(
                "pre-token counts format version {version} is not supported (this bytepair reads version {VERSION})"
            )));
        }
        let pattern = r.string()?;
        let n = r.u32()? as usize;
        let mut special_tokens = Vec::with_capacity(n.min(1 << 16));
        for _ in 0..n {
            special_tokens.push(r.string()?);
        }
        let n = r.u64()? as usize;
        let mut counts = FxHashMap::default();
        counts.reserve(n.min(data.len() / 12));
        for _ in 0..n {
            let k = r.bytes()?.to_vec();
            let v = r.u64()?;
            if counts.insert(k, v).is_some() {
                return Err(Error::Format(
                    "corrupt pre-token counts: a pre-token appears twice".to_string(),
                ));
            }
        }
        if r.pos != data.len() {
            return Err(Error::Format(
                "corrupt pre-token counts: trailing data".to_string(),
            ));
        }
        Ok(Self {
            counts,
            pattern,
            special_tokens,
        })
    }
}

fn merge_maps<'a>(
    a: FxHashMap<&'a [u8], u64>,
    b: FxHashMap<&'a [u8], u64>,
) -> FxHashMap<&'a [u8], u64> {
    let (mut big, small) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    for (k, v) in small {
        *big.entry(k).or_insert(0) += v;
    }
    big
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.data.len() - self.pos < n {
            return Err(Error::Format("truncated pre-token counts data".to_string()));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    fn string(&mut self) -> Result<String> {
        String::from_utf8(self.bytes()?.to_vec()).map_err(|_| {
            Error::Format("corrupt pre-token counts: a string is not UTF-8".to_string())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let mut c = PretokenCounts::with_config("x+", vec!["<s>".into()]);
        c.add(b"ab", 3);
        c.add(b"\xff", 1 << 40);
        let b = c.to_bytes();
        assert_eq!(PretokenCounts::from_bytes(&b).unwrap(), c);
        for n in 0..b.len() {
            assert!(matches!(
                PretokenCounts::from_bytes(&b[..n]),
                Err(Error::Format(_))
            ));
        }
        assert_eq!(c.most_common(1), vec![(&b"\xff"[..], 1u64 << 40)]);
    }

    #[test]
    fn merge_checks_the_config() {
        let mut a = PretokenCounts::with_config("x+", vec!["<s>".into(), "<t>".into()]);
        let b = PretokenCounts::with_config("x+", vec!["<t>".into(), "<s>".into()]);
        assert!(a.merge(&b).is_ok());
        let c = PretokenCounts::with_config("y+", vec![]);
        assert!(a.merge(&c).is_err());
    }
}
