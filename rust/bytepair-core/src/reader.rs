//! Streaming text input: a file (or any reader) read in chunks of about a target size that never split a UTF-8
//! character, never split a special token, and are cut only where pre-tokenization is unaffected, so counting the
//! chunks one by one gives exactly the counts of the whole text.
//!
//! Where a chunk may end (the text so far starts at a boundary of both kinds):
//! - right after a special token (a document boundary), or
//! - at a safe point of a built-in pattern ([`PreTokenizer::is_safe_cut`]) that is not inside a special token.
//!
//! Special tokens are matched leftmost-longest from a boundary, so a match found in the buffered text is the match
//! of the whole stream when it starts at least `max_special_len` bytes before the end of the buffer; only positions
//! up to that limit are considered. Custom patterns are cut at special tokens only. When no cut exists (a 20 MB
//! word, a custom pattern without special tokens), the buffer grows geometrically until one is found or the input
//! ends: memory follows the longest uncuttable stretch, never the file size otherwise.
use std::io::Read;

use crate::error::{Error, Result};
use crate::pretokenize::PreTokenizer;
use crate::special::SpecialTokens;

/// What to do with bytes that are not valid UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Utf8Errors {
    /// Stop with [`Error::Utf8`] naming the source and the absolute byte offset of the first bad byte.
    Strict,
    /// Replace each maximal invalid sequence with U+FFFD (as Python's `errors="replace"` and
    /// `String::from_utf8_lossy`).
    Replace,
}

/// Default chunk size: large enough for parallel counting (it is cut again into 256 KB tasks), small enough that
/// the few buffers in flight stay small next to the counts (and allocators that keep freed memory for a while do
/// not add up to much).
pub const DEFAULT_CHUNK_BYTES: usize = 4 << 20;

/// Reads text in safe chunks (see the module docs).
pub struct ChunkReader<'a, R: Read> {
    src: R,
    source: String,
    errors: Utf8Errors,
    target: usize,
    pretok: &'a PreTokenizer,
    specials: &'a SpecialTokens,
    max_special: usize,
    /// Bytes read but not decoded yet (an incomplete character at the end of the last read).
    raw: Vec<u8>,
    /// Absolute offset of `raw[0]` in the source.
    raw_offset: u64,
    /// Decoded text not yet handed out; starts at a boundary.
    text: String,
    /// A chunk handed back with [`ChunkReader::recycle`], reused for the next tail.
    spare: String,
    /// Positions of `text` below this are known to hold no cut (so a search does not start over).
    no_cut_below: usize,
    eof: bool,
    bytes_read: u64,
}

impl<'a, R: Read> ChunkReader<'a, R> {
    /// A reader of `src` (named `source` in error messages) cutting chunks of about `target` bytes.
    pub fn new(
        src: R,
        source: impl Into<String>,
        target: usize,
        errors: Utf8Errors,
        pretok: &'a PreTokenizer,
        specials: &'a SpecialTokens,
    ) -> Self {
        let max_special = specials
            .tokens()
            .iter()
            .map(|(t, _)| t.len())
            .max()
            .unwrap_or(0);
        Self {
            src,
            source: source.into(),
            errors,
            target: target.max(1),
            pretok,
            specials,
            max_special,
            raw: Vec::new(),
            raw_offset: 0,
            text: String::new(),
            spare: String::new(),
            no_cut_below: 0,
            eof: false,
            bytes_read: 0,
        }
    }

    /// Gives a chunk's buffer back for reuse (optional: saves an allocation per chunk).
    pub fn recycle(&mut self, chunk: String) {
        if chunk.capacity() > self.spare.capacity() {
            self.spare = chunk;
        }
    }

    /// Bytes read from the source so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// The next chunk, or `None` at the end.
    ///
    /// # Errors
    /// [`Error::Io`] on a read error, [`Error::Utf8`] on invalid UTF-8 with [`Utf8Errors::Strict`].
    pub fn next_chunk(&mut self) -> Result<Option<String>> {
        loop {
            if self.eof {
                if self.text.is_empty() {
                    return Ok(None);
                }
                return Ok(Some(std::mem::take(&mut self.text)));
            }
            if self.text.len() >= self.target {
                if let Some(cut) = self.find_cut() {
                    // The tail goes into the recycled buffer: after the first chunks no large allocation is made,
                    // so memory stays flat however long the input.
                    let mut tail = std::mem::take(&mut self.spare);
                    tail.clear();
                    tail.push_str(&self.text[cut..]);
                    let mut head = std::mem::replace(&mut self.text, tail);
                    head.truncate(cut);
                    self.no_cut_below = 0;
                    return Ok(Some(head));
                }
            }
            // Read at least the target, and as much as is buffered when no cut was found (geometric growth).
            let want = self.target.max(self.text.len());
            self.fill(want)?;
        }
    }

    /// A cut in `text`: the latest safe position up to the trusted limit, or `None`.
    fn find_cut(&mut self) -> Option<usize> {
        let t = self.text.as_str();
        let limit = t.len().saturating_sub(self.max_special);
        if limit == 0 {
            return None;
        }
        // Special-token matches starting at or before `limit` are those of the whole stream.
        let mut matches: Vec<(usize, usize)> = Vec::new();
        if self.max_special > 0 {
            self.specials.find_iter(t, |s, e| {
                if s > limit {
                    return false;
                }
                matches.push((s, e));
                true
            });
        }
        let inside = |i: usize| {
            let k = matches.partition_point(|&(s, _)| s < i);
            k > 0 && matches[k - 1].1 > i
        };
        let mut best = matches.last().map(|&(_, e)| e).filter(|&e| e > 0);
        let mut hi = limit;
        while let Some(i) = self.pretok.last_safe_cut(t, self.no_cut_below, hi + 1) {
            if best.is_some_and(|b| b >= i) {
                break;
            }
            if !inside(i) {
                best = Some(i);
                break;
            }
            hi = i - 1;
        }
        if best.is_none() {
            self.no_cut_below = limit.saturating_sub(4);
        }
        best
    }

