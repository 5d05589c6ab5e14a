//! Hand-written pre-tokenizers for the built-in patterns (gpt2, cl100k, o200k).
//!
//! Each function returns the end of the piece that the corresponding regex (tiktoken's, see
//! [`crate::pretokenize`]) matches at a position, trying the alternatives in the regex's order and reproducing
//! its backtracking (greedy `?`/`*`/`+`), possessive quantifiers, `$` (end of text) and the `\s+(?!\S)` look-ahead.
//! Character classes (`\p{L}`, `\p{N}`, `\s`, the o200k letter-case classes) come from `regex-syntax`, the same
//! Unicode tables the regex engine uses, so the pieces are identical; differential tests against the regex check it.
use std::sync::OnceLock;

use regex_syntax::hir::{Class, HirKind};

const L: u8 = 1; // \p{L}
const N: u8 = 2; // \p{N}
const WS: u8 = 4; // \s (White_Space)
const UP: u8 = 8; // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] (o200k)
const LO: u8 = 16; // [\p{Ll}\p{Lm}\p{Lo}\p{M}] (o200k)

/// Which built-in pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// GPT-2 / r50k.
    Gpt2,
    /// cl100k_base.
    Cl100k,
    /// o200k_base.
    O200k,
}

struct Table {
    ascii: [u8; 128],
    index: Vec<u16>,
    blocks: Vec<[u8; 256]>,
}

fn class_ranges(pattern: &str) -> Vec<(u32, u32)> {
    let hir = regex_syntax::Parser::new()
        .parse(pattern)
        .expect("built-in class pattern parses");
    match hir.kind() {
        HirKind::Class(Class::Unicode(c)) => c
            .ranges()
            .iter()
            .map(|r| (r.start() as u32, r.end() as u32))
            .collect(),
        _ => unreachable!("built-in class pattern is a Unicode class"),
    }
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut flat = vec![0u8; 0x110000];
        for (pattern, flag) in [
            (r"\p{L}", L),
            (r"\p{N}", N),
            (r"\s", WS),
            (r"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]", UP),
            (r"[\p{Ll}\p{Lm}\p{Lo}\p{M}]", LO),
        ] {
            for (a, b) in class_ranges(pattern) {
                for f in &mut flat[a as usize..=b as usize] {
                    *f |= flag;
                }
            }
        }
        let mut ascii = [0u8; 128];
        ascii.copy_from_slice(&flat[..128]);
        let mut index = Vec::with_capacity(0x110000 / 256);
        let mut blocks: Vec<[u8; 256]> = Vec::new();
        let mut seen: std::collections::HashMap<[u8; 256], u16> = std::collections::HashMap::new();
        for chunk in flat.chunks(256) {
            let mut block = [0u8; 256];
            block.copy_from_slice(chunk);
            let id = *seen.entry(block).or_insert_with(|| {
                blocks.push(block);
                (blocks.len() - 1) as u16
            });
            index.push(id);
        }
        Table {
            ascii,
            index,
            blocks,
        }
    })
}

/// Class flags of a code point.
#[inline(always)]
fn flags(t: &Table, c: u32) -> u8 {
    if c < 128 {
        t.ascii[c as usize]
    } else {
        t.blocks[t.index[(c >> 8) as usize] as usize][(c & 0xff) as usize]
    }
}

/// Decodes the char starting at `i` of valid UTF-8: (code point, length).
#[inline(always)]
fn decode(b: &[u8], i: usize) -> (u32, usize) {
    let b0 = b[i];
    if b0 < 0x80 {
        (b0 as u32, 1)
    } else if b0 < 0xE0 {
        ((((b0 & 0x1F) as u32) << 6) | (b[i + 1] & 0x3F) as u32, 2)
    } else if b0 < 0xF0 {
        (
            (((b0 & 0x0F) as u32) << 12)
                | (((b[i + 1] & 0x3F) as u32) << 6)
                | (b[i + 2] & 0x3F) as u32,
            3,
        )
    } else {
        (
            (((b0 & 0x07) as u32) << 18)
                | (((b[i + 1] & 0x3F) as u32) << 12)
                | (((b[i + 2] & 0x3F) as u32) << 6)
                | (b[i + 3] & 0x3F) as u32,
            4,
        )
    }
}

