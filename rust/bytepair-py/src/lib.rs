//! pyo3 binding: converts arguments, releases the GIL around hot loops, maps core errors onto Python exceptions.
use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

create_exception!(bytepair, BytepairError, PyValueError, "Base class of every error bytepair raises (a ValueError).");
create_exception!(bytepair, DisallowedSpecialError, BytepairError, "Special-token text in the input that was not allowed.");
create_exception!(bytepair, FormatError, BytepairError, "A file or serialized tokenizer that is corrupt, truncated, inconsistent or of an unsupported version.");

#[pymodule(gil_used = false)]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("BytepairError", py.get_type::<BytepairError>())?;
    m.add("DisallowedSpecialError", py.get_type::<DisallowedSpecialError>())?;
    m.add("FormatError", py.get_type::<FormatError>())?;
    Ok(())
}
