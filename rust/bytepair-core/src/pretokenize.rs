//! Pre-tokenization: splitting text into pieces with a regex before BPE runs on each piece.
//!
//! The built-in patterns are tiktoken's (`tiktoken_ext/openai_public.py`), matched with `fancy-regex` as tiktoken
//! does, so the pieces are identical (possessive quantifiers and `\s+(?!\S)` included). Text between two matches
//! of a custom pattern that does not match every character is returned as a piece of its own: nothing is dropped.
use fancy_regex::Regex;

use crate::error::{Error, Result};

/// GPT-2 / r50k_base pattern (tiktoken's faster equivalent of the original GPT-2 regex).
pub const GPT2_PATTERN: &str =
    r"'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s";

/// cl100k_base pattern (GPT-3.5 / GPT-4).
pub const CL100K_PATTERN: &str = r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s";

/// o200k_base pattern (GPT-4o).
pub const O200K_PATTERN: &str = concat!(
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    "|",
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    "|",
    r"\p{N}{1,3}",
    "|",
    r" ?[^\s\p{L}\p{N}]+[\r\n/]*",
    "|",
    r"\s*[\r\n]+",
    "|",
    r"\s+(?!\S)",
    "|",
    r"\s+"
);

/// The names accepted for the built-in patterns, with their regexes.
pub const BUILTIN_PATTERNS: [(&str, &str); 3] = [
    ("gpt2", GPT2_PATTERN),
    ("cl100k", CL100K_PATTERN),
    ("o200k", O200K_PATTERN),
];

/// Resolves a pattern name (`gpt2`, `r50k`, `cl100k`, `cl100k_base`, `o200k`, `o200k_base`) to its regex; any other
/// string is returned as is (a custom regex).
pub fn resolve_pattern(name_or_regex: &str) -> &str {
    match name_or_regex {
        "gpt2" | "r50k" | "r50k_base" | "p50k_base" => GPT2_PATTERN,
        "cl100k" | "cl100k_base" => CL100K_PATTERN,
        "o200k" | "o200k_base" => O200K_PATTERN,
        other => other,
    }
}

/// A compiled pre-tokenizer.
#[derive(Debug, Clone)]
pub struct PreTokenizer {
    pattern: String,
    /// Clones of the compiled regex, one picked per thread: the regex engine's internal cache pool is contended
    /// when threads share one (the same fix as tiktoken's `regex_tls`).
    regexes: Vec<Regex>,
    /// The hand-written scanner for a built-in pattern (identical pieces, much faster than the regex).
    fast: Option<crate::scan::Kind>,
    /// True for the built-in patterns, whose pieces allow cuts at the safe points of [`PreTokenizer::is_safe_cut`].
    builtin: bool,
}

impl PreTokenizer {
    /// Compiles a pattern given by name (see [`resolve_pattern`]) or as a regex.
    ///
    /// # Errors
    /// [`Error::Pattern`] when the regex does not compile (the message holds the engine's error), and
    /// [`Error::InvalidArgument`] for an empty pattern.
    pub fn new(name_or_regex: &str) -> Result<Self> {
        let pattern = resolve_pattern(name_or_regex);
        if pattern.is_empty() {
            return Err(Error::InvalidArgument(
                "pattern must not be empty".to_string(),
            ));
        }
        let regex = Regex::new(pattern).map_err(|e| Error::Pattern {
            pattern: pattern.to_string(),
            message: e.to_string(),
        })?;
        let builtin = BUILTIN_PATTERNS.iter().any(|(_, p)| *p == pattern);
        let fast = match pattern {
            p if p == GPT2_PATTERN => Some(crate::scan::Kind::Gpt2),
            p if p == CL100K_PATTERN => Some(crate::scan::Kind::Cl100k),
            p if p == O200K_PATTERN => Some(crate::scan::Kind::O200k),
            _ => None,
        };
        Ok(Self {
            pattern: pattern.to_string(),
            regexes: (0..MAX_THREAD_SLOTS).map(|_| regex.clone()).collect(),
            fast,
            builtin,
        })
    }

    fn regex(&self) -> &Regex {
        &self.regexes[thread_slot()]
    }

    /// The regex source.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// True when the pattern is one of the built-in ones.
    pub fn is_builtin(&self) -> bool {
        self.builtin
    }

