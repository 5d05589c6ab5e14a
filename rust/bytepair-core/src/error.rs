//! The one error type of the core. The Python binding maps each variant onto an exception once.
use std::fmt;

/// Everything that can go wrong in the core, with enough detail for a message that names the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// Bad argument or configuration (vocab size too small, duplicate special tokens, ...).
    InvalidArgument(String),
    /// A regex pattern that does not compile; holds the pattern and the regex engine's message.
    Pattern { pattern: String, message: String },
    /// A token id that is negative, too large or unassigned.
    InvalidId(String),
    /// Special-token text found in input where it was not allowed.
    DisallowedSpecial { token: String, offset: usize },
    /// A file or serialized tokenizer that is corrupt, truncated, inconsistent or of the wrong version.
    Format(String),
    /// An input/output error, with the path.
    Io { path: String, message: String },
    /// Input text that is not valid UTF-8: the file (or source) and the byte offset of the first bad byte.
    Utf8 { source: String, offset: u64 },
    /// The caller asked to stop (KeyboardInterrupt).
    Interrupted,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArgument(m) => write!(f, "{m}"),
            Error::Pattern { pattern, message } => {
                write!(f, "pattern {pattern:?} does not compile: {message}")
            }
            Error::InvalidId(m) => write!(f, "{m}"),
            Error::DisallowedSpecial { token, offset } => write!(
                f,
                "encountered text corresponding to disallowed special token {token:?} at character offset \
                 {offset}. Pass allowed_special={{{token:?}}} (or \"all\") to encode it as a special token, \
                 or disallowed_special=() to encode it as normal text"
            ),
            Error::Format(m) => write!(f, "{m}"),
            Error::Io { path, message } => write!(f, "{path}: {message}"),
            Error::Utf8 { source, offset } => {
                write!(f, "{source}: invalid UTF-8 at byte offset {offset}")
            }
            Error::Interrupted => write!(f, "interrupted"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;
