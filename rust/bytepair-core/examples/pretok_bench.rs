//! Pre-tokenizes files with a built-in pattern and prints MB/s (single thread, thread CPU time, best of REPS).
//! Usage: cargo run --release --example pretok_bench -- PATTERN FILE... (PATTERN: cl100k, o200k, gpt2)
#[path = "common/mod.rs"]
mod common;
use bytepair_core::pretokenize::PreTokenizer;
use common::{arg, read_text, thread_cpu_seconds, Res};

const USAGE: &str = "pretok_bench PATTERN FILE...";

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    arg(&args, 2, USAGE)?;
    let pretok = PreTokenizer::new(&args[1])?;
    let texts: Vec<String> = args[2..].iter().map(|p| read_text(p)).collect::<Res<_>>()?;
    let n: usize = texts.iter().map(|t| t.len()).sum();
    let reps: usize = std::env::var("REPS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let mut best = 0f64;
    let mut pieces = 0usize;
    for _ in 0..reps {
        let c = thread_cpu_seconds();
        pieces = 0;
        for text in &texts {
            pretok.split(text, |p| pieces += 1 + (p.len() >> 62))?;
        }
        best = best.max(n as f64 / (thread_cpu_seconds() - c) / 1e6);
    }
    println!("{pieces} pieces, best {best:.1} MB/s cpu");
    Ok(())
}
