//! bytepair's own tokenizer file: versioned, self-describing JSON, validated on load.
//!
//! ```text
//! {"format": "bytepair", "version": 1,
//!  "pattern": "<regex>", "pattern_name": "o200k" | null, "n_vocab": 200019,
//!  "special_tokens": [["<|endoftext|>", 199999], ...],
//!  "ranks": [["IQ==", 0], ...]                                   (tiktoken-style: base64 token, rank = id)
//!  or "vocab": [[0, "AA=="], ...], "merges": [["IA==", "dA=="], ...]   (trained / GPT-2 style)
//!  "checksum": "fnv1a64:0123456789abcdef"}
//! ```
//! Tokens are base64 (bytes need not be UTF-8). `n_vocab`, `pattern_name` and `checksum` are optional on read; when
//! present they are checked. The checksum covers the pattern, the special tokens and the token data, so a file
//! changed after saving (a flipped byte, a hand edit) is reported; delete the field to accept a deliberate edit.
use base64::engine::general_purpose::STANDARD;
use std::borrow::Cow;

use base64::Engine;
use serde::Deserialize;

use super::{bad, show};
use crate::encode::Ranks;
use crate::error::{Error, Result};
use crate::pretokenize::BUILTIN_PATTERNS;
use crate::Tokenizer;

/// The `format` field of every bytepair file.
pub const FORMAT_NAME: &str = "bytepair";
/// The version this code writes and reads.
pub const FORMAT_VERSION: u64 = 1;

