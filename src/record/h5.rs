//! The HDF5 helpers every file preinterp writes or reads goes through
//! (run files and `sweep.h5`): string and number attributes, CF
//! `units`/`long_name`, NaN `_FillValue` of float variables, netCDF-4
//! coordinates, dimensions and variables, string
//! values, errors about a file, and opening a file that may still be
//! written.

use std::path::Path;

use hdf5::types::{FloatSize, TypeDescriptor, VarLenUnicode};
use hdf5::{Dataset, DatasetBuilderEmpty, Extent, Group, H5Type, SimpleExtents};

use super::h5ds;
use super::schema::{attr, Var};
use crate::error::{Error, ErrorKind};

/// An I/O error about `path`: `PATH: WHAT: E`.
pub fn err(path: &Path, what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Io, format!("{}: {what}: {e}", path.display()))
}

/// An I/O error about `path`: `PATH: E`.
pub(crate) fn path_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Io, format!("{}: {e}", path.display()))
}

/// Strings as HDF5 variable-length UTF-8 values, each NUL replaced by a
/// space (HDF5 strings end at a NUL).
pub(crate) fn unicode<'a>(
    v: impl IntoIterator<Item = &'a str>,
) -> hdf5::Result<Vec<VarLenUnicode>> {
    v.into_iter()
        .map(|s| {
            s.replace('\0', " ")
                .parse()
                .map_err(|e| hdf5::Error::from(format!("{e:?}")))
        })
        .collect()
}

/// Opens `path` for reading; a file still open for writing is read
/// through SWMR.
pub(crate) fn open_read(path: &Path) -> hdf5::Result<hdf5::File> {
    hdf5::File::open(path).or_else(|_| hdf5::File::open_as(path, hdf5::file::OpenMode::ReadSWMR))
}

/// Writes (or overwrites) a string attribute.
pub(crate) fn attr_str(loc: &hdf5::Location, name: &str, v: &str) -> hdf5::Result<()> {
    let v: VarLenUnicode = v
        .replace('\0', " ")
        .parse()
        .map_err(|e| hdf5::Error::from(format!("{e:?}")))?;
    match loc.attr(name) {
        Ok(a) => a.write_scalar(&v),
        Err(_) => loc
            .new_attr::<VarLenUnicode>()
            .create(name)?
            .write_scalar(&v),
    }
}

/// Reads a string attribute.
pub(crate) fn read_attr_str(loc: &hdf5::Location, name: &str) -> hdf5::Result<String> {
    Ok(loc
        .attr(name)?
        .read_scalar::<VarLenUnicode>()?
        .as_str()
        .to_string())
}

/// Writes a numeric attribute.
pub(crate) fn attr_num<T: H5Type + Copy>(
    loc: &hdf5::Location,
    name: &str,
    v: T,
) -> hdf5::Result<()> {
    loc.new_attr::<T>().create(name)?.write_scalar(&v)
}

/// CF `units` and `long_name` of `ds`.
pub(crate) fn describe(ds: &Dataset, v: &Var<'_>) -> hdf5::Result<()> {
    attr_str(ds, attr::UNITS, v.units)?;
    attr_str(ds, attr::LONG_NAME, v.long_name)
}

/// A new dataset of `T` in `g`; a float one gets NaN as its fill value
/// (the creation property netCDF reads as `_FillValue`), so an element
/// never written reads as missing rather than as zero.
pub(crate) fn new_var<T: H5Type>(g: &Group) -> DatasetBuilderEmpty {
    let b = g.new_dataset::<T>();
    match T::type_descriptor() {
        TypeDescriptor::Float(FloatSize::U4) => b.fill_value(f32::NAN),
        TypeDescriptor::Float(FloatSize::U8) => b.fill_value(f64::NAN),
        _ => b,
    }
}

/// The `_FillValue` attribute (NaN, of the variable's own type) of a
/// float dataset made by [`new_var`]; nothing for other types.
pub(crate) fn fill_attr<T: H5Type>(ds: &Dataset) -> hdf5::Result<()> {
    match T::type_descriptor() {
        TypeDescriptor::Float(FloatSize::U4) => attr_num(ds, attr::FILL_VALUE, f32::NAN),
        TypeDescriptor::Float(FloatSize::U8) => attr_num(ds, attr::FILL_VALUE, f64::NAN),
        _ => Ok(()),
    }
}

