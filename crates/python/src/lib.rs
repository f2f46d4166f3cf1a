/*!
The native module `mipbound._native` of the Python package `mipbound`.

The bindings are thin: they convert arguments (numpy arrays, paths, option values) into the
library's types, call the library, and convert its results and errors back. Every error
becomes a Python exception carrying the command-line tool's one-line message (see
[`errors`]). The pure-Python part of the package (`python/mipbound`) re-exports these
classes and adds what needs only Python: walking a PyTorch module ([`network`] calls
`mipbound._torch`), tables for notebooks and plots.
*/

mod commands;
mod domains;
mod errors;
mod maps;
mod network;
mod records;
mod regions;
mod worker;

use pyo3::prelude::*;

/// The native module: `Network`, the commands (with `map` and `local`), the region stream
/// and the records.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", mipbound_experiment::VERSION)?;
    m.add_class::<network::PyNetwork>()?;
    m.add_class::<regions::PyRegionStream>()?;
    m.add_function(wrap_pyfunction!(commands::count, m)?)?;
    m.add_function(wrap_pyfunction!(commands::estimate, m)?)?;
    m.add_function(wrap_pyfunction!(commands::bounds, m)?)?;
    m.add_function(wrap_pyfunction!(commands::inspect, m)?)?;
    m.add_function(wrap_pyfunction!(maps::map, m)?)?;
    m.add_function(wrap_pyfunction!(maps::local, m)?)?;
    m.add_function(wrap_pyfunction!(records::records_json, m)?)?;
    m.add_function(wrap_pyfunction!(records::records_table, m)?)?;
    m.add_function(wrap_pyfunction!(records::study_charts, m)?)?;
    Ok(())
}
