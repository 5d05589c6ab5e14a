//! Helpers shared by the development examples (`#[path]`-included; not an example itself).
#![allow(dead_code)]

use base64::Engine;
use bytepair_core::Tokenizer;

/// The examples' error: a message naming what went wrong (shown by `main` instead of a panic).
pub type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Argument `i` of the command line, or an error with the usage line.
pub fn arg<'a>(args: &'a [String], i: usize, usage: &str) -> Res<&'a str> {
    args.get(i)
        .map(String::as_str)
        .ok_or_else(|| format!("usage: {usage}").into())
}

/// A file's text, or an error naming the file.
pub fn read_text(path: &str) -> Res<String> {
    std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}").into())
}

/// CPU time of the calling thread in seconds (`CLOCK_THREAD_CPUTIME_ID`): a busy machine slows it less than wall
/// time.
pub fn thread_cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// The ranks of a plain (not gzipped) tiktoken ranks file.
pub fn ranks_from_file(path: &str) -> Res<bytepair_core::encode::Ranks> {
    let raw = read_text(path)?;
    let mut ranks = bytepair_core::encode::Ranks::default();
    for (no, line) in raw.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
        let bad = |what: &str| format!("{path}:{}: {what}", no + 1);
        let (tok, rank) = line
            .split_once(' ')
            .ok_or_else(|| bad("expected 'base64token rank'"))?;
        let tok = base64::engine::general_purpose::STANDARD
            .decode(tok)
            .map_err(|e| bad(&format!("invalid base64 token: {e}")))?;
        let rank = rank
            .parse()
            .map_err(|_| bad(&format!("rank {rank:?} is not an integer")))?;
        ranks.insert(tok, rank);
    }
    Ok(ranks)
}

/// A tokenizer from a plain (not gzipped) tiktoken ranks file and a pattern name.
pub fn tokenizer_from_ranks_file(path: &str, pattern: &str) -> Res<Tokenizer> {
    Ok(Tokenizer::from_ranks(
        ranks_from_file(path)?,
        vec![],
        pattern,
    )?)
}
