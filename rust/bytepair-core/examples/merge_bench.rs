//! Times BPE merges alone: the distinct pieces of the files that are not tokens (what a piece cache misses on
//! first sight), grouped by length, each encoded once per pass (no cache).
//! Usage: cargo run --release --example merge_bench -- RANKS.tiktoken PATTERN FILE...
#[path = "common/mod.rs"]
mod common;
use common::{arg, ranks_from_file, read_text, thread_cpu_seconds, Res};

const USAGE: &str = "merge_bench RANKS.tiktoken PATTERN FILE...";

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    let ranks = ranks_from_file(arg(&args, 1, USAGE)?)?;
    let map = bytepair_core::encode::RankMap::new(&ranks);
    let pre = bytepair_core::pretokenize::PreTokenizer::new(arg(&args, 2, USAGE)?)?;
    arg(&args, 3, USAGE)?;
    let mut seen = std::collections::HashSet::new();
    let mut groups: Vec<Vec<Vec<u8>>> = vec![Vec::new(); 4];
    for path in &args[3..] {
        let text = read_text(path)?;
        pre.split(&text, |p| {
            let b = p.as_bytes();
            if b.len() > 1 && !ranks.contains_key(b) && seen.insert(b.to_vec()) {
                let g = match b.len() {
                    0..=8 => 0,
                    9..=15 => 1,
                    16..=31 => 2,
                    _ => 3,
                };
                groups[g].push(b.to_vec());
            }
        })?;
    }
    let mut out = Vec::new();
    bytepair_core::encode::encode_piece(&map, b"warm up the pair table", &mut out);
    let reps: usize = std::env::var("REPS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    // LIMIT=k keeps k pieces per group and repeats them (a hot working set: compute cost without cache misses)
    let limit: usize = std::env::var("LIMIT")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(usize::MAX);
    // MODE=get times the whole-piece lookup alone
    let get_only = std::env::var("MODE").is_ok_and(|m| m == "get");
    for (g, name) in ["2-8", "9-15", "16-31", "32+"].iter().enumerate() {
        let mut pieces = groups[g].clone();
        if pieces.len() > limit {
            let one: Vec<Vec<u8>> = pieces[..limit].to_vec();
            pieces = (0..(groups[g].len() / limit))
                .flat_map(|_| one.clone())
                .collect();
        }
        let pieces = &pieces;
        if pieces.is_empty() {
            continue;
        }
        let bytes: usize = pieces.iter().map(|p| p.len()).sum();
        let mut best = f64::MAX;
        for _ in 0..reps {
            let c = thread_cpu_seconds();
            if get_only {
                for p in pieces {
                    out.push(map.get(p).unwrap_or(0));
                }
                out.clear();
            } else {
                for p in pieces {
                    out.clear();
                    bytepair_core::encode::encode_piece(&map, p, &mut out);
                }
            }
            best = best.min(thread_cpu_seconds() - c);
        }
        println!(
            "{name:>6} bytes: {:6} pieces, {:6.1} ns/piece, {:5.2} ns/byte",
            pieces.len(),
            best * 1e9 / pieces.len() as f64,
            best * 1e9 / bytes as f64
        );
    }
    Ok(())
}
