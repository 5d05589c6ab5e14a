//! Encodes files with a tiktoken ranks file and prints MB/s (single thread).
//! Usage: cargo run --release --example encode_bench -- RANKS.tiktoken PATTERN FILE... (PATTERN: cl100k, o200k, gpt2)
//!
//! Times are the thread's CPU time (not wall time), so a busy machine slows the numbers less; REPS sets the number
//! of passes and the best is printed last.
use std::time::Instant;

#[path = "common/mod.rs"]
mod common;
use common::{thread_cpu_seconds, tokenizer_from_ranks_file};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: encode_bench RANKS PATTERN FILE...");
        std::process::exit(2);
    }
    let t = Instant::now();
    let tok = tokenizer_from_ranks_file(&args[1], &args[2]);
    let built = t.elapsed().as_secs_f64();
    let t = Instant::now();
    tok.encode_ordinary("hello wxyzqq").expect("encode");
    println!(
        "from_ranks {:.1} ms, first encode {:.1} ms",
        built * 1e3,
        t.elapsed().as_secs_f64() * 1e3
    );
    let texts: Vec<String> = args[3..]
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("text"))
        .collect();
    let n: usize = texts.iter().map(|t| t.len()).sum();
    let reps: usize = std::env::var("REPS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let mut best = 0f64;
    for _ in 0..reps {
        let t = Instant::now();
        let c = thread_cpu_seconds();
        let mut count = 0;
        for text in &texts {
            count += tok.encode_ordinary(text).expect("encode").len();
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
}
