//! tiktoken ranks files: one `base64(token) rank` line per mergeable token (`tiktoken.load.load_tiktoken_bpe`).
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::{bad, show};
use crate::encode::Ranks;
use crate::error::Result;
use crate::Tokenizer;

/// Parses a ranks file (already decompressed). Blank lines are skipped; anything else must be `base64 rank`.
///
/// # Errors
/// [`crate::Error::Format`] naming `source` and the line: a malformed line, bad base64, a rank that is not a
/// non-negative integer, a token or rank that appears twice.
pub fn parse_ranks(data: &[u8], source: &str) -> Result<Ranks> {
    let mut ranks = Ranks::default();
    ranks.reserve(data.len() / 12);
    let mut seen_rank = rustc_hash::FxHashSet::default();
    for (n, line) in data.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let lineno = n + 1;
        let mut parts = line
            .split(|b| b.is_ascii_whitespace())
            .filter(|p| !p.is_empty());
        let (Some(tok), Some(rank), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad(
                source,
                format_args!(
                    "line {lineno}: expected 'base64token rank', got {}",
                    show(&line[..line.len().min(80)])
                ),
            ));
        };
        let token = STANDARD.decode(tok).map_err(|e| {
            bad(
                source,
                format_args!("line {lineno}: invalid base64 token {}: {e}", show(tok)),
            )
        })?;
        let rank: u32 = std::str::from_utf8(rank)
            .ok()
            .and_then(|r| r.parse().ok())
            .filter(|&r| r != u32::MAX)
            .ok_or_else(|| {
                bad(
                    source,
                    format_args!(
                        "line {lineno}: rank {} is not an integer from 0 to 2**32 - 2",
                        show(rank)
                    ),
                )
            })?;
        if token.is_empty() {
            return Err(bad(source, format_args!("line {lineno}: empty token")));
        }
        if !seen_rank.insert(rank) {
            return Err(bad(
                source,
                format_args!("line {lineno}: rank {rank} appears twice"),
            ));
        }
        if ranks.insert(token.clone(), rank).is_some() {
            return Err(bad(
                source,
                format_args!("line {lineno}: token {} appears twice", show(&token)),
            ));
        }
    }
    if ranks.is_empty() {
        return Err(bad(source, "no ranks (an empty tiktoken file)"));
    }
    Ok(ranks)
}

/// The mergeable tokens as `(id, bytes)` sorted by id, checked to be writable as tiktoken ranks: tiktoken uses the
/// id as the merge priority, so the ids of multi-byte tokens must be in the order of their ranks.
///
/// # Errors
/// [`crate::Error::InvalidArgument`] when the ids are not in merge order.
pub fn ranks_by_id(tok: &Tokenizer) -> Result<Vec<(u32, &[u8])>> {
    let mut by_rank: Vec<(u32, u32, &[u8])> = tok
        .ranks()
        .iter()
        .map(|(b, &r)| (r, tok.rank_id(r), b.as_slice()))
        .collect();
    by_rank.sort_unstable_by_key(|t| t.0);
    let mut last: Option<(u32, &[u8])> = None;
    for &(_, id, bytes) in by_rank.iter().filter(|t| t.2.len() > 1) {
        if let Some((prev_id, prev)) = last {
            if id < prev_id {
                return Err(crate::Error::InvalidArgument(format!(
                    "this tokenizer cannot be written as tiktoken ranks: tiktoken merges by id, but token {} \
                     (id {id}) merges before token {} (id {prev_id})",
                    show(bytes),
                    show(prev)
                )));
            }
        }
        last = Some((id, bytes));
    }
    let mut out: Vec<(u32, &[u8])> = by_rank.into_iter().map(|(_, i, b)| (i, b)).collect();
    out.sort_unstable_by_key(|t| t.0);
    Ok(out)
}

/// Writes the mergeable tokens as a tiktoken ranks file (sorted by rank, as `tiktoken.load.dump_tiktoken_bpe`).
///
/// # Errors
/// As [`ranks_by_id`].
pub fn write_ranks(tok: &Tokenizer) -> Result<String> {
    let items = ranks_by_id(tok)?;
    let mut out = String::with_capacity(items.len() * 16);
    for (id, bytes) in items {
        STANDARD.encode_string(bytes, &mut out);
        out.push(' ');
        out.push_str(&id.to_string());
        out.push('\n');
    }
    Ok(out)
}

/// Parses a ranks file and builds the tokenizer; a ranks file that cannot make one (a single byte missing, two
/// tokens with one rank, a special token's id taken) is a [`crate::Error::Format`] naming `source`.
///
/// # Errors
/// As [`parse_ranks`], plus the above; [`crate::Error::Pattern`] for a pattern that does not compile.
pub fn load(
    data: &[u8],
    source: &str,
    special_tokens: Vec<(String, u32)>,
    pattern: &str,
) -> Result<Tokenizer> {
    let ranks = parse_ranks(data, source)?;
    Tokenizer::from_ranks(ranks, special_tokens, pattern).map_err(|e| match e {
        crate::Error::InvalidArgument(m) | crate::Error::Format(m) => bad(source, m),
        other => other,
    })
}
