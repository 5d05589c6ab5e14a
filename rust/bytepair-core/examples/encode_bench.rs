//! Encodes files with a tiktoken ranks file and prints MB/s (single thread).
//! Usage: cargo run --release --example encode_bench -- RANKS.tiktoken PATTERN FILE... (PATTERN: cl100k, o200k, gpt2)
use std::time::Instant;

use base64::Engine;
use bytepair_core::Tokenizer;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: encode_bench RANKS PATTERN FILE...");
        std::process::exit(2);
    }
    let raw = std::fs::read_to_string(&args[1]).expect("ranks file");
    let mut ranks = bytepair_core::encode::Ranks::default();
    for line in raw.lines().filter(|l| !l.is_empty()) {
        let (tok, rank) = line.split_once(' ').expect("token rank");
        let tok = base64::engine::general_purpose::STANDARD
            .decode(tok)
            .expect("base64");
        ranks.insert(tok, rank.parse().expect("rank"));
    }
    let tok = Tokenizer::from_ranks(ranks, vec![], &args[2]).expect("tokenizer");
    let texts: Vec<String> = args[3..]
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("text"))
        .collect();
    let n: usize = texts.iter().map(|t| t.len()).sum();
    let reps: usize = std::env::var("REPS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    for _ in 0..reps {
        let t = Instant::now();
        let mut count = 0;
        for text in &texts {
            count += tok.encode_ordinary(text).expect("encode").len();
        }
        let dt = t.elapsed().as_secs_f64();
        println!("{:.1} MB/s ({count} tokens)", n as f64 / dt / 1e6);
    }
}
