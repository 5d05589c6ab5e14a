//! File-format functions of `bytepair._core`: bytepair's own JSON format and tiktoken ranks files.
//!
//! Parsing and building run with the GIL released; `source` (the file name) starts every error message.
use bytepair_core::formats::{native, tiktoken};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use super::{to_py, PyTokenizer};

/// Reads a bytepair tokenizer file's bytes (raises FormatError naming `source` and the problem).
#[pyfunction]
fn load_bytepair(py: Python<'_>, data: &[u8], source: &str) -> PyResult<PyTokenizer> {
    let inner = py
        .detach(|| native::from_json(data, source))
        .map_err(to_py)?;
    Ok(PyTokenizer::new(inner))
}

/// Serializes a tokenizer to bytepair's JSON format.
#[pyfunction]
fn dump_bytepair<'py>(py: Python<'py>, tok: &PyTokenizer) -> Bound<'py, PyBytes> {
    let s = py.detach(|| native::to_json(&tok.inner));
    PyBytes::new(py, s.as_bytes())
}

/// Builds a tokenizer from the bytes of a (decompressed) tiktoken ranks file.
#[pyfunction]
fn load_tiktoken(
    py: Python<'_>,
    data: &[u8],
    source: &str,
    special_tokens: Vec<(String, u32)>,
    pattern: &str,
) -> PyResult<PyTokenizer> {
    let inner = py
        .detach(|| tiktoken::load(data, source, special_tokens, pattern))
        .map_err(to_py)?;
    Ok(PyTokenizer::new(inner))
}

/// Parses a (decompressed) tiktoken ranks file into `{bytes: rank}`.
#[pyfunction]
fn parse_tiktoken<'py>(py: Python<'py>, data: &[u8], source: &str) -> PyResult<Bound<'py, PyDict>> {
    let ranks = py
        .detach(|| tiktoken::parse_ranks(data, source))
        .map_err(to_py)?;
    let d = PyDict::new(py);
    for (k, v) in ranks {
        d.set_item(PyBytes::new(py, &k), v)?;
    }
    Ok(d)
}

/// `{bytes: id}` of the mergeable tokens, checked to be usable as tiktoken ranks (ids in merge order).
#[pyfunction]
fn tiktoken_ranks<'py>(py: Python<'py>, tok: &PyTokenizer) -> PyResult<Bound<'py, PyDict>> {
    let items = tiktoken::ranks_by_id(&tok.inner).map_err(to_py)?;
    let d = PyDict::new(py);
    for (id, b) in items {
        d.set_item(PyBytes::new(py, b), id)?;
    }
    Ok(d)
}

/// Writes the mergeable tokens as a tiktoken ranks file (`base64 rank` lines, by rank).
#[pyfunction]
fn dump_tiktoken<'py>(py: Python<'py>, tok: &PyTokenizer) -> PyResult<Bound<'py, PyBytes>> {
    let s = py
        .detach(|| tiktoken::write_ranks(&tok.inner))
        .map_err(to_py)?;
    Ok(PyBytes::new(py, s.as_bytes()))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(load_bytepair, m)?)?;
    m.add_function(wrap_pyfunction!(dump_bytepair, m)?)?;
    m.add_function(wrap_pyfunction!(load_tiktoken, m)?)?;
    m.add_function(wrap_pyfunction!(dump_tiktoken, m)?)?;
    m.add_function(wrap_pyfunction!(parse_tiktoken, m)?)?;
    m.add_function(wrap_pyfunction!(tiktoken_ranks, m)?)?;
    Ok(())
}
