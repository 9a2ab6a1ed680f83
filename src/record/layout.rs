//! The run file's layout: every attribute, coordinate and (empty)
//! dataset, created before SWMR writing starts, and the helpers that
//! write rows into the growing datasets.

use hdf5::types::VarLenUnicode;
use hdf5::{Dataset, Extent, Group, H5Type, SimpleExtents};

use super::hist::Bins;
use super::{h5ds, utc_now, weight_bins, RecordOpts, RecordSamples};
use crate::config::RunConfig;
use crate::model::Shape;
use crate::train::Sets;

/// Writes a string attribute.
pub(super) fn attr_str(loc: &hdf5::Location, name: &str, v: &str) -> hdf5::Result<()> {
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

fn attr_num<T: H5Type + Copy>(loc: &hdf5::Location, name: &str, v: T) -> hdf5::Result<()> {
    loc.new_attr::<T>().create(name)?.write_scalar(&v)
}

/// CF `units` and `long_name`.
fn describe(ds: &Dataset, units: &str, long_name: &str) -> hdf5::Result<()> {
    attr_str(ds, "units", units)?;
    attr_str(ds, "long_name", long_name)
}

/// A 1-D coordinate (dimension scale) named `name`, `len` long, or
/// growing when `len` is `None`.
fn coord<T: H5Type>(
    g: &Group,
    name: &str,
    len: Option<usize>,
    units: &str,
    long_name: &str,
) -> hdf5::Result<Dataset> {
    let b = g.new_dataset::<T>();
    let ds = match len {
        Some(n) => b
            .shape(n)
            .chunk(n.clamp(1, 1 << 16))
            .shuffle()
            .deflate(4)
            .create(name)?,
        None => b
            .shape(SimpleExtents::from_vec(vec![Extent::resizable(0)]))
            .chunk(256)
            .shuffle()
            .deflate(4)
            .create(name)?,
    };
    describe(&ds, units, long_name)?;
    h5ds::set_scale(&ds, name)?;
    Ok(ds)
}

/// A variable over the given dimension scales, growing along the first
/// when it is a growing coordinate.
fn var<T: H5Type>(
    g: &Group,
    name: &str,
    dims: &[&Dataset],
    units: &str,
    long_name: &str,
) -> hdf5::Result<Dataset> {
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
    let ds = g
        .new_dataset::<T>()
        .shape(SimpleExtents::from_vec(ext))
        .chunk(chunk)
        .shuffle()
        .deflate(4)
        .create(name)?;
    describe(&ds, units, long_name)?;
    for (i, d) in dims.iter().enumerate() {
        h5ds::attach_scale(&ds, d, i)?;
    }
    Ok(ds)
}

/// Creates every attribute, coordinate and (empty) dataset of a run file.
pub(super) fn lay_out(
    file: &hdf5::File,
    cfg: &RunConfig,
    sets: &Sets<'_>,
    opts: &RecordOpts,
    threads: usize,
) -> hdf5::Result<()> {
    let shape: Shape = cfg.shape;
    let layers = shape.layers();
    // Provenance.
    let root: &hdf5::Location = file;
    attr_str(root, "Conventions", "CF-1.8")?;
    attr_str(root, "title", &format!("preinterp run: {}", cfg.title()))?;
    attr_str(root, "tool", "preinterp")?;
    attr_str(root, "tool_version", env!("CARGO_PKG_VERSION"))?;
    attr_str(
        root,
        "command_line",
        &std::env::args().collect::<Vec<_>>().join(" "),
    )?;
    attr_str(
        root,
        "config",
        &serde_json::to_string(cfg).unwrap_or_default(),
    )?;
    attr_str(
        root,
        "record_options",
        &serde_json::to_string(opts).unwrap_or_default(),
    )?;
    attr_num(root, "seed", cfg.seed as i64)?;
    attr_num(root, "threads", threads as i64)?;
    attr_str(root, "dataset", &sets.data.spec.label())?;
    let files: Vec<String> = sets
        .data
        .files
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    attr_str(root, "dataset_files", &files.join("\n"))?;
    attr_str(root, "dataset_sha256", &sets.data.sha256.join("\n"))?;
    attr_str(root, "cpu", &crate::machine::cpu_model())?;
    attr_str(root, "simd", crate::kernels::simd_level())?;
    attr_str(root, "started_at", &utc_now())?;
    attr_str(root, "finished_at", "")?;
    attr_str(root, "status", "running")?;
    attr_str(
        root,
        "loss_definition",
        "per-sample cross-entropy log1p(sum_{j!=y} exp(z_j - z_y)) in nats, computed stably in float32",
    )?;

    let set_names = ["train", "val", "eval"];
    let set_long = [
        "training set",
        "validation set (held out of the training pool)",
        "evaluation set (official test set)",
    ];
    let set_idx: [&[u32]; 3] = [&sets.split.train, &sets.split.val, &sets.eval];
    let sample_coord = |g: &Group, i: usize| -> hdf5::Result<Dataset> {
        let name = format!("{}_sample", set_names[i]);
        let src = if i == 2 { "test" } else { "training" };
        let ds = coord::<u32>(
            g,
            &name,
            Some(set_idx[i].len()),
            "1",
            &format!(
                "index of the {} sample in the {src} file of the dataset",
                set_long[i]
            ),
        )?;
        ds.write_raw(set_idx[i])?;
        Ok(ds)
    };

    // /curves
    let g = file.create_group("curves")?;
    let c_epoch = coord::<i64>(
        &g,
        "epoch",
        None,
        "1",
        "epochs completed (0 = before training)",
    )?;
    let mut c_vars = vec![var::<i64>(
        &g,
        "iteration",
        &[&c_epoch],
        "1",
        "parameter updates completed",
    )?];
    c_vars.push(var::<f64>(
        &g,
        "wall_time",
        &[&c_epoch],
        "s",
        "seconds since training started",
    )?);
    for (i, n) in set_names.iter().enumerate() {
        c_vars.push(var::<f64>(
            &g,
            &format!("{n}_loss"),
            &[&c_epoch],
            "1",
            &format!("mean cross-entropy loss (nats), {}", set_long[i]),
        )?);
        c_vars.push(var::<f64>(
            &g,
            &format!("{n}_accuracy"),
            &[&c_epoch],
            "1",
            &format!("fraction classified correctly, {}", set_long[i]),
        )?);
    }

    // /val_per_epoch
    if opts.samples == RecordSamples::All {
        let g = file.create_group("val_per_epoch")?;
        let e = coord::<i64>(
            &g,
            "epoch",
            None,
            "1",
            "epochs completed (0 = before training)",
        )?;
        let vs = sample_coord(&g, 1)?;
        var::<f32>(
            &g,
            "loss",
            &[&e, &vs],
            "1",
            "per-sample cross-entropy loss (nats), validation set",
        )?;
        var::<u8>(
            &g,
            "correct",
            &[&e, &vs],
            "1",
            "1 if the sample is classified correctly",
        )?;
    }

    // /checkpoints
    let g = file.create_group("checkpoints")?;
    let k_iter = coord::<i64>(
        &g,
        "iteration",
        None,
        "1",
        "parameter updates completed (log-spaced checkpoints)",
    )?;
    var::<f64>(
        &g,
        "epoch",
        &[&k_iter],
        "1",
        "iteration / updates per epoch",
    )?;
    let loss_bins = Bins::log(opts.loss_lo, opts.loss_hi, opts.loss_bins_per_decade);
    let lb = coord::<i64>(
        &g,
        "loss_bin",
        Some(loss_bins.len()),
        "1",
        "loss histogram bin (0 = underflow incl. exact 0, last = overflow)",
    )?;
    lb.write_raw(&(0..loss_bins.len() as i64).collect::<Vec<_>>())?;
    let lo = var::<f64>(
        &g,
        "loss_bin_lower",
        &[&lb],
        "1",
        "lower edge of the loss bin (nats)",
    )?;
    lo.write_raw(&loss_bins.lower())?;
    let hi = var::<f64>(
        &g,
        "loss_bin_upper",
        &[&lb],
        "1",
        "upper edge of the loss bin (nats, exclusive)",
    )?;
    hi.write_raw(&loss_bins.upper())?;
    for (i, n) in set_names.iter().enumerate() {
        if opts.samples != RecordSamples::None {
            let sc = sample_coord(&g, i)?;
            let long = format!("per-sample cross-entropy loss (nats), {}", set_long[i]);
            var::<f32>(&g, &format!("{n}_loss"), &[&k_iter, &sc], "1", &long)?;
            var::<u8>(
                &g,
                &format!("{n}_correct"),
                &[&k_iter, &sc],
                "1",
                "1 if the sample is classified correctly",
            )?;
        }
        let long = format!("samples per loss bin, {}", set_long[i]);
        var::<u64>(&g, &format!("{n}_loss_hist"), &[&k_iter, &lb], "1", &long)?;
        var::<u64>(
            &g,
            &format!("{n}_loss_nan"),
            &[&k_iter],
            "1",
            "samples whose loss is NaN",
        )?;
    }
    let layer = coord::<i64>(
        &g,
        "layer",
        Some(layers.len()),
        "1",
        "layer (0 = first hidden, last = output)",
    )?;
    layer.write_raw(&(0..layers.len() as i64).collect::<Vec<_>>())?;
    let weight_bins: Vec<Bins> = layers.iter().map(|l| weight_bins(l, opts)).collect();
    let nb = weight_bins[0].len();
    let wb = coord::<i64>(
        &g,
        "weight_bin",
        Some(nb),
        "1",
        "weight histogram bin (0 = underflow, last = overflow)",
    )?;
    wb.write_raw(&(0..nb as i64).collect::<Vec<_>>())?;
    let wlo = var::<f64>(
        &g,
        "weight_bin_lower",
        &[&layer, &wb],
        "1",
        "lower edge of the weight bin, per layer",
    )?;
    let whi = var::<f64>(
        &g,
        "weight_bin_upper",
        &[&layer, &wb],
        "1",
        "upper edge of the weight bin, per layer",
    )?;
    let flat = |f: &dyn Fn(&Bins) -> Vec<f64>| weight_bins.iter().flat_map(f).collect::<Vec<f64>>();
    wlo.write_raw(&flat(&|b| b.lower()))?;
    whi.write_raw(&flat(&|b| b.upper()))?;
    var::<u64>(
        &g,
        "weight_hist",
        &[&k_iter, &layer, &wb],
        "1",
        "weights per bin, per layer",
    )?;
    var::<u64>(
        &g,
        "bias_hist",
        &[&k_iter, &layer, &wb],
        "1",
        "biases per bin, per layer (same bins as the weights)",
    )?;
    let mut k_norms = vec![];
    for (n, l) in [
        ("weight_l2", "L2 norm of the layer's weights"),
        ("weight_max_abs", "largest |w| of the layer"),
        ("bias_l2", "L2 norm of the layer's biases"),
        ("bias_max_abs", "largest |b| of the layer"),
    ] {
        k_norms.push(var::<f64>(&g, n, &[&k_iter, &layer], "1", l)?);
    }

    // /state: what a resume needs, overwritten at every epoch end.
    let g = file.create_group("state")?;
    attr_str(&g, "description", "weights (preinterp's in-memory layout), optimiser state and counters at the end of `epoch`; -1 = no epoch completed yet")?;
    let n = shape.n_params();
    for name in ["params", "opt_m", "opt_v"] {
        g.new_dataset::<f32>().shape(n).create(name)?;
    }
    for name in ["opt_step", "iteration"] {
        g.new_dataset::<i64>()
            .shape(1)
            .create(name)?
            .write_raw(&[0i64])?;
    }
    g.new_dataset::<i64>()
        .shape(1)
        .create("epoch")?
        .write_raw(&[-1i64])?;
    g.new_dataset::<f64>()
        .shape(1)
        .create("wall_time")?
        .write_raw(&[0.0f64])?;
    let rng = g.new_dataset::<u64>().shape(1).create("shuffle_seed")?;
    rng.write_raw(&[crate::rng::stream_seed(
        cfg.seed,
        crate::rng::Purpose::Shuffle,
        1,
    )])?;
    attr_str(
        &rng,
        "long_name",
        "RNG state of the next epoch's shuffle: Xoshiro256PlusPlus::seed_from_u64(shuffle_seed) (rand_xoshiro), then a Fisher-Yates shuffle of the training indices",
    )?;
    Ok(())
}
