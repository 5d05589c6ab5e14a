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
    /// True for the built-in patterns: a position right after a `\n` that follows a non-space character and is
    /// followed by a non-space character is always a piece boundary, so long texts can be cut there.
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

    /// Cuts `text` into consecutive chunks of about `target` bytes at positions that are piece boundaries for every
    /// built-in pattern, so that pre-tokenizing each chunk gives the same pieces as the whole text. Custom patterns
    /// are never cut (one chunk).
    pub fn chunks<'t>(&self, text: &'t str, target: usize) -> Vec<&'t str> {
        if !self.builtin || text.len() <= target {
            return vec![text];
        }
        let bytes = text.as_bytes();
        let mut out = Vec::new();
        let mut start = 0;
        while text.len() - start > target {
            let mut cut = None;
            let mut i = start + target;
            while i < bytes.len() {
                // cut at i when bytes[i-1] == '\n', bytes[i-2] is not whitespace and bytes[i] is neither whitespace
                // nor '/' (o200k's punctuation piece `[^\s\p{L}\p{N}]+[\r\n/]*` runs on through newlines and slashes).
                if bytes[i - 1] == b'\n'
                    && i >= start + 2
                    && !is_space_byte(bytes[i - 2])
                    && !is_space_byte(bytes[i])
                    && bytes[i] != b'/'
                    && text.is_char_boundary(i)
                {
                    cut = Some(i);
                    break;
                }
                i += 1;
            }
            match cut {
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

/// Conservative: ASCII whitespace and any non-ASCII byte (which may start or continue a Unicode space such as
/// U+00A0 or U+3000) count as whitespace, so a cut is never placed next to one.
fn is_space_byte(b: u8) -> bool {
    b.is_ascii_whitespace() || b == 0x0b || b >= 0x80
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
}
