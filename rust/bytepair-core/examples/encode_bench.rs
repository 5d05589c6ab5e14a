//! Encodes files with a tiktoken ranks file and prints MB/s (single thread).
//! Usage: cargo run --release --example encode_bench -- RANKS.tiktoken PATTERN FILE... (PATTERN: cl100k, o200k, gpt2)
//!
//! Times are the thread's CPU time (not wall time), so a busy machine slows the numbers less; REPS sets the number
//! of passes and the best is printed last. COLD=1 empties the piece caches before each pass, as the Python
//! benchmarks do.
use std::time::Instant;

#[path = "common/mod.rs"]
mod common;
use common::{arg, read_text, thread_cpu_seconds, tokenizer_from_ranks_file, Res};

const USAGE: &str = "encode_bench RANKS PATTERN FILE...";

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    arg(&args, 3, USAGE)?;
    let t = Instant::now();
    let tok = tokenizer_from_ranks_file(&args[1], &args[2])?;
    let built = t.elapsed().as_secs_f64();
    let t = Instant::now();
    tok.encode_ordinary("hello wxyzqq")?;
    println!(
        "from_ranks {:.1} ms, first encode {:.1} ms",
        built * 1e3,
        t.elapsed().as_secs_f64() * 1e3
    );
    let texts: Vec<String> = args[3..].iter().map(|p| read_text(p)).collect::<Res<_>>()?;
    let n: usize = texts.iter().map(|t| t.len()).sum();
    let reps: usize = std::env::var("REPS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let cold = std::env::var("COLD").is_ok_and(|v| v == "1");
    let mut best = 0f64;
    for _ in 0..reps {
        if cold {
            bytepair_core::tokenizer::clear_piece_caches();
        }
        let t = Instant::now();
        let c = thread_cpu_seconds();
        let mut count = 0;
        for text in &texts {
            count += tok.encode_ordinary(text)?.len();
        }
        let cpu = thread_cpu_seconds() - c;
        let wall = t.elapsed().as_secs_f64();
        best = best.max(n as f64 / cpu / 1e6);
        println!(
            "{:.1} MB/s cpu, {:.1} MB/s wall ({count} tokens)",
            n as f64 / cpu / 1e6,
            n as f64 / wall / 1e6
        );
    }
    println!("best {best:.1} MB/s cpu");
    Ok(())
}
