//! The HDF5 recorder: one file per run, readable by h5py and by
//! `xarray.open_dataset(path, engine="h5netcdf", group=G)` with named
//! dimensions and coordinates (netCDF-4 dimension scales).
//!
//! Groups (see `docs/hdf5-layout.md`):
//! - `/curves`: per-epoch means, dimension `epoch`;
//! - `/val_per_epoch`: every validation sample's loss at every epoch end
//!   (`epoch x val_sample`), for the outlier analysis;
//! - `/checkpoints`: at log-spaced iterations, per-sample losses of the
//!   three sets, their loss histograms, and per-layer weight and bias
//!   histograms and norms.
//!
//! The root carries the provenance attributes and a `status` that is
//! `running` until the run ends as `complete`, `interrupted` or
//! `diverged`. Every dataset is chunked and compressed (shuffle + gzip).

mod h5ds;
pub mod hist;

use std::path::{Path, PathBuf};

use hdf5::types::VarLenUnicode;
use hdf5::{Dataset, Extent, Group, H5Type, SimpleExtents};
use ndarray::{s, ArrayView1, ArrayView2, ArrayView3};

use crate::config::RunConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::model::{LayerSpan, Shape};
use crate::train::{EpochMetrics, Observer, PerSample, Sets, Status, Trainer};
use hist::Bins;

/// Which per-sample values are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum RecordSamples {
    /// Per-sample losses at checkpoints, and validation losses at every epoch.
    All,
    /// Per-sample losses at checkpoints only.
    Checkpoints,
    /// Only means, histograms and norms.
    None,
}

/// What the recorder writes, and how finely.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct RecordOpts {
    /// Per-sample records.
    pub samples: RecordSamples,
    /// Checkpoints per decade of iterations.
    pub per_decade: u32,
    /// Loss histogram: lowest inner edge.
    pub loss_lo: f64,
    /// Loss histogram: highest inner edge.
    pub loss_hi: f64,
    /// Loss histogram: bins per decade.
    pub loss_bins_per_decade: usize,
    /// Weight histograms: bins over `[-r, r]`, `r = weight_range / sqrt(fan_in)`.
    pub weight_bins: usize,
    /// See `weight_bins`.
    pub weight_range: f64,
}

impl Default for RecordOpts {
    fn default() -> Self {
        RecordOpts {
            samples: RecordSamples::All,
            per_decade: 20,
            loss_lo: 1e-8,
            loss_hi: 1e3,
            loss_bins_per_decade: 10,
            weight_bins: 200,
            weight_range: 16.0,
        }
    }
}

/// The checkpoint iterations: 0, then `round(10^(k / per_decade))` for
/// `k = 0, 1, ...`, without repeats.
#[derive(Clone, Debug)]
pub struct Schedule {
    per_decade: u32,
    k: u32,
    next: u64,
}

impl Schedule {
    /// Starts at iteration 0.
    pub fn new(per_decade: u32) -> Self {
        Schedule {
            per_decade: per_decade.max(1),
            k: 0,
            next: 0,
        }
    }
    /// Whether `it` is a checkpoint (call with non-decreasing `it`).
    pub fn is_due(&mut self, it: u64) -> bool {
        if it < self.next {
            return false;
        }
        let due = it == self.next;
        while self.next <= it {
            self.next = 10f64.powf(self.k as f64 / self.per_decade as f64).round() as u64;
            self.k += 1;
        }
        due
    }
}

fn h5(path: &Path, what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Io, format!("{}: {what}: {e}", path.display()))
}

