//! Times the phases of training on files: `cargo run --release --example train_bench -- VOCAB FILES...`
//!
//! Also prints a fingerprint of the merges (FNV-1a over their bytes), to check that a change to the trainer
//! leaves its output exactly as it was.
use std::time::Instant;

use bytepair_core::pretokenize::PreTokenizer;
use bytepair_core::special::SpecialTokens;
use bytepair_core::train::{train, PretokenCounts, TrainOptions};

#[path = "common/mod.rs"]
mod common;
use common::{arg, read_text, thread_cpu_seconds as thread_cpu, Res};

const USAGE: &str = "train_bench VOCAB FILE...";

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let vocab_size: usize = arg(&args, 0, USAGE)?
        .parse()
        .map_err(|_| format!("VOCAB must be an integer; usage: {USAGE}"))?;
    let pretok = PreTokenizer::new("cl100k")?;
    let specials = SpecialTokens::new(vec![])?;
    let t0 = Instant::now();
    let mut counts = PretokenCounts::new();
    let mut bytes = 0usize;
    for f in &args[1..] {
        let text = read_text(f)?;
        bytes += text.len();
        counts.add_texts(&[text], &pretok, &specials)?;
    }
    let t1 = Instant::now();
    let opts = TrainOptions {
        vocab_size,
        special_tokens: vec![],
        min_frequency: 1,
        max_token_length: None,
    };
    let c1 = thread_cpu();
    let t = train(&counts, &opts, &mut |_, _| true)?;
    let t2 = Instant::now();
    eprintln!("merge cpu {:.2}s", thread_cpu() - c1);
    let symbols: usize = counts.counts().keys().map(|k| k.len()).sum();
    eprintln!(
        "{} MB, {} unique pretokens ({} bytes), count {:.3}s, merge {:.3}s, {} merges",
        bytes >> 20,
        counts.len(),
        symbols,
        (t1 - t0).as_secs_f64(),
        (t2 - t1).as_secs_f64(),
        t.merges.len()
    );
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (a, b) in &t.merges {
        for part in [a, b] {
            for &x in part.iter().chain(&[0xffu8]) {
                h = (h ^ x as u64).wrapping_mul(0x100_0000_01b3);
            }
        }
    }
    eprintln!("merges fingerprint {h:016x}");
    Ok(())
}
