//! HDF5 C calls hdf5-metno does not bind.
//!
//! netCDF-4 dimension scales (HDF5's high-level H5DS API): `H5DSset_scale` marks a 1-D coordinate
//! dataset as the scale of a named dimension, `H5DSattach_scale` ties a
//! variable's axis to it. With them h5netcdf/xarray see named dimensions
//! with coordinate values. Linked from `libhdf5_hl` (the `hl` feature of
//! hdf5-metno-sys); every call runs under hdf5-metno's global lock.

use std::ffi::CString;
use std::os::raw::{c_char, c_uint};

use hdf5_sys::h5::{hbool_t, herr_t};
use hdf5_sys::h5f::{H5Fclose, H5Fopen, H5F_ACC_RDWR};
use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5p::{H5Pclose, H5Pcreate, H5Pset, H5P_CLS_FILE_ACCESS};

extern "C" {
    fn H5DSset_scale(dsid: hid_t, dimname: *const c_char) -> herr_t;
    fn H5DSattach_scale(did: hid_t, dsid: hid_t, idx: c_uint) -> herr_t;
}

/// Makes `ds` the dimension scale of the dimension `name`.
pub(crate) fn set_scale(ds: &hdf5::Dataset, name: &str) -> hdf5::Result<()> {
    let c = CString::new(name).map_err(|e| hdf5::Error::from(e.to_string()))?;
    // SAFETY: `ds.id()` is the id of an open dataset that `ds`, borrowed
    // for the whole call, keeps open; `c` is a NUL-terminated string that
    // outlives the call, which only reads it. The call runs under
    // hdf5-metno's global lock, as every HDF5 call must (the library is
    // not thread-safe), and a failure is a negative return, checked below.
    let rc = hdf5::sync::sync(|| unsafe { H5DSset_scale(ds.id(), c.as_ptr()) });
    if rc < 0 {
        return Err(format!("H5DSset_scale({name}) failed").into());
    }
    Ok(())
}

/// Attaches the scale `scale` to axis `axis` of `ds`.
pub(crate) fn attach_scale(
    ds: &hdf5::Dataset,
    scale: &hdf5::Dataset,
    axis: usize,
) -> hdf5::Result<()> {
    // SAFETY: both ids are of open datasets kept open by the borrows
    // `ds` and `scale` for the whole call; H5DS checks `axis` against
    // `ds`'s rank itself and fails with a negative return (checked
    // below), so an out-of-range axis is an error, not undefined
    // behaviour. The call runs under hdf5-metno's global lock.
    let rc = hdf5::sync::sync(|| unsafe { H5DSattach_scale(ds.id(), scale.id(), axis as c_uint) });
    if rc < 0 {
        return Err(format!("H5DSattach_scale(axis {axis}) failed").into());
    }
    Ok(())
}

/// Clears the "file is open for writing" flags that a writer killed
/// mid-run (SIGKILL, power loss) leaves in the superblock, as `h5clear -s`
/// does (the library's `clear_status_flags` file-access property), so the
/// file can be opened for writing again. The data it holds is what the
/// last flush wrote.
pub(crate) fn clear_status_flags(path: &std::path::Path) -> hdf5::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c =
        CString::new(path.as_os_str().as_bytes()).map_err(|e| hdf5::Error::from(e.to_string()))?;
    let name = CString::new("clear_status_flags").map_err(|e| hdf5::Error::from(e.to_string()))?;
    // SAFETY: under hdf5-metno's global lock: every id used is checked
    // (negative = failure) before use and closed exactly once (`fapl`
    // always, `fid` only when the open succeeded); `name` and `c` are
    // NUL-terminated strings alive for the whole block; `H5Pset` copies
    // the value behind `&mut yes`, a live `hbool_t`, which is the type
    // the library registers `clear_status_flags` with.
    let ok = hdf5::sync::sync(|| unsafe {
        let fapl = H5Pcreate(*H5P_CLS_FILE_ACCESS);
        if fapl < 0 {
            return false;
        }
        let mut yes: hbool_t = 1;
        let set = H5Pset(
            fapl,
            name.as_ptr(),
            &mut yes as *mut hbool_t as *mut std::ffi::c_void,
        ) >= 0;
        let fid = if set {
            H5Fopen(c.as_ptr(), H5F_ACC_RDWR, fapl)
        } else {
            -1
        };
        H5Pclose(fapl);
        fid >= 0 && H5Fclose(fid) >= 0
    });
    if ok {
        Ok(())
    } else {
        Err("could not clear the file's open-for-writing flags".into())
    }
}
