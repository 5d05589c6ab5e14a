//! File formats: bytepair's own versioned JSON format ([`native`]) and tiktoken ranks files ([`tiktoken`]).
//!
//! Readers take the file's bytes and a `source` (the file name) that every error message starts with; they return
//! [`crate::Error::Format`] for anything corrupt, truncated, of the wrong version or inconsistent.
pub mod native;
pub mod tiktoken;

use crate::error::Error;

/// A format error that starts with the source (file name).
pub(crate) fn bad(source: &str, msg: impl std::fmt::Display) -> Error {
    Error::Format(format!("{source}: {msg}"))
}

/// Short printable form of token bytes for messages.
pub(crate) fn show(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    if s.chars().count() > 40 {
        format!("{:?}...", s.chars().take(40).collect::<String>())
    } else {
        format!("{s:?}")
    }
}
