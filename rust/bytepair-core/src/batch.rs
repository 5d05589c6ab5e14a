//! Model-ready batches: sequences of token ids padded and/or truncated to one length, with an attention mask.
//!
//! Each sequence becomes `[bos] + body + [eos]` (either special optional). With `truncation`, the body is cut so
//! that the whole fits in `max_length`; the added specials are never cut, and since every token is one id, a special
//! token inside the body is either kept whole or dropped whole. Rows are then padded with `pad_id` on the left or
//! the right to the batch's length (`Padding::Longest`) or to `max_length` (`Padding::MaxLength`); the mask is true
//! on the real (non-pad) positions. The result is row-major `(rows, seq_len)`, built in parallel on the current
//! rayon pool.
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::tokenizer::Tokenizer;

/// How rows get their common length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    /// No padding: every sequence must already have the same length (after truncation).
    No,
    /// Pad to the longest sequence of the batch.
    Longest,
    /// Pad to `max_length` (required).
    MaxLength,
}

impl Padding {
    /// `"longest"`, `"max_length"` or `"none"`/`"false"`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for any other name.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "longest" => Ok(Padding::Longest),
            "max_length" => Ok(Padding::MaxLength),
            "none" | "false" | "False" => Ok(Padding::No),
            _ => Err(Error::InvalidArgument(format!(
                "padding must be \"longest\", \"max_length\" or False, got {name:?}"
            ))),
        }
    }
}

/// An end of a sequence: where padding goes, or which end truncation cuts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Left,
    Right,
}

impl Side {
    /// `"left"` or `"right"`; `what` names the argument in the error message.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for any other name.
    pub fn parse(name: &str, what: &str) -> Result<Self> {
        match name {
            "left" => Ok(Side::Left),
            "right" => Ok(Side::Right),
            _ => Err(Error::InvalidArgument(format!(
                "{what} must be \"left\" or \"right\", got {name:?}"
            ))),
        }
    }
}

/// What to do with a batch of sequences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchOptions {
    /// Longest allowed row, added specials included. Required by `Padding::MaxLength` and by truncation.
    pub max_length: Option<usize>,
    pub padding: Padding,
    /// The end truncation cuts (`Right` keeps the beginning), or `None`: a sequence longer than `max_length` is an
    /// error.
    pub truncation: Option<Side>,
    pub padding_side: Side,
    /// The id written at padded positions; required unless `padding` is `Padding::No`.
    pub pad_id: Option<u32>,
    /// Added before each sequence (kept by truncation).
    pub bos: Option<u32>,
    /// Added after each sequence (kept by truncation).
    pub eos: Option<u32>,
}

impl Default for BatchOptions {
    fn default() -> Self {
        Self {
            max_length: None,
            padding: Padding::Longest,
            truncation: None,
            padding_side: Side::Right,
            pad_id: None,
            bos: None,
            eos: None,
        }
    }
}

/// A padded batch: `ids` and `mask` are row-major `(rows, seq_len)`; `mask` is empty when not asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Padded<I, M> {
    pub ids: Vec<I>,
    pub mask: Vec<M>,
    pub rows: usize,
    pub seq_len: usize,
}

impl BatchOptions {
    /// Number of special tokens added to each sequence (0, 1 or 2).
    pub fn num_added(&self) -> usize {
        usize::from(self.bos.is_some()) + usize::from(self.eos.is_some())
    }

    /// Checks that the options are consistent on their own.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`]: `Padding::MaxLength` or truncation without `max_length`, `max_length` smaller
    /// than the number of added special tokens, padding without a `pad_id`.
    pub fn check(&self) -> Result<()> {
        if self.max_length.is_none() {
            if self.padding == Padding::MaxLength {
                return Err(Error::InvalidArgument(
                    "padding=\"max_length\" needs max_length (the length of every row)".into(),
                ));
            }
            if self.truncation.is_some() {
                return Err(Error::InvalidArgument(
                    "truncation needs max_length (the length to cut sequences to)".into(),
                ));
            }
        }
        if let Some(max) = self.max_length {
            if max < self.num_added() {
                return Err(Error::InvalidArgument(format!(
                    "max_length = {max} leaves no room for the {} special tokens added to each sequence \
                     (add_special); max_length must be at least {}",
                    self.num_added(),
                    self.num_added()
                )));
            }
        }
        if self.padding != Padding::No && self.pad_id.is_none() {
            return Err(Error::InvalidArgument(
                "padding needs a pad_id (the id written at padded positions)".into(),
            ));
        }
        Ok(())
    }

