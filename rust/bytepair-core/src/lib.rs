//! bytepair-core: byte-level BPE pre-tokenization, training, encoding and decoding. Pure Rust, no Python.
//!
//! - [`pretokenize`]: the regex pre-tokenizer (tiktoken's gpt2, cl100k and o200k patterns, or a custom regex).
//! - [`special`]: special-token splitting, leftmost-longest.
//! - [`encode`]: BPE on one piece (tiktoken's rule), on ranks through a pair map; no input is quadratic; the
//!   per-thread piece caches, and the cuts of long pieces of wide chars.
//! - [`tokenizer`]: the [`Tokenizer`]: ranks, ids, specials, encode and decode.
//! - [`batch`]: padding, truncation and attention masks for model-ready batches.
//! - [`train`]: the BPE trainer (CS336 tie rule, incremental pair counts).
pub mod batch;
pub mod counts;
pub mod encode;
pub mod error;
pub mod formats;
pub mod pretokenize;
pub mod reader;
pub mod scan;
pub mod special;
pub mod tokenizer;
pub mod train;

pub use error::{Error, Result};
pub use special::Allowed;
pub use tokenizer::Tokenizer;
