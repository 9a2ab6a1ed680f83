//! Weights files: export a model's parameters and import another tool's
//! initialisation. HDF5, one group per layer, PyTorch's layout:
//! `layer{i}/weight` (f32, `out x in`) and `layer{i}/bias` (f32, `out`),
//! `i = 0..=L` with layer `L` the output layer; root attributes `depth`
//! and `width`. From PyTorch with h5py:
//! `f[f"layer{i}/weight"] = lin.weight.detach().numpy()`.

use std::path::Path;

use crate::error::{Error, ErrorKind, Result};
use crate::model::Shape;

fn h5err(path: &Path, what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Io, format!("{}: {what}: {e}", path.display()))
}

/// Writes `params` of `shape` to a new weights file at `path`.
/// Refuses to overwrite an existing file.
pub fn save(path: &Path, shape: &Shape, params: &[f32]) -> Result<()> {
    if path.exists() {
        return Err(Error::new(
            ErrorKind::Usage,
            format!(
                "{}: already exists; remove it or choose another name",
                path.display()
            ),
        ));
    }
    let f = hdf5::File::create(path).map_err(|e| h5err(path, "cannot create weights file", e))?;
    write_group(&f, shape, params).map_err(|e| h5err(path, "cannot write weights", e))?;
    for (k, v) in [("depth", shape.depth), ("width", shape.width)] {
        f.new_attr::<i64>()
            .create(k)
            .and_then(|a| a.write_scalar(&(v as i64)))
            .map_err(|e| h5err(path, "cannot write attribute", e))?;
    }
    Ok(())
}

/// Writes `layer{i}/weight|bias` datasets under `g`.
pub(crate) fn write_group(g: &hdf5::Group, shape: &Shape, params: &[f32]) -> hdf5::Result<()> {
    for (i, l) in shape.layers().iter().enumerate() {
        let lg = g.create_group(&format!("layer{i}"))?;
        lg.new_dataset::<f32>()
            .shape([l.fan_out, l.fan_in])
            .create("weight")?
            .write_raw(&params[l.w_range()])?;
        lg.new_dataset::<f32>()
            .shape([l.fan_out])
            .create("bias")?
            .write_raw(&params[l.b_range()])?;
    }
    Ok(())
}

/// Reads the parameters of `shape` from a weights file (the root group
/// of `path`, or `group` inside it), checking every shape.
pub fn load(path: &Path, group: &str, shape: &Shape) -> Result<Vec<f32>> {
    let f = hdf5::File::open(path).map_err(|e| h5err(path, "cannot open weights file", e))?;
    let g = f
        .group(group)
        .map_err(|e| h5err(path, &format!("no group {group}"), e))?;
    read_group(path, &g, shape)
}

/// Reads `layer{i}/weight|bias` under `g` into one parameter buffer.
pub fn read_group(path: &Path, g: &hdf5::Group, shape: &Shape) -> Result<Vec<f32>> {
    let mut params = vec![0.0f32; shape.n_params()];
    for (i, l) in shape.layers().iter().enumerate() {
        for (name, dims, range) in [
            ("weight", vec![l.fan_out, l.fan_in], l.w_range()),
            ("bias", vec![l.fan_out], l.b_range()),
        ] {
            let key = format!("layer{i}/{name}");
            let ds = g.dataset(&key).map_err(|_| {
                Error::data(
                    path,
                    format!(
                        "has no {key}; a {} model needs layer0..layer{}",
                        shape.label(),
                        shape.depth
                    ),
                )
            })?;
            if ds.shape() != dims {
                return Err(Error::data(
                    path,
                    format!(
                        "{key} has shape {:?}, a {} model needs {dims:?}",
                        ds.shape(),
                        shape.label()
                    ),
                ));
            }
            let v: Vec<f32> = ds
                .read_raw()
                .map_err(|e| h5err(path, &format!("cannot read {key}"), e))?;
            params[range].copy_from_slice(&v);
        }
    }
    if g.dataset(&format!("layer{}/weight", shape.depth + 1))
        .is_ok()
    {
        return Err(Error::data(
            path,
            format!("has more layers than a {} model", shape.label()),
        ));
    }
    Ok(params)
}