    /// [`BatchOptions::check`], and that `bos`, `eos` and `pad_id` are tokens of `tok` (any `pad_id` when
    /// `allow_any_pad_id`).
    ///
    /// # Errors
    /// As [`BatchOptions::check`]; [`Error::InvalidId`] naming an id that is not a token.
    pub fn check_for(&self, tok: &Tokenizer, allow_any_pad_id: bool) -> Result<()> {
        self.check()?;
        for (what, id) in [("bos", self.bos), ("eos", self.eos)] {
            if let Some(id) = id {
                if tok.token_bytes(id).is_none() {
                    return Err(named(what, tok.invalid_id(id.into())));
                }
            }
        }
        if let (Some(id), false) = (self.pad_id, allow_any_pad_id) {
            if tok.token_bytes(id).is_none() {
                let m = tok.invalid_id(id.into()).to_string();
                return Err(Error::InvalidId(format!(
                    "pad_id: {m}; pass a token id of the vocabulary (or allow_any_pad_id=True to pad with \
                     any id, e.g. a padding row of an embedding table beyond n_vocab)"
                )));
            }
        }
        Ok(())
    }

    /// Length of a sequence of `n` ids once the specials are added and truncation applied.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when it is longer than `max_length` and truncation is off (`index` names it).
    pub fn row_length(&self, index: usize, n: usize) -> Result<usize> {
        let total = n + self.num_added();
        match self.max_length {
            Some(max) if total > max => match self.truncation {
                Some(_) => Ok(max),
                None => Err(Error::InvalidArgument(format!(
                    "sequence {index} has {total} tokens ({n} + {} added special tokens), more than \
                     max_length = {max}; pass truncation=\"right\" or \"left\" to cut it",
                    self.num_added()
                ))),
            },
            _ => Ok(total),
        }
    }
}

fn named(what: &str, e: Error) -> Error {
    match e {
        Error::InvalidId(m) => Error::InvalidId(format!("{what}: {m}")),
        e => e,
    }
}

/// Pads and/or truncates `seqs` into one `(rows, seq_len)` array of ids (as `I`), plus the attention mask (as `M`,
/// true = real token) when `with_mask`.
///
/// # Errors
/// As [`BatchOptions::check`] and [`BatchOptions::row_length`]; with `Padding::No`, sequences of different lengths.
pub fn pad<I, M>(seqs: &[Vec<u32>], opts: &BatchOptions, with_mask: bool) -> Result<Padded<I, M>>
where
    I: From<u32> + Copy + Send + Sync,
    M: From<bool> + Copy + Send + Sync,
{
    opts.check()?;
    let lengths = seqs
        .iter()
        .enumerate()
        .map(|(i, s)| opts.row_length(i, s.len()))
        .collect::<Result<Vec<usize>>>()?;
    let seq_len = match opts.padding {
        Padding::MaxLength => opts.max_length.unwrap_or(0),
        Padding::Longest => lengths.iter().copied().max().unwrap_or(0),
        Padding::No => {
            let first = lengths.first().copied().unwrap_or(0);
            if let Some((i, &n)) = lengths.iter().enumerate().find(|(_, &n)| n != first) {
                return Err(Error::InvalidArgument(format!(
                    "padding=False needs sequences of one length, but sequence 0 has {first} tokens and \
                     sequence {i} has {n}; pass padding=\"longest\" or \"max_length\""
                )));
            }
            first
        }
    };
    let rows = seqs.len();
    let too_big = || {
        Error::InvalidArgument(format!(
            "a batch of {rows} x {seq_len} ids does not fit in memory; use a smaller max_length"
        ))
    };
    let total = rows.checked_mul(seq_len).ok_or_else(too_big)?;
    let mut ids = filled(total, I::from(opts.pad_id.unwrap_or(0))).ok_or_else(too_big)?;
    let mut mask = filled(if with_mask { total } else { 0 }, M::from(false)).ok_or_else(too_big)?;
    if seq_len == 0 {
        return Ok(Padded {
            ids,
            mask,
            rows,
            seq_len,
        });
    }
    let fill = |(s, len): (&Vec<u32>, usize), row: &mut [I]| -> usize {
        let start = match opts.padding_side {
            Side::Right => 0,
            Side::Left => seq_len - len,
        };
        let keep = len - opts.num_added();
        let body = match opts.truncation {
            Some(Side::Left) => &s[s.len() - keep..],
            _ => &s[..keep],
        };
        let mut at = start;
        if let Some(b) = opts.bos {
            row[at] = I::from(b);
            at += 1;
        }
        for (dst, &id) in row[at..at + keep].iter_mut().zip(body) {
            *dst = I::from(id);
        }
        at += keep;
        if let Some(e) = opts.eos {
            row[at] = I::from(e);
        }
        start
    };
    let real = M::from(true);
    if with_mask {
        ids.par_chunks_mut(seq_len)
            .zip(mask.par_chunks_mut(seq_len))
            .zip(seqs.par_iter().zip(lengths.par_iter().copied()))
            .for_each(|((row, mrow), item)| {
                let len = item.1;
                let start = fill(item, row);
                mrow[start..start + len].fill(real);
            });
    } else {
        ids.par_chunks_mut(seq_len)
            .zip(seqs.par_iter().zip(lengths.par_iter().copied()))
            .for_each(|(row, item)| {
                fill(item, row);
            });
    }
    Ok(Padded {
        ids,
        mask,
        rows,
        seq_len,
    })
}