/// How long a coordinate is.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Len {
    /// Fixed.
    Fixed(usize),
    /// Growing by appends (epochs, checkpoints).
    Growing,
}

/// A 1-D coordinate (dimension scale) `v`.
pub(crate) fn coord<T: H5Type>(g: &Group, v: &Var<'_>, len: Len) -> hdf5::Result<Dataset> {
    let b = g.new_dataset::<T>();
    let ds = match len {
        Len::Fixed(n) => b
            .shape(n)
            .chunk(n.clamp(1, 1 << 16))
            .shuffle()
            .deflate(4)
            .create(v.name)?,
        Len::Growing => b
            .shape(SimpleExtents::from_vec(vec![Extent::resizable(0)]))
            .chunk(256)
            .shuffle()
            .deflate(4)
            .create(v.name)?,
    };
    describe(&ds, v)?;
    h5ds::set_scale(&ds, v.name)?;
    Ok(ds)
}

/// A fixed coordinate `v` holding `values`.
pub(crate) fn coord_values<T: H5Type>(
    g: &Group,
    v: &Var<'_>,
    values: &[T],
) -> hdf5::Result<Dataset> {
    let ds = coord::<T>(g, v, Len::Fixed(values.len()))?;
    ds.write_raw(values)?;
    Ok(ds)
}

/// A variable `v` over the given dimension scales, growing along the
/// first when it is a growing coordinate (one row per chunk when the
/// variable has more dimensions, 256 rows otherwise).
pub fn var<T: H5Type>(g: &Group, v: &Var<'_>, dims: &[&Dataset]) -> hdf5::Result<Dataset> {
    let mut ext = vec![];
    let mut chunk = vec![];
    for (i, d) in dims.iter().enumerate() {
        let growing = d.is_resizable();
        let n = if growing { 0 } else { d.shape()[0] };
        ext.push(if growing {
            Extent::resizable(0)
        } else {
            Extent::fixed(n)
        });
        chunk.push(if growing && i == 0 && dims.len() > 1 {
            1
        } else if growing {
            256
        } else {
            n.clamp(1, 1 << 14)
        });
    }
    let ds = new_var::<T>(g)
        .shape(SimpleExtents::from_vec(ext))
        .chunk(chunk)
        .shuffle()
        .deflate(4)
        .create(v.name)?;
    describe(&ds, v)?;
    fill_attr::<T>(&ds)?;
    for (i, d) in dims.iter().enumerate() {
        h5ds::attach_scale(&ds, d, i)?;
    }
    Ok(ds)
}

/// A netCDF-4 dimension `name` of `len` without coordinate values: an
/// unwritten dimension scale that netCDF and h5netcdf read as a bare
/// dimension (compressed, as every dataset outside `/state`).
pub(crate) fn dimension(g: &Group, name: &str, len: usize) -> hdf5::Result<Dataset> {
    let ds = g
        .new_dataset::<f32>()
        .shape(len)
        .chunk(len.clamp(1, 1 << 16))
        .shuffle()
        .deflate(4)
        .create(name)?;
    mark_dimension(&ds, len)?;
    Ok(ds)
}

/// Marks the unwritten dataset `ds` as a dimension of `len` without
/// coordinate values, as netCDF-4 does.
pub(crate) fn mark_dimension(ds: &Dataset, len: usize) -> hdf5::Result<()> {
    let label = format!("This is a netCDF dimension but not a netCDF variable.{len:10}");
    h5ds::set_scale(ds, &label)
}

/// A variable `v` holding `values` over the given fixed dimensions.
pub(crate) fn var_values<T: H5Type>(
    g: &Group,
    v: &Var<'_>,
    dims: &[&Dataset],
    values: &[T],
) -> hdf5::Result<Dataset> {
    let ds = var::<T>(g, v, dims)?;
    ds.write_raw(values)?;
    Ok(ds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unicode_replaces_nul_and_errors_name_the_file() {
        let v = unicode(["run-1", "a\0b"]).unwrap();
        let v: Vec<&str> = v.iter().map(|s| s.as_str()).collect();
        assert_eq!(v, ["run-1", "a b"]);
        let e = path_err(Path::new("/x/sweep.h5"), "boom");
        assert_eq!(e.to_string(), "/x/sweep.h5: boom");
        assert_eq!(e.kind(), ErrorKind::Io);
    }
}
