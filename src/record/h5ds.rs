//! netCDF-4 dimension scales (HDF5's high-level H5DS API), which
//! hdf5-metno does not bind: `H5DSset_scale` marks a 1-D coordinate
//! dataset as the scale of a named dimension, `H5DSattach_scale` ties a
//! variable's axis to it. With them h5netcdf/xarray see named dimensions
//! with coordinate values. Linked from `libhdf5_hl` (the `hl` feature of
//! hdf5-metno-sys); every call runs under hdf5-metno's global lock.

use std::ffi::CString;
use std::os::raw::{c_char, c_uint};

use hdf5_sys::h5::herr_t;
use hdf5_sys::h5i::hid_t;

extern "C" {
    fn H5DSset_scale(dsid: hid_t, dimname: *const c_char) -> herr_t;
    fn H5DSattach_scale(did: hid_t, dsid: hid_t, idx: c_uint) -> herr_t;
}

/// Makes `ds` the dimension scale of the dimension `name`.
pub fn set_scale(ds: &hdf5::Dataset, name: &str) -> hdf5::Result<()> {
    let c = CString::new(name).map_err(|e| hdf5::Error::from(e.to_string()))?;
    let rc = hdf5::sync::sync(|| unsafe { H5DSset_scale(ds.id(), c.as_ptr()) });
    if rc < 0 {
        return Err(format!("H5DSset_scale({name}) failed").into());
    }
    Ok(())
}

/// Attaches the scale `scale` to axis `axis` of `ds`.
pub fn attach_scale(ds: &hdf5::Dataset, scale: &hdf5::Dataset, axis: usize) -> hdf5::Result<()> {
    let rc = hdf5::sync::sync(|| unsafe { H5DSattach_scale(ds.id(), scale.id(), axis as c_uint) });
    if rc < 0 {
        return Err(format!("H5DSattach_scale(axis {axis}) failed").into());
    }
    Ok(())
}