    /// Calls `f` on each piece of `text`, in order. The pieces concatenate to `text` exactly: text the regex does
    /// not match (possible with custom patterns) is passed as a piece of its own, and so is an empty match's
    /// neighbourhood (empty matches themselves are skipped).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the regex engine gives up (backtrack limit of fancy-regex on a pathological
    /// custom pattern).
    pub fn split<'t>(&self, text: &'t str, f: impl FnMut(&'t str)) -> Result<()> {
        if let Some(kind) = self.fast {
            crate::scan::split(kind, text, f);
            return Ok(());
        }
        self.split_regex(text, f)
    }

    /// [`PreTokenizer::split`] with the regex engine, also for the built-in patterns (the reference the scanner is
    /// tested against).
    pub fn split_regex<'t>(&self, text: &'t str, mut f: impl FnMut(&'t str)) -> Result<()> {
        let mut last = 0;
        for m in self.regex().find_iter(text) {
            let m = m.map_err(|e| {
                Error::InvalidArgument(format!(
                    "pre-tokenization pattern {:?} failed: {e}",
                    self.pattern
                ))
            })?;
            if m.start() == m.end() {
                continue;
            }
            if m.start() > last {
                f(&text[last..m.start()]);
            }
            f(m.as_str());
            last = m.end();
        }
        if last < text.len() {
            f(&text[last..]);
        }
        Ok(())
    }

    /// Pieces of `text` as a vector (convenience for tests and small inputs).
    pub fn pieces<'t>(&self, text: &'t str) -> Result<Vec<&'t str>> {
        let mut out = Vec::new();
        self.split(text, |p| out.push(p))?;
        Ok(out)
    }

    /// Cuts `text` into consecutive chunks of about `target` bytes at positions where
    /// [`PreTokenizer::is_safe_cut`] holds, so that pre-tokenizing each chunk gives the same pieces as the whole
    /// text. Custom patterns are never cut (one chunk).
    pub fn chunks<'t>(&self, text: &'t str, target: usize) -> Vec<&'t str> {
        if !self.builtin || text.len() <= target {
            return vec![text];
        }
        let mut out = Vec::new();
        let mut start = 0;
        while text.len() - start > target {
            match (start + target..text.len()).find(|&i| self.is_safe_cut(text, i)) {
                Some(c) => {
                    out.push(&text[start..c]);
                    start = c;
                }
                None => break,
            }
        }
        out.push(&text[start..]);
        out
    }

    /// The last safe cut in `text[lo..hi]` (see [`PreTokenizer::is_safe_cut`]), searching backwards from `hi`.
    pub fn last_safe_cut(&self, text: &str, lo: usize, hi: usize) -> Option<usize> {
        if !self.builtin {
            return None;
        }
        (lo.max(1)..hi.min(text.len()))
            .rev()
            .find(|&i| self.is_safe_cut(text, i))
    }

    /// True when `i` (0 < i < len) is a piece boundary of every built-in pattern that does not depend on the text
    /// around it: the pieces of `text[..i]` followed by those of `text[i..]` are the pieces of `text`. Always false
    /// for custom patterns (a custom regex may match across anything).
    ///
    /// Two rules, each checked against the three patterns (and differentially tested against the regex):
    /// - a space `' '` at `i` after a non-whitespace character: no alternative of gpt2, cl100k or o200k matches a
    ///   non-whitespace character followed by a space, so a piece ends at `i`, and the piece starting at `i` does
    ///   not look behind;
    /// - a `'\n'` at `i - 1` between two non-whitespace characters, the one at `i` not `'/'`: the newline is a
    ///   whitespace run of its own (so `\s++$` at the end of the left part takes exactly it) or ends a punctuation
    ///   piece (`[\r\n]*` / o200k's `[\r\n/]*` stop at the next non-whitespace, non-`/` character).
    pub fn is_safe_cut(&self, text: &str, i: usize) -> bool {
        if !self.builtin || i == 0 || i >= text.len() {
            return false;
        }
        let b = text.as_bytes();
        if b[i] == b' ' {
            return char_before(text, i).is_some_and(|c| !c.is_whitespace());
        }
        if b[i - 1] == b'\n' && i >= 2 {
            if b[i].is_ascii_whitespace() || b[i] == b'/' || !text.is_char_boundary(i) {
                return false;
            }
            let after_ok = text[i..].chars().next().is_some_and(|c| !c.is_whitespace());
            return after_ok && char_before(text, i - 1).is_some_and(|c| !c.is_whitespace());
        }
        false
    }
}