    /// Reads up to `want` more bytes and decodes them into `text`.
    fn fill(&mut self, want: usize) -> Result<()> {
        let start = self.raw.len();
        // `take` + `read_to_end` grows the buffer with the data (a large target does not allocate up front) and
        // retries interrupted reads.
        (&mut self.src)
            .take(want as u64)
            .read_to_end(&mut self.raw)
            .map_err(|e| Error::Io {
                path: self.source.clone(),
                message: e.to_string(),
            })?;
        let got = self.raw.len() - start;
        if got < want {
            self.eof = true;
        }
        self.bytes_read += got as u64;
        self.decode()
    }

    fn decode(&mut self) -> Result<()> {
        let mut pos = 0;
        let raw = &self.raw;
        loop {
            match std::str::from_utf8(&raw[pos..]) {
                Ok(s) => {
                    self.text.push_str(s);
                    pos = raw.len();
                    break;
                }
                Err(e) => {
                    let good = pos + e.valid_up_to();
                    // SAFETY-free: the prefix was just validated.
                    self.text
                        .push_str(std::str::from_utf8(&raw[pos..good]).expect("valid prefix"));
                    match e.error_len() {
                        None if !self.eof => {
                            pos = good; // incomplete character: wait for more bytes
                            break;
                        }
                        bad => {
                            if self.errors == Utf8Errors::Strict {
                                return Err(Error::Utf8 {
                                    source: self.source.clone(),
                                    offset: self.raw_offset + good as u64,
                                });
                            }
                            self.text.push('\u{FFFD}');
                            pos = good + bad.unwrap_or(raw.len() - good);
                        }
                    }
                }
            }
        }
        self.raw.drain(..pos);
        self.raw_offset += pos as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specials(tokens: &[&str]) -> SpecialTokens {
        SpecialTokens::new(
            tokens
                .iter()
                .enumerate()
                .map(|(i, t)| (t.to_string(), i as u32))
                .collect(),
        )
        .unwrap()
    }

    fn chunks(
        data: &[u8],
        target: usize,
        p: &PreTokenizer,
        s: &SpecialTokens,
    ) -> Result<Vec<String>> {
        let mut r = ChunkReader::new(data, "mem", target, Utf8Errors::Strict, p, s);
        let mut out = Vec::new();
        while let Some(c) = r.next_chunk()? {
            out.push(c);
        }
        Ok(out)
    }

    #[test]
    fn chunks_concatenate_and_respect_specials_and_characters() {
        let text = "héllo wörld 中文 <|endoftext|>x<|end|> y\nz. <|endoftext|><|end|>".repeat(20);
        let s = specials(&["<|endoftext|>", "<|end|>", "<|e"]);
        for name in ["cl100k", r"\S+|\s+"] {
            let p = PreTokenizer::new(name).unwrap();
            for target in 1..40 {
                let cs = chunks(text.as_bytes(), target, &p, &s).unwrap();
                assert_eq!(cs.concat(), text);
                // every cut is after a special token or a safe cut, never inside a special
                let mut at = 0;
                for c in &cs[..cs.len() - 1] {
                    at += c.len();
                    let after_special = ["<|endoftext|>", "<|end|>"]
                        .iter()
                        .any(|t| text[..at].ends_with(t));
                    assert!(
                        after_special || p.is_safe_cut(&text, at),
                        "{name} {target} cut at {at}"
                    );
                    assert!(!text[..at].ends_with("<|") && !text[..at].ends_with("<|end"));
                }
            }
        }
    }

    #[test]
    fn invalid_utf8_names_the_absolute_offset() {
        let p = PreTokenizer::new("cl100k").unwrap();
        let s = specials(&[]);
        let mut data = "ab cd ".repeat(100).into_bytes();
        data.insert(457, 0xff);
        for target in [1, 7, 64, 1000] {
            let e = chunks(&data, target, &p, &s).unwrap_err();
            assert_eq!(
                e,
                Error::Utf8 {
                    source: "mem".into(),
                    offset: 457
                },
                "{target}"
            );
        }
        // a truncated character at the very end
        let e = chunks("ab é".as_bytes().split_last().unwrap().1, 2, &p, &s).unwrap_err();
        assert_eq!(
            e,
            Error::Utf8 {
                source: "mem".into(),
                offset: 3
            }
        );
    }

    #[test]
    fn replace_mode_matches_lossy_decoding() {
        let p = PreTokenizer::new("cl100k").unwrap();
        let s = specials(&[]);
        let data = b"ab \xff\xfe cd \xe4\xb8 x \xf0\x9f\x98 y \xe4".to_vec();
        for target in [1, 2, 3, 5, 100] {
            let mut r = ChunkReader::new(&data[..], "mem", target, Utf8Errors::Replace, &p, &s);
            let mut out = String::new();
            while let Some(c) = r.next_chunk().unwrap() {
                out.push_str(&c);
            }
            assert_eq!(out, String::from_utf8_lossy(&data), "{target}");
        }
    }
}
