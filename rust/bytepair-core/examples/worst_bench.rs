//! Worst-case inputs at n and 2n bytes: CPU-time ratio (development aid for the linearity target).
//! Usage: cargo run --release --example worst_bench -- RANKS.tiktoken PATTERN N
use base64::Engine;
use bytepair_core::Tokenizer;

fn cpu() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
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
    let n: usize = args[3].parse().expect("n");
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
        let time = |t: &str| {
            let mut best = f64::MAX;
            for _ in 0..3 {
                let c = cpu();
                let ids = tok.encode_ordinary(t).expect("encode");
                std::hint::black_box(ids);
                best = best.min(cpu() - c);
            }
            best
        };
        let (ta, tb) = (time(a), time(b));
        println!(
            "{name:8} n: {:.4} s  2n: {:.4} s  ratio {:.2}",
            ta,
            tb,
            tb / ta
        );
    }
}