/// The character that ends at byte `i` of `text`, if `i` is a character boundary.
fn char_before(text: &str, i: usize) -> Option<char> {
    if !text.is_char_boundary(i) {
        return None;
    }
    text[..i].chars().next_back()
}

const MAX_THREAD_SLOTS: usize = 64;

fn thread_slot() -> usize {
    use std::hash::{Hash, Hasher};
    thread_local! {
        static SLOT: usize = {
            let mut h = rustc_hash::FxHasher::default();
            std::thread::current().id().hash(&mut h);
            (h.finish() as usize) % MAX_THREAD_SLOTS
        };
    }
    SLOT.with(|s| *s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cl100k_pieces() {
        let p = PreTokenizer::new("cl100k").unwrap();
        assert_eq!(
            p.pieces("Hello world's  end\n\n  x").unwrap(),
            vec!["Hello", " world", "'s", " ", " end", "\n\n", " ", " x"]
        );
    }

    #[test]
    fn custom_pattern_keeps_gaps() {
        let p = PreTokenizer::new(r"\w+").unwrap();
        assert_eq!(p.pieces("a, b!").unwrap(), vec!["a", ", ", "b", "!"]);
    }

    #[test]
    fn bad_pattern_is_an_error() {
        let e = PreTokenizer::new("(unclosed").unwrap_err();
        assert!(matches!(e, Error::Pattern { .. }));
    }

    #[test]
    fn chunks_give_identical_pieces() {
        let text =
            "Hello there.\n/x.\n/New line  \nmore\n\n text, and\nthe end.\nX y z\n".repeat(50);
        for name in ["gpt2", "cl100k", "o200k"] {
            let p = PreTokenizer::new(name).unwrap();
            let whole = p.pieces(&text).unwrap();
            let chunks = p.chunks(&text, 64);
            assert!(chunks.len() > 10);
            let mut parts = Vec::new();
            for c in &chunks {
                parts.extend(p.pieces(c).unwrap());
            }
            assert_eq!(whole, parts, "{name}");
        }
    }

    /// Every position where `is_safe_cut` holds splits the text into parts whose pieces (by the regex, the
    /// reference) concatenate to the pieces of the whole, on random text made of the characters that matter.
    #[test]
    fn safe_cuts_agree_with_the_regex() {
        let alphabet = [
            " ", " ", "  ", "\n", "\n\n", "\r\n", "\t", "a", "Zy", "1", "234", ".", "'s", "'", "/",
            "\u{a0}", "\u{3000}", "é", "中文", "\u{301}", "!?", "x", "\u{85}", "\u{2028}", "ǅ",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for name in ["gpt2", "cl100k", "o200k"] {
            let p = PreTokenizer::new(name).unwrap();
            let mut cuts = 0;
            for _ in 0..3000 {
                let n = (rnd() % 30) as usize;
                let text: String = (0..n)
                    .map(|_| alphabet[(rnd() % alphabet.len() as u64) as usize])
                    .collect();
                let mut whole = Vec::new();
                p.split_regex(&text, |x| whole.push(x)).unwrap();
                for i in 0..=text.len() {
                    if !p.is_safe_cut(&text, i) {
                        continue;
                    }
                    cuts += 1;
                    let mut parts = Vec::new();
                    p.split_regex(&text[..i], |x| parts.push(x)).unwrap();
                    p.split_regex(&text[i..], |x| parts.push(x)).unwrap();
                    assert_eq!(whole, parts, "{name}: cut at {i} of {text:?}");
                }
            }
            assert!(cuts > 500, "{name}: only {cuts} cuts tested");
        }
    }

    #[test]
    fn custom_patterns_have_no_safe_cuts() {
        let p = PreTokenizer::new(r"\w+").unwrap();
        assert!(!p.is_safe_cut("a b\nc", 1));
        assert_eq!(p.chunks("a b\nc d", 1), vec!["a b\nc d"]);
    }
}