/// Writes a string attribute.
fn attr_str(loc: &hdf5::Location, name: &str, v: &str) -> hdf5::Result<()> {
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

/// Grows `ds` along axis 0 to `row + 1` and writes `row`.
fn put1<T: H5Type>(ds: &Dataset, row: usize, v: T) -> hdf5::Result<()> {
    ds.resize(row + 1)?;
    ds.write_slice(ArrayView1::from(&[v][..]), s![row..row + 1])
}

fn put2<T: H5Type>(ds: &Dataset, row: usize, v: &[T]) -> hdf5::Result<()> {
    ds.resize((row + 1, v.len()))?;
    let a =
        ArrayView2::from_shape((1, v.len()), v).map_err(|e| hdf5::Error::from(e.to_string()))?;
    ds.write_slice(a, s![row..row + 1, ..])
}

fn put3<T: H5Type>(ds: &Dataset, row: usize, v: &[T], d1: usize, d2: usize) -> hdf5::Result<()> {
    ds.resize((row + 1, d1, d2))?;
    let a = ArrayView3::from_shape((1, d1, d2), v).map_err(|e| hdf5::Error::from(e.to_string()))?;
    ds.write_slice(a, s![row..row + 1, .., ..])
}

/// The per-set datasets of `/checkpoints`.
struct SetVars {
    loss: Option<Dataset>,
    correct: Option<Dataset>,
    hist: Dataset,
    nan: Dataset,
}

/// Records one run into an HDF5 file; an [`Observer`] of the loop.
pub struct Recorder {
    path: PathBuf,
    file: hdf5::File,
    opts: RecordOpts,
    layers: Vec<LayerSpan>,
    steps_per_epoch: f64,
    // /curves
    c_epoch: Dataset,
    c_vars: Vec<Dataset>,
    // /val_per_epoch
    v_epoch: Option<Dataset>,
    v_loss: Option<Dataset>,
    v_correct: Option<Dataset>,
    // /checkpoints
    k_iter: Dataset,
    k_epoch: Dataset,
    k_sets: Vec<SetVars>,
    k_whist: Dataset,
    k_bhist: Dataset,
    k_norms: Vec<Dataset>,
    loss_bins: Bins,
    weight_bins: Vec<Bins>,
    n_epochs: usize,
    n_ckpt: usize,
    schedule: Schedule,
    counts: Vec<u64>,
    wcounts: Vec<u64>,
    bcounts: Vec<u64>,
}

/// `2026-11-27T14:03:05Z` for the current time.
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + (m <= 2) as i64;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

impl Recorder {
    /// Creates `path` (refused if it exists, unless `force`) and writes
    /// the provenance, the coordinates and every dataset, empty.
    pub fn create(
        path: &Path,
        force: bool,
        cfg: &RunConfig,
        sets: &Sets<'_>,
        opts: RecordOpts,
        threads: usize,
    ) -> Result<Self> {
        if path.exists() && !force {
            return Err(Error::usage(format!(
                "{}: already exists; pass --force to overwrite it",
                path.display()
            )));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.is_dir() {
                return Err(Error::new(
                    ErrorKind::Io,
                    format!("{}: the output folder does not exist", dir.display()),
                ));
            }
        }
        let file =
            hdf5::File::create(path).map_err(|e| h5(path, "cannot create the output file", e))?;
        Self::lay_out(path, file, cfg, sets, opts, threads)
            .map_err(|e| h5(path, "cannot write the output file", e))
    }

    fn lay_out(
        path: &Path,
        file: hdf5::File,
        cfg: &RunConfig,
        sets: &Sets<'_>,
        opts: RecordOpts,
        threads: usize,
    ) -> hdf5::Result<Self> {
        let shape: Shape = cfg.shape;
        let layers = shape.layers();
        // Provenance.
        let root: &hdf5::Location = &file;
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
            &serde_json::to_string(&opts).unwrap_or_default(),
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
        attr_str(root, "cpu", &crate::bench::cpu_model())?;
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
        let (mut v_epoch, mut v_loss, mut v_correct) = (None, None, None);
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
            v_loss = Some(var::<f32>(
                &g,
                "loss",
                &[&e, &vs],
                "1",
                "per-sample cross-entropy loss (nats), validation set",
            )?);
            v_correct = Some(var::<u8>(
                &g,
                "correct",
                &[&e, &vs],
                "1",
                "1 if the sample is classified correctly",
            )?);
            v_epoch = Some(e);
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
        let k_epoch = var::<f64>(
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
        let mut k_sets = vec![];
        for (i, n) in set_names.iter().enumerate() {
            let (mut loss, mut correct) = (None, None);
            if opts.samples != RecordSamples::None {
                let sc = sample_coord(&g, i)?;
                loss = Some(var::<f32>(
                    &g,
                    &format!("{n}_loss"),
                    &[&k_iter, &sc],
                    "1",
                    &format!("per-sample cross-entropy loss (nats), {}", set_long[i]),
                )?);
                correct = Some(var::<u8>(
                    &g,
                    &format!("{n}_correct"),
                    &[&k_iter, &sc],
                    "1",
                    "1 if the sample is classified correctly",
                )?);
            }
            let hist = var::<u64>(
                &g,
                &format!("{n}_loss_hist"),
                &[&k_iter, &lb],
                "1",
                &format!("samples per loss bin, {}", set_long[i]),
            )?;
            let nan = var::<u64>(
                &g,
                &format!("{n}_loss_nan"),
                &[&k_iter],
                "1",
                "samples whose loss is NaN",
            )?;
            k_sets.push(SetVars {
                loss,
                correct,
                hist,
                nan,
            });
        }
        let layer = coord::<i64>(
            &g,
            "layer",
            Some(layers.len()),
            "1",
            "layer (0 = first hidden, last = output)",
        )?;
        layer.write_raw(&(0..layers.len() as i64).collect::<Vec<_>>())?;
        let weight_bins: Vec<Bins> = layers
            .iter()
            .map(|l| {
                Bins::symmetric(
                    opts.weight_range / (l.fan_in as f64).sqrt(),
                    opts.weight_bins,
                )
            })
            .collect();
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
        let flat =
            |f: &dyn Fn(&Bins) -> Vec<f64>| weight_bins.iter().flat_map(f).collect::<Vec<f64>>();
        wlo.write_raw(&flat(&|b| b.lower()))?;
        whi.write_raw(&flat(&|b| b.upper()))?;
        let k_whist = var::<u64>(
            &g,
            "weight_hist",
            &[&k_iter, &layer, &wb],
            "1",
            "weights per bin, per layer",
        )?;
        let k_bhist = var::<u64>(
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

        let steps_per_epoch = sets.split.train.len().div_ceil(cfg.batch_size) as f64;
        file.flush()?;
        Ok(Recorder {
            path: path.to_path_buf(),
            file,
            opts,
            layers,
            steps_per_epoch,
            c_epoch,
            c_vars,
            v_epoch,
            v_loss,
            v_correct,
            k_iter,
            k_epoch,
            k_sets,
            k_whist,
            k_bhist,
            k_norms,
            counts: vec![0; loss_bins.len()],
            loss_bins,
            wcounts: vec![0; nb * weight_bins.len()],
            bcounts: vec![0; nb * weight_bins.len()],
            weight_bins,
            n_epochs: 0,
            n_ckpt: 0,
            schedule: Schedule::new(opts.per_decade),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write_epoch(&mut self, m: &EpochMetrics, per: &PerSample) -> hdf5::Result<()> {
        let e = self.n_epochs;
        put1(&self.c_epoch, e, m.epoch as i64)?;
        put1(&self.c_vars[0], e, m.iteration as i64)?;
        put1(&self.c_vars[1], e, m.wall_s)?;
        for (k, s) in [m.train, m.val, m.eval].iter().enumerate() {
            put1(&self.c_vars[2 + 2 * k], e, s.loss)?;
            put1(&self.c_vars[3 + 2 * k], e, s.acc)?;
        }
        if let (Some(ep), Some(l), Some(c)) = (&self.v_epoch, &self.v_loss, &self.v_correct) {
            put1(ep, e, m.epoch as i64)?;
            put2(l, e, &per.val.loss)?;
            put2(c, e, &per.val.correct)?;
        }
        self.n_epochs += 1;
        self.file.flush()
    }

    fn write_checkpoint(
        &mut self,
        iteration: u64,
        per: &PerSample,
        t: &Trainer,
    ) -> hdf5::Result<()> {
        let r = self.n_ckpt;
        put1(&self.k_iter, r, iteration as i64)?;
        put1(&self.k_epoch, r, iteration as f64 / self.steps_per_epoch)?;
        for (sv, ev) in self.k_sets.iter().zip([&per.train, &per.val, &per.eval]) {
            if let (Some(l), Some(c)) = (&sv.loss, &sv.correct) {
                put2(l, r, &ev.loss)?;
                put2(c, r, &ev.correct)?;
            }
            let nan = self.loss_bins.count(&ev.loss, &mut self.counts);
            put2(&sv.hist, r, &self.counts)?;
            put1(&sv.nan, r, nan)?;
        }
        let nb = self.weight_bins[0].len();
        let nl = self.layers.len();
        let mut norms = vec![vec![0.0f64; nl]; 4];
        for (li, (l, bins)) in self.layers.iter().zip(&self.weight_bins).enumerate() {
            let (w, b) = (&t.params[l.w_range()], &t.params[l.b_range()]);
            bins.count(w, &mut self.wcounts[li * nb..(li + 1) * nb]);
            bins.count(b, &mut self.bcounts[li * nb..(li + 1) * nb]);
            norms[0][li] = w.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt();
            norms[1][li] = w.iter().fold(0.0f64, |m, &x| m.max((x as f64).abs()));
            norms[2][li] = b.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt();
            norms[3][li] = b.iter().fold(0.0f64, |m, &x| m.max((x as f64).abs()));
        }
        put3(&self.k_whist, r, &self.wcounts, nl, nb)?;
        put3(&self.k_bhist, r, &self.bcounts, nl, nb)?;
        for (ds, v) in self.k_norms.iter().zip(&norms) {
            put2(ds, r, v)?;
        }
        self.n_ckpt += 1;
        self.file.flush()
    }

    /// Marks the run as ended with `status` and flushes.
    pub fn finish(&mut self, status: Status) -> Result<()> {
        let s = match status {
            Status::Complete => "complete",
            Status::Diverged => "diverged",
            Status::Interrupted => "interrupted",
        };
        let res = (|| {
            attr_str(&self.file, "status", s)?;
            attr_str(&self.file, "finished_at", &utc_now())?;
            self.file.flush()
        })();
        res.map_err(|e| h5(&self.path, "cannot finish the output file", e))
    }

    /// Options in force.
    pub fn opts(&self) -> &RecordOpts {
        &self.opts
    }
}

impl Observer for Recorder {
    fn wants_checkpoint(&mut self, iteration: u64) -> bool {
        self.schedule.is_due(iteration)
    }

    fn checkpoint(&mut self, iteration: u64, per: &PerSample, t: &Trainer) -> Result<()> {
        self.write_checkpoint(iteration, per, t)
            .map_err(|e| h5(&self.path, "cannot write a checkpoint", e))
    }

    fn epoch_end(&mut self, m: &EpochMetrics, per: &PerSample, _t: &Trainer) -> Result<()> {
        self.write_epoch(m, per)
            .map_err(|e| h5(&self.path, "cannot write an epoch", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_is_log_spaced_and_deduplicated() {
        let mut s = Schedule::new(20);
        let due: Vec<u64> = (0..=100).filter(|&i| s.is_due(i)).collect();
        assert_eq!(&due[..6], &[0, 1, 2, 3, 4, 5]);
        assert_eq!(due.last(), Some(&100));
        // 10^(k/20) between 10 and 100 gives 20 distinct values.
        assert_eq!(due.iter().filter(|&&i| (10..100).contains(&i)).count(), 20);
        let mut s = Schedule::new(20);
        assert!(s.is_due(0) && !s.is_due(0));
    }

    #[test]
    fn utc_now_looks_like_iso8601() {
        let t = utc_now();
        assert_eq!(t.len(), 20);
        assert!(t.starts_with("20") && t.ends_with('Z') && t.as_bytes()[10] == b'T');
    }
}
