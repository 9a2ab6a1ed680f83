//! CF metadata beyond `units` and `long_name`, shared by every file
//! preinterp writes (run files, `samples.h5`, `sweep.h5`, `compare.h5`): the global
//! `history`, `source` and `references`; `flag_values` and
//! `flag_meanings` of the `correct` variables; cell `bounds`; and the
//! `coordinates` link to an auxiliary coordinate.

use hdf5::{Dataset, Group, Location};

use super::h5::{self, attr_str, read_attr_str};
use super::schema::{self, attr, Var};
use super::utc_now;

/// This process's command line, as the files record it.
pub(crate) fn command_line() -> String {
    std::env::args().collect::<Vec<_>>().join(" ")
}

/// One line of `history`: `2026-12-04T22:00:00Z: <command line>`.
fn history_line(at: &str, command: &str) -> String {
    format!("{at}: {command}")
}

/// The global attributes CF asks for: `history` (this invocation),
/// `source` and `references`.
pub(crate) fn globals(loc: &Location) -> hdf5::Result<()> {
    attr_str(
        loc,
        attr::HISTORY,
        &history_line(&utc_now(), &command_line()),
    )?;
    attr_str(loc, attr::SOURCE, schema::SOURCE)?;
    attr_str(loc, attr::REFERENCES, schema::REFERENCES)
}

/// Appends this invocation to the run file's `history`. A file written
/// before `history` existed gets its first line from `started_at` and
/// `command_line` (when it has them).
pub(crate) fn append_history(loc: &Location) -> hdf5::Result<()> {
    let old = read_attr_str(loc, attr::HISTORY).ok().or_else(|| {
        let at = read_attr_str(loc, attr::STARTED_AT).ok()?;
        let cmd = read_attr_str(loc, attr::COMMAND_LINE).ok()?;
        Some(history_line(&at, &cmd))
    });
    let line = history_line(&utc_now(), &command_line());
    let all = match old.filter(|o| !o.is_empty()) {
        Some(o) => format!("{o}\n{line}"),
        None => line,
    };
    attr_str(loc, attr::HISTORY, &all)
}

/// `flag_values = 0, 1` (uint8, as the variable) and `flag_meanings` of
/// a `correct` variable.
pub(crate) fn correct_flags(ds: &Dataset) -> hdf5::Result<()> {
    ds.new_attr::<u8>()
        .shape(2)
        .create(attr::FLAG_VALUES)?
        .write_raw(&[0u8, 1])?;
    attr_str(ds, attr::FLAG_MEANINGS, schema::CORRECT_FLAG_MEANINGS)
}

/// `flag_values = 0, 1, .., n - 1` (uint8, as the variable) and the
/// `flag_meanings` words `meanings`, one per value.
pub(crate) fn u8_flags(ds: &Dataset, meanings: &[&str]) -> hdf5::Result<()> {
    let values: Vec<u8> = (0..meanings.len() as u8).collect();
    ds.new_attr::<u8>()
        .shape(values.len())
        .create(attr::FLAG_VALUES)?
        .write_raw(&values)?;
    attr_str(ds, attr::FLAG_MEANINGS, &meanings.join(" "))
}

/// `flag_values = 0, 1` (int64, as the variable) and `flag_meanings` of
/// a 0/1 column of `sweep.h5` (`meanings`: the two words).
pub(crate) fn int_flags(ds: &Dataset, meanings: &str) -> hdf5::Result<()> {
    ds.new_attr::<i64>()
        .shape(2)
        .create(attr::FLAG_VALUES)?
        .write_raw(&[0i64, 1])?;
    attr_str(ds, attr::FLAG_MEANINGS, meanings)
}

/// Names `aux` (in the same group) as an auxiliary coordinate of `ds`.
pub(crate) fn coordinates(ds: &Dataset, aux: &str) -> hdf5::Result<()> {
    attr_str(ds, attr::COORDINATES, aux)
}

/// The bounds variable `v` of the coordinate `coord`: over `dims` and
/// the two-edge dimension `nv` (made on first use in `g`), holding each
/// cell's `(lower, upper)`; `coord` names it in its `bounds` attribute.
pub(crate) fn bounds(
    g: &Group,
    coord: &Dataset,
    v: &Var<'_>,
    dims: &[&Dataset],
    lower: &[f64],
    upper: &[f64],
) -> hdf5::Result<Dataset> {
    let nv = if g.link_exists(schema::BOUNDS_DIM) {
        g.dataset(schema::BOUNDS_DIM)?
    } else {
        h5::dimension(g, schema::BOUNDS_DIM, 2)?
    };
    let mut all = dims.to_vec();
    all.push(&nv);
    let pairs: Vec<f64> = lower
        .iter()
        .zip(upper)
        .flat_map(|(&lo, &hi)| [lo, hi])
        .collect();
    let ds = h5::var_values::<f64>(g, v, &all, &pairs)?;
    attr_str(coord, attr::BOUNDS, v.name)?;
    Ok(ds)
}