const HI: u64 = 0x8080_8080_8080_8080;

/// The byte `x` in all eight lanes.
const fn lanes(x: u8) -> u64 {
    x as u64 * 0x0101_0101_0101_0101
}

/// High bit set in each byte of `v` that is ASCII and in `lo..=hi` (SWAR; no carries cross bytes).
#[inline(always)]
fn in_range(v: u64, lo: u8, hi: u8) -> u64 {
    let low7 = v & !HI;
    let ge_lo = low7 + lanes(0x80 - lo);
    let gt_hi = low7 + lanes(0x7f - hi);
    ge_lo & !gt_hi & !v & HI
}

/// End of the run of bytes from `i` for which `mark` sets the high bit (eight bytes at a time, then one by one
/// near the end of the text; `one` is the same test on a byte).
#[inline(always)]
fn swar_run(b: &[u8], mut i: usize, mark: impl Fn(u64) -> u64, one: impl Fn(u8) -> bool) -> usize {
    while let Some(chunk) = b.get(i..i + 8) {
        let v = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        let stop = !mark(v) & HI;
        if stop != 0 {
            return i + (stop.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < b.len() && one(b[i]) {
        i += 1;
    }
    i
}

/// End of the run of ASCII letters from `i`.
#[inline(always)]
fn ascii_letters(b: &[u8], i: usize) -> usize {
    swar_run(
        b,
        i,
        |v| in_range(v | lanes(0x20), b'a', b'z'),
        |x| x.is_ascii_alphabetic(),
    )
}

/// End of the run of ASCII uppercase letters from `i`.
#[inline(always)]
fn ascii_upper(b: &[u8], i: usize) -> usize {
    swar_run(
        b,
        i,
        |v| in_range(v, b'A', b'Z'),
        |x| x.is_ascii_uppercase(),
    )
}

/// End of the run of ASCII lowercase letters from `i`.
#[inline(always)]
fn ascii_lower(b: &[u8], i: usize) -> usize {
    swar_run(
        b,
        i,
        |v| in_range(v, b'a', b'z'),
        |x| x.is_ascii_lowercase(),
    )
}

/// End of `[A-Z]*[a-z]*` from `i` (one eight-byte load for the usual short word).
#[inline(always)]
fn ascii_upper_lower(b: &[u8], i: usize) -> usize {
    if let Some(chunk) = b.get(i..i + 8) {
        let v = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        let stop_up = !in_range(v, b'A', b'Z') & HI;
        if stop_up != 0 {
            let k = stop_up.trailing_zeros() / 8; // first byte that is not uppercase
            let before = (1u64 << (8 * k)) - 1;
            let stop_lo = !(in_range(v, b'a', b'z') | before) & HI;
            if stop_lo != 0 {
                return i + (stop_lo.trailing_zeros() / 8) as usize;
            }
            return ascii_lower(b, i + 8);
        }
    }
    ascii_lower(b, ascii_upper(b, i))
}

/// A scanner over one text.
pub struct Scanner<'t> {
    b: &'t [u8],
    t: &'static Table,
}

const CR: u32 = '\r' as u32;
const LF: u32 = '\n' as u32;
const SPACE: u32 = ' ' as u32;
const APOS: u32 = '\'' as u32;

impl<'t> Scanner<'t> {
    /// A scanner over `text`.
    pub fn new(text: &'t str) -> Self {
        Self {
            b: text.as_bytes(),
            t: table(),
        }
    }

    #[inline(always)]
    fn at(&self, i: usize) -> (u32, usize, u8) {
        let (c, n) = decode(self.b, i);
        (c, n, flags(self.t, c))
    }

    /// End of the run of chars whose flags intersect `mask`, from `i`.
    #[inline(always)]
    fn run(&self, mut i: usize, mask: u8) -> usize {
        let b = self.b;
        while i < b.len() {
            let x = b[i];
            if x < 0x80 {
                if self.t.ascii[x as usize] & mask == 0 {
                    break;
                }
                i += 1;
            } else {
                let (_, n, f) = self.at(i);
                if f & mask == 0 {
                    break;
                }
                i += n;
            }
        }
        i
    }

    /// End of the run of "other" chars `[^\s\p{L}\p{N}]` from `i`.
    #[inline(always)]
    fn run_other(&self, mut i: usize) -> usize {
        let b = self.b;
        while i < b.len() {
            let x = b[i];
            if x < 0x80 {
                if self.t.ascii[x as usize] & (L | N | WS) != 0 {
                    break;
                }
                i += 1;
            } else {
                let (_, n, f) = self.at(i);
                if f & (L | N | WS) != 0 {
                    break;
                }
                i += n;
            }
        }
        i
    }

    /// End of a run of the given ASCII bytes.
    #[inline(always)]
    fn run_bytes(&self, mut i: usize, set: &[u8]) -> usize {
        while i < self.b.len() && set.contains(&self.b[i]) {
            i += 1;
        }
        i
    }

    #[inline(always)]
    fn is_other(&self, i: usize) -> bool {
        i < self.b.len() && self.at(i).2 & (L | N | WS) == 0
    }

    /// Start of the char before `i` (i > 0).
    #[inline(always)]
    fn prev_start(&self, mut i: usize) -> usize {
        i -= 1;
        while self.b[i] & 0xC0 == 0x80 {
            i -= 1;
        }
        i
    }

    /// Byte length of a contraction `'s|'d|'m|'t|'ll|'ve|'re` at `i` (which holds `'`), 0 if none.
    /// `ci`: case-insensitive (Unicode simple case folding: `s` also matches `S` and U+017F `ſ`).
    #[inline]
    fn contraction(&self, i: usize, ci: bool, order_o200k: bool) -> usize {
        let b = self.b;
        if i >= b.len() || b[i] != b'\'' {
            return 0;
        }
        let fold = |x: u8| if ci { x.to_ascii_lowercase() } else { x };
        let c1 = b.get(i + 1).copied().map(fold);
        let c2 = b.get(i + 2).copied().map(fold);
        let long_s = ci && b.get(i + 1) == Some(&0xC5) && b.get(i + 2) == Some(&0xBF);
        // Alternation order differs (cl100k/gpt2: [sdmt]|ll|ve|re; o200k: s|t|re|ve|m|ll|d) but no two
        // alternatives can both match at one position, so the result is the same.
        let _ = order_o200k;
        if long_s {
            return 3;
        }
        match (c1, c2) {
            (Some(b's' | b'd' | b'm' | b't'), _) => 2,
            (Some(b'l'), Some(b'l')) | (Some(b'v'), Some(b'e')) | (Some(b'r'), Some(b'e')) => 3,
            _ => 0,
        }
    }

    /// Whitespace tail shared by the patterns: the run `[i, w)` of `\s`, with `w < len`: `\s+(?!\S)` gives all but
    /// the last char when the run has two chars or more, else `None`.
    #[inline(always)]
    fn ws_all_but_last(&self, i: usize, w: usize) -> Option<usize> {
        let last = self.prev_start(w);
        (last > i).then_some(last)
    }

    /// Position after the last `\r` or `\n` in `[i, w)`, if any.
    #[inline(always)]
    fn after_last_crlf(&self, i: usize, w: usize) -> Option<usize> {
        self.b[i..w]
            .iter()
            .rposition(|&x| x == b'\r' || x == b'\n')
            .map(|p| i + p + 1)
    }

    /// `\p{N}{1,3}` after the first digit (which ends at `e`): up to two more digits.
    #[inline(always)]
    fn up_to_three_digits(&self, mut e: usize) -> usize {
        for _ in 0..2 {
            if e < self.b.len() {
                let (_, m, g) = self.at(e);
                if g & N != 0 {
                    e += m;
                    continue;
                }
            }
            break;
        }
        e
    }

    /// ` ?[^\s\p{L}\p{N}]+[tail]*` at `i` (char `c` with flags `f`): the end, or `None` when it does not match.
    #[inline(always)]
    fn other_run(&self, i: usize, c: u32, f: u8, tail: &[u8]) -> Option<usize> {
        let start = if c == SPACE && self.is_other(i + 1) {
            i + 1
        } else if f & (L | N | WS) == 0 {
            i
        } else {
            return None;
        };
        let e = self.run_other(start);
        Some(self.run_bytes(e, tail))
    }

    /// Start of the letters of a word piece at `i` when the text there is ASCII: `i` for a letter, `i + 1` for a
    /// single prefix char `[^\r\n\p{L}\p{N}]` (not `'`, which contractions claim first) before a letter.
    #[inline(always)]
    fn ascii_word_start(&self, i: usize) -> Option<usize> {
        let b = self.b;
        let x = b[i];
        if x.is_ascii_alphabetic() {
            return Some(i);
        }
        let y = *b.get(i + 1)?;
        let prefix =
            x < 0x80 && x != b'\r' && x != b'\n' && x != b'\'' && !x.is_ascii_alphanumeric();
        (prefix && y.is_ascii_alphabetic()).then_some(i + 1)
    }

    /// End of a run of at most three ASCII digits at `i`, when the char after it cannot extend the piece.
    #[inline(always)]
    fn ascii_digits(&self, i: usize) -> Option<usize> {
        let b = self.b;
        let mut e = i;
        while e < b.len() && e < i + 3 && b[e].is_ascii_digit() {
            e += 1;
        }
        // a non-ASCII char after fewer than three digits might be a digit (\p{N})
        (e == i + 3 || e == b.len() || b[e] < 0x80).then_some(e)
    }

    /// The cl100k piece at `i` for the common all-ASCII shapes (` ?` + letters, digits); `None` sends the position
    /// to the general scanner. A run ending at a non-ASCII byte is never decided here (it may continue `\p{L}`).
    #[inline(always)]
    fn ascii_cl100k(&self, i: usize) -> Option<usize> {
        let b = self.b;
        let x = b[i];
        if x.is_ascii_digit() {
            return self.ascii_digits(i);
        }
        let Some(j) = self.ascii_word_start(i) else {
            return self.ascii_other_run(i, b"\r\n");
        };
        let e = ascii_letters(b, j + 1);
        (e == b.len() || b[e] < 0x80).then_some(e)
    }

    /// ` ?[^\s\p{L}\p{N}]+` then `[tail]*` at `i` when the run is ASCII and ends at an ASCII char (or the end):
    /// the end of the piece, else `None`. Called after the word alternatives failed at `i`; a `'` at the start
    /// is left to the general scanner (cl100k tries contractions first).
    #[inline(always)]
    fn ascii_other_run(&self, i: usize, tail: &[u8]) -> Option<usize> {
        let b = self.b;
        let other = |x: u8| x < 0x80 && self.t.ascii[x as usize] & (L | N | WS) == 0;
        let start = if b[i] == b' ' { i + 1 } else { i };
        if start >= b.len() || !other(b[start]) || b[start] == b'\'' {
            return None;
        }
        // (a letter right after a lone first char would make it a word's prefix)
        if start == i && b.get(i + 1).is_some_and(|y| y.is_ascii_alphabetic()) {
            return None;
        }
        let mut e = start + 1;
        while e < b.len() && other(b[e]) {
            e += 1;
        }
        if e < b.len() && b[e] >= 0x80 {
            return None; // the run may go on with a non-ASCII symbol
        }
        Some(self.run_bytes(e, tail))
    }

    /// The o200k whitespace piece at `i` when `i` starts a run of ASCII whitespace that ends at an ASCII char or
    /// the end, and the char after `i` is ASCII and starts no word or symbol run of its own (`None` otherwise, for
    /// the general scanner). Called after the word and symbol alternatives failed at `i`. The run ends after its
    /// last `\r` or `\n` (`\s*[\r\n]+`), else at the end of the text (`\s+(?!\S)`), else before its last char
    /// when it has two or more (`\s+(?!\S)`), else after its one char (`\s+`). (cl100k tries `\s++$` before its
    /// `\r\n` rule; there the general scanner was as fast.)
    #[inline(always)]
    fn ascii_space_o200k(&self, i: usize) -> Option<usize> {
        let b = self.b;
        let x = b[i];
        if x >= 0x80 || self.t.ascii[x as usize] & WS == 0 {
            return None;
        }
        if let Some(&y) = b.get(i + 1) {
            let fy = if y < 0x80 {
                self.t.ascii[y as usize]
            } else {
                return None;
            };
            // a letter after a space or tab makes a word, a symbol after a space a symbol run
            if (fy & L != 0 && x != b'\r' && x != b'\n') || (x == b' ' && fy & (L | N | WS) == 0) {
                return None;
            }
        }
        let mut w = i + 1;
        while w < b.len() && b[w] < 0x80 && self.t.ascii[b[w] as usize] & WS != 0 {
            w += 1;
        }
        if w < b.len() && b[w] >= 0x80 {
            return None; // the run may go on with a non-ASCII space
        }
        if let Some(e) = self.after_last_crlf(i, w) {
            return Some(e);
        }
        if w == b.len() {
            return Some(w);
        }
        Some(if w - i >= 2 { w - 1 } else { i + 1 })
    }

    /// The o200k piece at `i` for the common all-ASCII shapes (` ?[A-Z]*[a-z]+`, ` ?[A-Z]+`, digits); `None` sends
    /// the position to the general scanner. For ASCII letters `[\p{Lu}..]` is `[A-Z]` and `[\p{Ll}..]` is `[a-z]`,
    /// so both word alternatives match an uppercase run then a lowercase run; a contraction may follow.
    #[inline(always)]
    fn ascii_o200k(&self, i: usize) -> Option<usize> {
        let b = self.b;
        let x = b[i];
        if x.is_ascii_digit() {
            return self.ascii_digits(i);
        }
        let Some(j) = self.ascii_word_start(i) else {
            return self
                .ascii_other_run(i, b"\r\n/")
                .or_else(|| self.ascii_space_o200k(i));
        };
        let e = ascii_upper_lower(b, j);
        if e == b.len() {
            return Some(e);
        }
        match b[e] {
            b'\'' => Some(e + self.contraction(e, true, true)),
            y if y < 0x80 => Some(e),
            _ => None,
        }
    }

    /// End of the cl100k piece starting at `i`.
    #[inline]
    pub fn next_cl100k(&self, i: usize) -> usize {
        if let Some(e) = self.ascii_cl100k(i) {
            return e;
        }
        let len = self.b.len();
        let (c, n, f) = self.at(i);
        // '(?i:[sdmt]|ll|ve|re)
        if c == APOS {
            let k = self.contraction(i, true, false);
            if k > 0 {
                return i + k;
            }
        }
        // [^\r\n\p{L}\p{N}]?+\p{L}++
        if f & L != 0 {
            return self.run(i + n, L);
        }
        if c != CR && c != LF && f & N == 0 && i + n < len && self.at(i + n).2 & L != 0 {
            return self.run(i + n, L);
        }
        // \p{N}{1,3}+
        if f & N != 0 {
            return self.up_to_three_digits(i + n);
        }
        // ' ?[^\s\p{L}\p{N}]++[\r\n]*+'
        if let Some(e) = self.other_run(i, c, f, b"\r\n") {
            return e;
        }
        // c is whitespace
        let w = self.run(i, WS);
        if w == len {
            return len; // \s++$
        }
        if let Some(e) = self.after_last_crlf(i, w) {
            return e; // \s*[\r\n]
        }
        if let Some(e) = self.ws_all_but_last(i, w) {
            return e; // \s+(?!\S)
        }
        i + n // \s
    }

    /// End of the GPT-2 (r50k) piece starting at `i`.
    #[inline]
    pub fn next_gpt2(&self, i: usize) -> usize {
        let len = self.b.len();
        let (c, n, f) = self.at(i);
        if c == APOS {
            let k = self.contraction(i, false, false);
            if k > 0 {
                return i + k;
            }
        }
        let next = if c == SPACE && i + 1 < len {
            self.at(i + 1).2
        } else {
            0
        };
        // ' ?\p{L}++', ' ?\p{N}++', ' ?[^\s\p{L}\p{N}]++'
        if c == SPACE && next & L != 0 {
            return self.run(i + 1, L);
        }
        if f & L != 0 {
            return self.run(i + n, L);
        }
        if c == SPACE && next & N != 0 {
            return self.run(i + 1, N);
        }
        if f & N != 0 {
            return self.run(i + n, N);
        }
        if c == SPACE && i + 1 < len && next & (L | N | WS) == 0 {
            return self.run_other(i + 1);
        }
        if f & (L | N | WS) == 0 {
            return self.run_other(i + n);
        }
        let w = self.run(i, WS);
        if w == len {
            return len; // \s++$
        }
        if let Some(e) = self.ws_all_but_last(i, w) {
            return e; // \s+(?!\S)
        }
        i + n // \s
    }

    /// End of the o200k piece starting at `i`.
    #[inline]
    pub fn next_o200k(&self, i: usize) -> usize {
        if let Some(e) = self.ascii_o200k(i) {
            return e;
        }
        let len = self.b.len();
        let (c, n, f) = self.at(i);
        // [^\r\n\p{L}\p{N}]? : taken first when possible, then (backtracking) not taken.
        let p_class = c != CR && c != LF && f & (L | N) == 0;
        let starts: [Option<usize>; 2] = if p_class {
            [Some(i + n), if f & (UP | LO) != 0 { Some(i) } else { None }]
        } else {
            [Some(i), None]
        };
        // Alternative 1: P? [UP]* [LO]+ C?
        for j in starts.into_iter().flatten() {
            if j >= len {
                continue;
            }
            let k = self.run(j, UP);
            // the largest m in [j, k] with LO at m (U* gives back chars until [LO]+ can match)
            let mut m = k;
            loop {
                if m < len && self.at(m).2 & LO != 0 {
                    let e = self.run(m, LO);
                    return e + self.contraction(e, true, true);
                }
                if m == j {
                    break;
                }
                m = self.prev_start(m);
            }
        }
        // Alternative 2: P? [UP]+ [LO]* C?
        for j in starts.into_iter().flatten() {
            if j >= len {
                continue;
            }
            let k = self.run(j, UP);
            if k > j {
                let e = self.run(k, LO);
                return e + self.contraction(e, true, true);
            }
        }
        // \p{N}{1,3}
        if f & N != 0 {
            return self.up_to_three_digits(i + n);
        }
        // ' ?[^\s\p{L}\p{N}]+[\r\n/]*'
        if let Some(e) = self.other_run(i, c, f, b"\r\n/") {
            return e;
        }
        let w = self.run(i, WS);
        if let Some(e) = self.after_last_crlf(i, w) {
            return e; // \s*[\r\n]+
        }
        if w == len {
            return len; // \s+(?!\S) at the end
        }
        if let Some(e) = self.ws_all_but_last(i, w) {
            return e; // \s+(?!\S)
        }
        w // \s+
    }
}

/// Calls `f` on each piece of `text` for a built-in pattern.
#[inline]
pub fn split<'t>(kind: Kind, text: &'t str, mut f: impl FnMut(&'t str)) {
    let s = Scanner::new(text);
    let len = text.len();
    let mut i = 0;
    match kind {
        Kind::Cl100k => {
            while i < len {
                let e = s.next_cl100k(i);
                f(&text[i..e]);
                i = e;
            }
        }
        Kind::O200k => {
            while i < len {
                let e = s.next_o200k(i);
                f(&text[i..e]);
                i = e;
            }
        }
        Kind::Gpt2 => {
            while i < len {
                let e = s.next_gpt2(i);
                f(&text[i..e]);
                i = e;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swar_runs_equal_byte_loops() {
        let mut seed = 7u64;
        for _ in 0..20000 {
            let len = (seed % 24) as usize;
            let b: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let x = (seed >> 33) as u8;
                    // mostly letters, with the bytes next to the ranges and non-ASCII
                    b"aAzZ@[`{ \x80\xc3\xe0qQmM"[(x as usize) % 16]
                })
                .collect();
            for i in 0..=len {
                let byte_run = |f: fn(&u8) -> bool| i + b[i..].iter().take_while(|x| f(x)).count();
                assert_eq!(
                    ascii_letters(&b, i),
                    byte_run(u8::is_ascii_alphabetic),
                    "{b:?} {i}"
                );
                assert_eq!(
                    ascii_upper(&b, i),
                    byte_run(u8::is_ascii_uppercase),
                    "{b:?} {i}"
                );
                assert_eq!(
                    ascii_lower(&b, i),
                    byte_run(u8::is_ascii_lowercase),
                    "{b:?} {i}"
                );
            }
        }
    }
    use crate::pretokenize::{CL100K_PATTERN, GPT2_PATTERN, O200K_PATTERN};

    const POOL: &[char] = &[
        ' ', ' ', ' ', '\t', '\n', '\n', '\r', '\u{a0}', '\u{3000}', '\u{2028}', '\u{85}', '\u{b}',
        '\u{c}', 'a', 'b', 'A', 'Z', 's', 'S', 't', 'l', 'L', 'v', 'e', 'E', 'r', 'd', 'm', 'M',
        '\u{17f}', 'K', '\u{1c5}', '\u{2b0}', '中', '\u{301}', '\u{903}', 'é', 'Ω', 'ω', '1', '2',
        '٣', '½', 'Ⅻ', '\'', '\'', '/', '.', '!', '"', '{', '😀', '\u{200d}', '\0', '-', '_', 'ß',
        'ǈ', 'ﬁ',
    ];

    const WS_POOL: &[char] = &[
        ' ', ' ', '\t', '\n', '\r', '\u{c}', 'a', 'A', '1', '.', '\'', '/', 'é', '\u{a0}', '\u{85}',
    ];

    fn regex_pieces(re: &fancy_regex::Regex, text: &str) -> Vec<String> {
        re.find_iter(text)
            .map(|m| m.unwrap().as_str().to_string())
            .collect()
    }

    fn scan_pieces(kind: Kind, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        split(kind, text, |p| out.push(p.to_string()));
        out
    }

    #[test]
    fn differential_random_strings() {
        let mut seed = 0x9E3779B97F4A7C15u64;
        let mut rnd = |m: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % m as u64) as usize
        };
        for (kind, pattern) in [
            (Kind::Cl100k, CL100K_PATTERN),
            (Kind::O200k, O200K_PATTERN),
            (Kind::Gpt2, GPT2_PATTERN),
        ] {
            let re = fancy_regex::Regex::new(pattern).unwrap();
            // all the chars, then mostly ASCII whitespace (the scanners' space runs, and their ends)
            for pool in [POOL, WS_POOL] {
                for _ in 0..20000 {
                    let len = 1 + rnd(12);
                    let text: String = (0..len).map(|_| pool[rnd(pool.len())]).collect();
                    assert_eq!(
                        scan_pieces(kind, &text),
                        regex_pieces(&re, &text),
                        "{kind:?} {text:?}"
                    );
                }
            }
        }
    }
}
