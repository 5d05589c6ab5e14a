//! bytepair-core: byte-level BPE pre-tokenization, training, encoding and decoding. Pure Rust, no Python.
pub mod error;
pub use error::Error;