/// A base64 string, borrowed from the input when it has no JSON escapes (it never has when we wrote it).
#[derive(Deserialize)]
struct B64<'a>(#[serde(borrow)] Cow<'a, str>);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File<'a> {
    format: String,
    version: u64,
    pattern: String,
    #[serde(default)]
    pattern_name: Option<String>,
    #[serde(default)]
    n_vocab: Option<u64>,
    special_tokens: Vec<(String, u32)>,
    #[serde(default, borrow)]
    ranks: Option<Vec<(B64<'a>, u32)>>,
    #[serde(default, borrow)]
    vocab: Option<Vec<(u32, B64<'a>)>>,
    #[serde(default, borrow)]
    merges: Option<Vec<(B64<'a>, B64<'a>)>>,
    #[serde(default)]
    checksum: Option<String>,
}

/// Just enough to say what a file is when it does not parse as the current version.
#[derive(Deserialize)]
struct Header {
    #[serde(default)]
    format: Option<serde_json::Value>,
    #[serde(default)]
    version: Option<serde_json::Value>,
}

/// 64-bit FNV-1a, fed with length-prefixed fields so that moving bytes between fields changes the sum.
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn bytes(&mut self, b: &[u8]) {
        self.num(b.len() as u64);
        for &x in b {
            self.0 ^= u64::from(x);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn num(&mut self, n: u64) {
        for x in n.to_le_bytes() {
            self.0 ^= u64::from(x);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn hex(&self) -> String {
        format!("fnv1a64:{:016x}", self.0)
    }
}

fn checksum_ranks(pattern: &str, specials: &[(String, u32)], ranks: &[(&[u8], u32)]) -> String {
    let mut h = Fnv::new();
    h.bytes(pattern.as_bytes());
    for (t, i) in specials {
        h.bytes(t.as_bytes());
        h.num(u64::from(*i));
    }
    h.bytes(b"ranks");
    for (b, r) in ranks {
        h.bytes(b);
        h.num(u64::from(*r));
    }
    h.hex()
}

fn checksum_merges(
    pattern: &str,
    specials: &[(String, u32)],
    vocab: &[(u32, &[u8])],
    merges: &[(&[u8], &[u8])],
) -> String {
    let mut h = Fnv::new();
    h.bytes(pattern.as_bytes());
    for (t, i) in specials {
        h.bytes(t.as_bytes());
        h.num(u64::from(*i));
    }
    h.bytes(b"vocab");
    for (i, b) in vocab {
        h.num(u64::from(*i));
        h.bytes(b);
    }
    h.bytes(b"merges");
    for (a, b) in merges {
        h.bytes(a);
        h.bytes(b);
    }
    h.hex()
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).expect("a str always serializes")
}

/// Serializes a tokenizer (one entry a line, so files diff well).
pub fn to_json(tok: &Tokenizer) -> String {
    let pattern = tok.pattern();
    let specials = tok.special_tokens();
    let name = BUILTIN_PATTERNS
        .iter()
        .find(|(_, p)| *p == pattern)
        .map(|(n, _)| json_str(n))
        .unwrap_or_else(|| "null".to_string());
    let mut out = String::with_capacity(tok.dense_ids() * 24 + 256);
    out.push_str(&format!(
        "{{\"format\":\"{FORMAT_NAME}\",\"version\":{FORMAT_VERSION},\n\"pattern\":{},\n\"pattern_name\":{name},\n\
         \"n_vocab\":{},\n\"special_tokens\":[",
        json_str(pattern),
        tok.n_vocab()
    ));
    for (k, (t, i)) in specials.iter().enumerate() {
        if k > 0 {
            out.push(',');
        }
        out.push_str(&format!("[{},{i}]", json_str(t)));
    }
    out.push_str("],\n");
    let checksum = if tok.has_merges() {
        let special_ids: rustc_hash::FxHashSet<u32> = specials.iter().map(|(_, i)| *i).collect();
        let vocab: Vec<(u32, &[u8])> = tok
            .vocab()
            .filter(|(i, _)| !special_ids.contains(i))
            .collect();
        let merges = tok.merges();
        out.push_str("\"vocab\":[");
        for (k, (i, b)) in vocab.iter().enumerate() {
            out.push_str(if k > 0 { ",\n[" } else { "\n[" });
            out.push_str(&i.to_string());
            out.push_str(",\"");
            STANDARD.encode_string(b, &mut out);
            out.push_str("\"]");
        }
        out.push_str("],\n\"merges\":[");
        for (k, (a, b)) in merges.iter().enumerate() {
            out.push_str(if k > 0 { ",\n[\"" } else { "\n[\"" });
            STANDARD.encode_string(a, &mut out);
            out.push_str("\",\"");
            STANDARD.encode_string(b, &mut out);
            out.push_str("\"]");
        }
        let m: Vec<(&[u8], &[u8])> = merges
            .iter()
            .map(|(a, b)| (a.as_slice(), b.as_slice()))
            .collect();
        checksum_merges(pattern, specials, &vocab, &m)
    } else {
        let mut ranks: Vec<(&[u8], u32)> = tok
            .ranks()
            .iter()
            .map(|(b, &r)| (b.as_slice(), tok.rank_id(r)))
            .collect();
        ranks.sort_unstable_by_key(|t| t.1);
        out.push_str("\"ranks\":[");
        for (k, (b, r)) in ranks.iter().enumerate() {
            out.push_str(if k > 0 { ",\n[\"" } else { "\n[\"" });
            STANDARD.encode_string(b, &mut out);
            out.push_str("\",");
            out.push_str(&r.to_string());
            out.push(']');
        }
        checksum_ranks(pattern, specials, &ranks)
    };
    out.push_str(&format!("],\n\"checksum\":\"{checksum}\"}}\n"));
    out
}

fn describe_json_error(source: &str, e: &serde_json::Error, what: &str) -> Error {
    if e.classify() == serde_json::error::Category::Eof {
        bad(
            source,
            format_args!("truncated: the {what} ends early ({e})"),
        )
    } else {
        bad(source, format_args!("corrupt {what}: {e}"))
    }
}

/// Says why a file that does not parse as the current version is not readable.
fn diagnose(data: &[u8], source: &str, err: &serde_json::Error) -> Error {
    match serde_json::from_slice::<Header>(data) {
        Err(e) => describe_json_error(source, &e, "JSON"),
        Ok(h) => {
            if let Some(e) = check_header(h.format.as_ref(), h.version.as_ref(), source) {
                return e;
            }
            if err.classify() == serde_json::error::Category::Eof {
                describe_json_error(source, err, "JSON")
            } else {
                bad(
                    source,
                    format_args!("malformed bytepair tokenizer file: {err}"),
                )
            }
        }
    }
}

fn check_header(
    format: Option<&serde_json::Value>,
    version: Option<&serde_json::Value>,
    source: &str,
) -> Option<Error> {
    match format {
        Some(serde_json::Value::String(f)) if f == FORMAT_NAME => {}
        None => {
            return Some(bad(
                source,
                "not a bytepair tokenizer file (no \"format\": \"bytepair\" field)",
            ))
        }
        Some(other) => {
            return Some(bad(
                source,
                format_args!(
                    "not a bytepair tokenizer file (\"format\" is {other}, expected \"bytepair\")"
                ),
            ))
        }
    }
    match version {
        Some(serde_json::Value::Number(n)) if n.as_u64() == Some(FORMAT_VERSION) => None,
        Some(serde_json::Value::Number(n)) if n.as_u64().is_some_and(|v| v > FORMAT_VERSION) => {
            Some(bad(
                source,
                format_args!(
                    "unsupported version {n}: written by a newer bytepair; this one reads version \
                     {FORMAT_VERSION}"
                ),
            ))
        }
        Some(v) => Some(bad(
            source,
            format_args!("unsupported version {v} (this bytepair reads version {FORMAT_VERSION})"),
        )),
        None => Some(bad(source, "no \"version\" field")),
    }
}

fn decode_b64(s: &str, source: &str, field: &str, index: usize) -> Result<Vec<u8>> {
    STANDARD.decode(s).map_err(|e| {
        bad(
            source,
            format_args!("{field}[{index}]: invalid base64 token {:?}: {e}", s),
        )
    })
}

fn inconsistent(source: &str, e: Error) -> Error {
    match e {
        Error::Format(m) | Error::InvalidArgument(m) => {
            bad(source, format_args!("inconsistent tokenizer: {m}"))
        }
        Error::Pattern { .. } => bad(source, e),
        other => other,
    }
}

/// Reads a file written by [`to_json`].
///
/// # Errors
/// [`Error::Format`] naming `source` and what is wrong: not JSON or truncated, not a bytepair file, another
/// version, a malformed field, bad base64, vocab and merges that disagree, duplicate tokens or ids, an `n_vocab` or
/// checksum that does not match.
pub fn from_json(data: &[u8], source: &str) -> Result<Tokenizer> {
    let file: File = serde_json::from_slice(data).map_err(|e| diagnose(data, source, &e))?;
    let fmt = serde_json::Value::String(file.format.clone());
    let ver = serde_json::Value::from(file.version);
    if let Some(e) = check_header(Some(&fmt), Some(&ver), source) {
        return Err(e);
    }
    if let Some(name) = &file.pattern_name {
        if let Some((_, p)) = BUILTIN_PATTERNS.iter().find(|(n, _)| n == name) {
            if *p != file.pattern {
                return Err(bad(
                    source,
                    format_args!(
                        "inconsistent tokenizer: pattern_name is {name:?} but pattern is not that pattern"
                    ),
                ));
            }
        }
    }
    let specials = file.special_tokens;
    let (tok, sum) = match (file.ranks, file.vocab, file.merges) {
        (Some(ranks), None, None) => {
            let mut decoded: Vec<(Vec<u8>, u32)> = Vec::with_capacity(ranks.len());
            for (k, (b, r)) in ranks.iter().enumerate() {
                decoded.push((decode_b64(&b.0, source, "ranks", k)?, *r));
            }
            let sum = file.checksum.as_ref().map(|_| {
                let v: Vec<(&[u8], u32)> =
                    decoded.iter().map(|(b, r)| (b.as_slice(), *r)).collect();
                checksum_ranks(&file.pattern, &specials, &v)
            });
            let mut map = Ranks::default();
            map.reserve(decoded.len());
            for (k, (b, r)) in decoded.into_iter().enumerate() {
                if b.is_empty() {
                    return Err(bad(source, format_args!("ranks[{k}]: empty token")));
                }
                if let Some(prev) = map.insert(b, r) {
                    return Err(bad(
                        source,
                        format_args!(
                            "inconsistent tokenizer: ranks[{k}] repeats a token (ranks {prev} and {r}): {}",
                            show(&STANDARD.decode(ranks[k].0 .0.as_bytes()).unwrap_or_default())
                        ),
                    ));
                }
            }
            let tok = Tokenizer::from_ranks(map, specials.clone(), &file.pattern)
                .map_err(|e| inconsistent(source, e))?;
            (tok, sum)
        }
        (None, Some(vocab), Some(merges)) => {
            let mut v: Vec<(u32, Vec<u8>)> = Vec::with_capacity(vocab.len());
            for (k, (i, b)) in vocab.iter().enumerate() {
                v.push((*i, decode_b64(&b.0, source, "vocab", k)?));
            }
            let mut m: Vec<(Vec<u8>, Vec<u8>)> = Vec::with_capacity(merges.len());
            for (k, (a, b)) in merges.iter().enumerate() {
                m.push((
                    decode_b64(&a.0, source, "merges", k)?,
                    decode_b64(&b.0, source, "merges", k)?,
                ));
            }
            let sum = file.checksum.as_ref().map(|_| {
                let vv: Vec<(u32, &[u8])> = v.iter().map(|(i, b)| (*i, b.as_slice())).collect();
                let mm: Vec<(&[u8], &[u8])> = m
                    .iter()
                    .map(|(a, b)| (a.as_slice(), b.as_slice()))
                    .collect();
                checksum_merges(&file.pattern, &specials, &vv, &mm)
            });
            let tok = Tokenizer::from_vocab_merges(v, m, specials.clone(), &file.pattern)
                .map_err(|e| inconsistent(source, e))?;
            (tok, sum)
        }
        (Some(_), _, _) => {
            return Err(bad(
                source,
                "malformed bytepair tokenizer file: it has both \"ranks\" and \"vocab\"/\"merges\"",
            ))
        }
        (None, Some(_), None) => {
            return Err(bad(
                source,
                "malformed bytepair tokenizer file: \"vocab\" without \"merges\"",
            ))
        }
        (None, None, Some(_)) => {
            return Err(bad(
                source,
                "malformed bytepair tokenizer file: \"merges\" without \"vocab\"",
            ))
        }
        (None, None, None) => {
            return Err(bad(
                source,
                "malformed bytepair tokenizer file: no \"ranks\" and no \"vocab\"/\"merges\"",
            ))
        }
    };
    if let Some(n) = file.n_vocab {
        if n != tok.n_vocab() as u64 {
            return Err(bad(
                source,
                format_args!(
                    "inconsistent tokenizer: n_vocab is {n} but the tokens give {}",
                    tok.n_vocab()
                ),
            ));
        }
    }
    if let (Some(want), Some(got)) = (&file.checksum, sum) {
        if *want != got {
            return Err(bad(
                source,
                format_args!(
                    "checksum mismatch (file says {want}, content gives {got}): the file was changed after \
                     it was saved (corrupt, or edited by hand; delete the \"checksum\" field to accept an edit)"
                ),
            ));
        }
    }
    Ok(tok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Tokenizer {
        let vocab: Vec<(u32, Vec<u8>)> = (0..=255u8)
            .map(|b| (u32::from(b), vec![b]))
            .chain([(256, b"ab".to_vec()), (257, b"abc".to_vec())])
            .collect();
        let merges = vec![
            (b"a".to_vec(), b"b".to_vec()),
            (b"ab".to_vec(), b"c".to_vec()),
        ];
        Tokenizer::from_vocab_merges(vocab, merges, vec![("<|e|>".into(), 258)], "gpt2").unwrap()
    }

    #[test]
    fn round_trip_merges_and_ranks() {
        let tok = small();
        let json = to_json(&tok);
        let back = from_json(json.as_bytes(), "t.json").unwrap();
        assert_eq!(back.merges(), tok.merges());
        assert_eq!(
            back.encode_ordinary("abcab").unwrap(),
            tok.encode_ordinary("abcab").unwrap()
        );
        let ranked = Tokenizer::from_ranks(tok.ranks().clone(), vec![], "gpt2").unwrap();
        let back = from_json(to_json(&ranked).as_bytes(), "r.json").unwrap();
        assert_eq!(back.ranks(), ranked.ranks());
    }

    #[test]
    fn errors_name_the_file_and_problem() {
        let json = to_json(&small());
        let msg = |s: &str| from_json(s.as_bytes(), "f.json").unwrap_err().to_string();
        assert!(msg(&json[..json.len() / 2]).starts_with("f.json: truncated"));
        assert!(
            msg(&json.replace("\"version\":1", "\"version\":7")).contains("unsupported version 7")
        );
        assert!(msg("{}").contains("not a bytepair tokenizer file"));
        assert!(msg(&json.replace("\"n_vocab\":259", "\"n_vocab\":300")).contains("n_vocab is 300"));
        let pat = json_str(small().pattern());
        let edited = json
            .replace(&pat, &json_str(r"\w+|\s+"))
            .replace("\"pattern_name\":\"gpt2\"", "\"pattern_name\":null");
        assert!(msg(&edited).contains("checksum mismatch"));
    }
}