/// `vec![value; n]`, or `None` when the allocation fails (instead of aborting the process) or is larger than the
/// machine's memory: with overcommit the reservation succeeds and filling it gets the process killed.
fn filled<T: Copy>(n: usize, value: T) -> Option<Vec<T>> {
    let bytes = (n as u64).checked_mul(std::mem::size_of::<T>() as u64)?;
    // (only asked for large batches: reading /proc/meminfo would cost more than a small batch)
    if bytes > 1 << 30 && physical_memory().is_some_and(|m| bytes > m) {
        return None;
    }
    let mut v = Vec::new();
    v.try_reserve_exact(n).ok()?;
    v.resize(n, value);
    Some(v)
}

/// Total physical memory in bytes (Linux: `MemTotal` of `/proc/meminfo`), if known.
fn physical_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The obvious version: build each row as a Vec, then pad it.
    fn reference(seqs: &[Vec<u32>], o: &BatchOptions) -> (Vec<Vec<u32>>, Vec<Vec<u8>>) {
        let mut rows: Vec<Vec<u32>> = Vec::new();
        for s in seqs {
            let mut body = s.clone();
            if let (Some(max), Some(side)) = (o.max_length, o.truncation) {
                let room = max - o.num_added();
                if body.len() > room {
                    body = match side {
                        Side::Right => body[..room].to_vec(),
                        Side::Left => body[body.len() - room..].to_vec(),
                    };
                }
            }
            let mut row: Vec<u32> = o.bos.into_iter().collect();
            row.extend(body);
            row.extend(o.eos);
            rows.push(row);
        }
        let width = match o.padding {
            Padding::MaxLength => o.max_length.unwrap(),
            _ => rows.iter().map(Vec::len).max().unwrap_or(0),
        };
        let mut ids = Vec::new();
        let mut masks = Vec::new();
        for r in rows {
            let pad = vec![o.pad_id.unwrap_or(0); width - r.len()];
            let zeros = vec![0u8; width - r.len()];
            let ones = vec![1u8; r.len()];
            match o.padding_side {
                Side::Right => {
                    ids.push([r, pad].concat());
                    masks.push([ones, zeros].concat());
                }
                Side::Left => {
                    ids.push([pad, r].concat());
                    masks.push([zeros, ones].concat());
                }
            }
        }
        (ids, masks)
    }

    fn rows_of<T: Copy>(flat: &[T], width: usize, rows: usize) -> Vec<Vec<T>> {
        (0..rows)
            .map(|i| flat[i * width..(i + 1) * width].to_vec())
            .collect()
    }

    fn opts(padding: Padding, max_length: Option<usize>) -> BatchOptions {
        BatchOptions {
            padding,
            max_length,
            pad_id: Some(0),
            ..BatchOptions::default()
        }
    }

    #[test]
    fn right_and_left_padding() {
        let seqs = vec![vec![1, 2, 3], vec![], vec![4]];
        let mut o = opts(Padding::Longest, None);
        o.pad_id = Some(9);
        let p: Padded<u32, u8> = pad(&seqs, &o, true).unwrap();
        assert_eq!((p.rows, p.seq_len), (3, 3));
        assert_eq!(p.ids, vec![1, 2, 3, 9, 9, 9, 4, 9, 9]);
        assert_eq!(p.mask, vec![1, 1, 1, 0, 0, 0, 1, 0, 0]);
        o.padding_side = Side::Left;
        let p: Padded<i64, bool> = pad(&seqs, &o, true).unwrap();
        assert_eq!(p.ids, vec![1, 2, 3, 9, 9, 9, 9, 9, 4]);
        assert_eq!(
            p.mask,
            vec![true, true, true, false, false, false, false, false, true]
        );
    }

    #[test]
    fn truncation_keeps_added_specials() {
        let seqs = vec![vec![1, 2, 3, 4, 5], vec![6]];
        let mut o = opts(Padding::MaxLength, Some(4));
        o.bos = Some(100);
        o.eos = Some(101);
        o.truncation = Some(Side::Right);
        let p: Padded<u32, u8> = pad(&seqs, &o, true).unwrap();
        assert_eq!(p.ids, vec![100, 1, 2, 101, 100, 6, 101, 0]);
        o.truncation = Some(Side::Left);
        o.padding_side = Side::Left;
        let p: Padded<u32, u8> = pad(&seqs, &o, true).unwrap();
        assert_eq!(p.ids, vec![100, 4, 5, 101, 0, 100, 6, 101]);
        assert_eq!(p.mask, vec![1, 1, 1, 1, 0, 1, 1, 1]);
        // max_length == number of specials: only the specials are left
        o.max_length = Some(2);
        let p: Padded<u32, u8> = pad(&seqs, &o, false).unwrap();
        assert_eq!(p.ids, vec![100, 101, 100, 101]);
        assert!(p.mask.is_empty());
    }

    #[test]
    fn errors_are_clear() {
        let seqs = vec![vec![1, 2, 3], vec![4]];
        let err = |o: &BatchOptions| pad::<u32, u8>(&seqs, o, true).unwrap_err().to_string();
        assert!(err(&opts(Padding::MaxLength, None)).contains("needs max_length"));
        let mut o = opts(Padding::Longest, None);
        o.truncation = Some(Side::Right);
        assert!(err(&o).contains("truncation needs max_length"));
        let mut o = opts(Padding::Longest, Some(1));
        o.bos = Some(1);
        o.eos = Some(2);
        assert!(err(&o).contains("max_length must be at least 2"));
        let o = opts(Padding::MaxLength, Some(2));
        assert!(err(&o).contains("sequence 0 has 3 tokens"));
        let o = opts(Padding::No, None);
        assert!(err(&o).contains("padding=False needs sequences of one length"));
        let mut o = opts(Padding::Longest, None);
        o.pad_id = None;
        assert!(err(&o).contains("needs a pad_id"));
        let o = opts(Padding::MaxLength, Some(usize::MAX / 2 + 1));
        assert!(err(&o).contains("does not fit in memory"));
        assert!(Padding::parse("shortest").is_err());
        assert!(Side::parse("middle", "padding_side")
            .unwrap_err()
            .to_string()
            .contains("padding_side"));
    }

    #[test]
    fn no_padding_and_empty_batches() {
        let mut o = opts(Padding::No, Some(2));
        o.truncation = Some(Side::Left);
        o.pad_id = None;
        let p: Padded<u32, u8> = pad(&[vec![1, 2, 3], vec![4, 5]], &o, true).unwrap();
        assert_eq!((p.ids, p.seq_len), (vec![2, 3, 4, 5], 2));
        let p: Padded<u32, u8> = pad(&[], &opts(Padding::Longest, None), true).unwrap();
        assert_eq!((p.rows, p.seq_len), (0, 0));
        let p: Padded<u32, u8> = pad(&[], &opts(Padding::MaxLength, Some(5)), true).unwrap();
        assert_eq!((p.rows, p.seq_len, p.ids.len()), (0, 5, 0));
        let p: Padded<u32, u8> =
            pad(&[vec![], vec![]], &opts(Padding::Longest, None), true).unwrap();
        assert_eq!((p.rows, p.seq_len, p.ids.len()), (2, 0, 0));
    }

    #[test]
    fn matches_reference_on_pseudo_random_batches() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n) as usize
        };
        for _ in 0..2000 {
            let rows = next(6);
            let seqs: Vec<Vec<u32>> = (0..rows)
                .map(|_| (0..next(12)).map(|_| next(1000) as u32).collect())
                .collect();
            let o = BatchOptions {
                max_length: Some(2 + next(10)),
                padding: [Padding::Longest, Padding::MaxLength][next(2)],
                truncation: Some([Side::Left, Side::Right][next(2)]),
                padding_side: [Side::Left, Side::Right][next(2)],
                pad_id: Some(7),
                bos: [None, Some(5000)][next(2)],
                eos: [None, Some(5001)][next(2)],
            };
            let p: Padded<u32, u8> = pad(&seqs, &o, true).unwrap();
            let (ids, masks) = reference(&seqs, &o);
            assert_eq!(rows_of(&p.ids, p.seq_len, p.rows), ids, "{o:?} {seqs:?}");
            assert_eq!(rows_of(&p.mask, p.seq_len, p.rows), masks, "{o:?} {seqs:?}");
        }
    }
}
