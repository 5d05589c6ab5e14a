//! Special tokens: split out of the text before pre-tokenization, leftmost-longest (so `<|a|><|a|>` beats `<|a|>`
//! when both are special tokens, whatever order they were given in).
use aho_corasick::{AhoCorasick, MatchKind};

use crate::error::{Error, Result};

/// A set of special tokens with their ids and matchers.
#[derive(Debug, Clone)]
pub struct SpecialTokens {
    tokens: Vec<(String, u32)>,
    /// Leftmost-longest matcher over all tokens (`None` when there are none).
    longest: Option<AhoCorasick>,
}

/// Which special tokens become their ids in a call to encode.
#[derive(Debug, Clone, Copy)]
pub enum Allowed<'a> {
    /// None: special-token text is plain text.
    None,
    /// All of them.
    All,
    /// Only these.
    Some(&'a [String]),
}

impl SpecialTokens {
    /// Builds the set; tokens must be non-empty and distinct, ids distinct.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty or duplicate token or a duplicate id.
    pub fn new(tokens: Vec<(String, u32)>) -> Result<Self> {
        let mut seen = rustc_hash::FxHashSet::default();
        let mut ids = rustc_hash::FxHashSet::default();
        for (t, id) in &tokens {
            if t.is_empty() {
                return Err(Error::InvalidArgument(
                    "special tokens must not be empty strings".to_string(),
                ));
            }
            if !seen.insert(t.as_str()) {
                return Err(Error::InvalidArgument(format!(
                    "duplicate special token {t:?}"
                )));
            }
            if !ids.insert(*id) {
                return Err(Error::InvalidArgument(format!(
                    "special token {t:?} has id {id}, which another special token already has"
                )));
            }
        }
        let longest = build(tokens.iter().map(|(t, _)| t.as_str()))?;
        Ok(Self { tokens, longest })
    }

    /// An empty set.
    pub fn empty() -> Self {
        Self {
            tokens: Vec::new(),
            longest: None,
        }
    }

    /// The tokens with their ids, in the order given.
    pub fn tokens(&self) -> &[(String, u32)] {
        &self.tokens
    }

    /// Number of special tokens.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The id of a special token.
    pub fn id(&self, token: &str) -> Option<u32> {
        self.tokens
            .iter()
            .find(|(t, _)| t == token)
            .map(|(_, id)| *id)
    }

    /// The first (leftmost) occurrence in `text` of any of the tokens `which` selects, as `(token, char offset)`.
    pub fn find_any(&self, text: &str, which: Allowed<'_>) -> Option<(String, usize)> {
        let owned;
        let (ac, names): (&AhoCorasick, Vec<&str>) = match which {
            Allowed::None => return None,
            Allowed::All => (
                self.longest.as_ref()?,
                self.tokens.iter().map(|(t, _)| t.as_str()).collect(),
            ),
            Allowed::Some(list) => {
                owned = build(list.iter().map(|s| s.as_str())).ok()??;
                (&owned, list.iter().map(|s| s.as_str()).collect())
            }
        };
        let m = ac.find(text)?;
        Some((
            names[m.pattern().as_usize()].to_string(),
            text[..m.start()].chars().count(),
        ))
    }

    /// Calls `f(start, end)` for each special token in `text` (all of them, leftmost-longest), in order, until `f`
    /// returns false.
    pub fn find_iter(&self, text: &str, mut f: impl FnMut(usize, usize) -> bool) {
        if let Some(ac) = &self.longest {
            for m in ac.find_iter(text) {
                if !f(m.start(), m.end()) {
                    break;
                }
            }
        }
    }

    /// Splits `text` into plain segments and special-token ids. `f` receives `Ok(segment)` for text and
    /// `Err(id)` for a special token, in order. Segments may be empty only when the text is empty.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `allowed` names a string that is not a special token.
    pub fn split<'t>(
        &self,
        text: &'t str,
        allowed: Allowed<'_>,
        mut f: impl FnMut(std::result::Result<&'t str, u32>) -> Result<()>,
    ) -> Result<()> {
        let owned;
        let (ac, ids): (&AhoCorasick, Vec<u32>) = match allowed {
            Allowed::None => return f(Ok(text)),
            Allowed::All => match &self.longest {
                None => return f(Ok(text)),
                Some(ac) => (ac, self.tokens.iter().map(|(_, id)| *id).collect()),
            },
            Allowed::Some(list) => {
                if list.is_empty() {
                    return f(Ok(text));
                }
                let mut ids = Vec::with_capacity(list.len());
                for t in list {
                    match self.id(t) {
                        Some(id) => ids.push(id),
                        None => {
                            return Err(Error::InvalidArgument(format!(
                                "allowed_special names {t:?}, which is not a special token of this tokenizer"
                            )))
                        }
                    }
                }
                owned = build(list.iter().map(|s| s.as_str()))?;
                match &owned {
                    None => return f(Ok(text)),
                    Some(ac) => (ac, ids),
                }
            }
        };
        let mut last = 0;
        for m in ac.find_iter(text) {
            if m.start() > last {
                f(Ok(&text[last..m.start()]))?;
            }
            f(Err(ids[m.pattern().as_usize()]))?;
            last = m.end();
        }
        if last < text.len() {
            f(Ok(&text[last..]))?;
        }
        Ok(())
    }
}

fn build<'a>(tokens: impl Iterator<Item = &'a str>) -> Result<Option<AhoCorasick>> {
    let tokens: Vec<&str> = tokens.collect();
    if tokens.is_empty() {
        return Ok(None);
    }
    AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .build(&tokens)
        .map(Some)
        .map_err(|e| Error::InvalidArgument(format!("special tokens: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(s: &SpecialTokens, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        s.split(text, Allowed::All, |p| {
            out.push(match p {
                Ok(t) => t.to_string(),
                Err(id) => format!("#{id}"),
            });
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn leftmost_longest_whatever_the_order() {
        for toks in [
            vec![("<|a|>".to_string(), 1), ("<|a|><|a|>".to_string(), 2)],
            vec![("<|a|><|a|>".to_string(), 2), ("<|a|>".to_string(), 1)],
        ] {
            let s = SpecialTokens::new(toks).unwrap();
            assert_eq!(parts(&s, "x<|a|><|a|><|a|>y"), vec!["x", "#2", "#1", "y"]);
        }
    }

    #[test]
    fn duplicates_and_empty_rejected() {
        assert!(SpecialTokens::new(vec![("a".into(), 1), ("a".into(), 2)]).is_err());
        assert!(SpecialTokens::new(vec![("".into(), 1)]).is_err());
    }
}
