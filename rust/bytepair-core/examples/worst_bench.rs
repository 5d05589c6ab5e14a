//! Worst-case inputs at n and 2n bytes: CPU-time ratio (development aid for the linearity target).
//! Usage: cargo run --release --example worst_bench -- RANKS.tiktoken PATTERN N
#[path = "common/mod.rs"]
mod common;
use common::{arg, thread_cpu_seconds as cpu, tokenizer_from_ranks_file, Res};

const USAGE: &str = "worst_bench RANKS.tiktoken PATTERN N";

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = arg(&args, 3, USAGE)?
        .parse()
        .map_err(|_| format!("N must be an integer; usage: {USAGE}"))?;
    let tok = tokenizer_from_ranks_file(&args[1], &args[2])?;
    let mut seed = 1u64;
    let mut letters = |len: usize| -> String {
        (0..len)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (b'a' + ((seed >> 33) % 26) as u8) as char
            })
            .collect()
    };
    type Make = Box<dyn Fn(usize) -> String>;
    let inputs: Vec<(&str, Make)> = vec![
        ("a", Box::new(|k| "a".repeat(k))),
        ("space", Box::new(|k| " ".repeat(k))),
        ("caret", Box::new(|k| "^".repeat(k))),
        ("newline", Box::new(|k| "\n".repeat(k))),
        ("json", Box::new(|k| "{\"k\":".repeat(k / 5))),
    ];
    let (r1, r2) = (letters(n), letters(2 * n));
    let mut all: Vec<(String, String, String)> = inputs
        .iter()
        .map(|(name, f)| (name.to_string(), f(n), f(2 * n)))
        .collect();
    all.push(("random".into(), r1, r2));
    for (name, a, b) in &all {
        let time = |t: &str| -> Res<f64> {
            let mut best = f64::MAX;
            for _ in 0..3 {
                let c = cpu();
                let ids = tok.encode_ordinary(t)?;
                std::hint::black_box(ids);
                best = best.min(cpu() - c);
            }
            Ok(best)
        };
        let (ta, tb) = (time(a)?, time(b)?);
        println!(
            "{name:8} n: {:.4} s  2n: {:.4} s  ratio {:.2}",
            ta,
            tb,
            tb / ta
        );
    }
    Ok(())
}
