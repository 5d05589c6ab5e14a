//! Helpers shared by the development examples (`#[path]`-included; not an example itself).
#![allow(dead_code)]

use base64::Engine;
use bytepair_core::Tokenizer;

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
pub fn ranks_from_file(path: &str) -> bytepair_core::encode::Ranks {
    let raw = std::fs::read_to_string(path).expect("ranks file");
    let mut ranks = bytepair_core::encode::Ranks::default();
    for line in raw.lines().filter(|l| !l.is_empty()) {
        let (tok, rank) = line.split_once(' ').expect("token rank");
        let tok = base64::engine::general_purpose::STANDARD
            .decode(tok)
            .expect("base64");
        ranks.insert(tok, rank.parse().expect("rank"));
    }
    ranks
}

/// A tokenizer from a plain (not gzipped) tiktoken ranks file and a pattern name.
pub fn tokenizer_from_ranks_file(path: &str, pattern: &str) -> Tokenizer {
    Tokenizer::from_ranks(ranks_from_file(path), vec![], pattern).expect("tokenizer")
}
