//! Pre-tokenization speed and piece statistics (development aid).
use std::time::Instant;
use bytepair_core::pretokenize::PreTokenizer;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let pt = PreTokenizer::new(&args[1]).unwrap();
    let texts: Vec<String> = args[2..].iter().map(|p| std::fs::read_to_string(p).unwrap()).collect();
    let n: usize = texts.iter().map(|t| t.len()).sum();
    for _ in 0..3 {
        let t = Instant::now();
        let mut count = 0usize;
        for text in &texts { pt.split(text, |p| count += p.len() & 1).unwrap(); }
        println!("scan {:.1} MB/s ({count})", n as f64 / t.elapsed().as_secs_f64() / 1e6);
    }
    let mut hist = [0usize; 6];
    let mut bytes = [0usize; 6];
    let mut distinct = std::collections::HashSet::new();
    for text in &texts { pt.split(text, |p| {
        let b = match p.len() { 0..=4 => 0, 5..=8 => 1, 9..=15 => 2, 16..=32 => 3, 33..=128 => 4, _ => 5 };
        hist[b] += 1; bytes[b] += p.len(); distinct.insert(p.to_string());
    }).unwrap(); }
    println!("pieces by len [<=4,<=8,<=15,<=32,<=128,>128]: {hist:?} bytes {bytes:?} distinct {}", distinct.len());
}
