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
//!
//! The parts: [`Layout`] creates a file's groups and datasets, `vars`
//! binds them by name, `write` appends epochs and checkpoints and ends
//! the run, `resume` reads a stopped run's state and rolls its file back
//! to it; [`Schedule`] says when checkpoints fall and [`utc_now`] stamps
//! the times; `cf` writes the CF metadata every file shares (`history`,
//! `source`, `references`, flags, bounds, auxiliary coordinates).

mod append;
pub(crate) mod cf;
pub mod h5;
pub(crate) mod h5ds;
pub mod hist;
mod layout;
pub mod lock;
pub mod read;
mod resume;
pub mod samples;
mod schedule;
pub mod schema;
mod time;
mod vars;
mod write;

use std::path::{Path, PathBuf};

use crate::config::RunConfig;
pub use crate::config::{RecordOpts, RecordSamples};
use crate::error::{Error, Result};
use crate::model::LayerSpan;
use crate::train::{EpochMetrics, Observer, PerSample, Trainer};
use hist::Bins;
pub use layout::Layout;
use lock::WriterLock;
pub(crate) use resume::ResumePoint;
pub(crate) use schedule::Schedule;
pub(crate) use time::utc_now;
use vars::Vars;

/// Records one run into an HDF5 file; an [`Observer`] of the loop.
/// [`Recorder::finish`] ends the run and consumes the recorder.
pub struct Recorder {
    path: PathBuf,
    file: hdf5::File,
    vars: Vars,
    /// Held while recording: tells a live writer from a killed one.
    lock: WriterLock,
    opts: RecordOpts,
    layers: Vec<LayerSpan>,
    steps_per_epoch: f64,
    loss_bins: Bins,
    weight_bins: Vec<Bins>,
    schedule: Schedule,
    counts: Vec<u64>,
    wcounts: Vec<u64>,
    bcounts: Vec<u64>,
    /// Weight L2, weight max |w|, bias L2, bias max |b|: 4 runs of one
    /// value per layer.
    norms: Vec<f64>,
    /// The run's seed, for the saved shuffle state.
    seed: u64,
    /// For the per-epoch loss statistics (one validation set long).
    scratch: Vec<f32>,
    /// One per set of [`schema::calibration::SETS`]: scratch and the last
    /// `T*`, where the next epoch's solve starts.
    calibrators: [crate::stats::Calibrator; 2],
}

/// Whether an existing output file may be replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overwrite {
    /// Refuse (a usage error naming `--force`).
    Refuse,
    /// Replace it.
    Replace,
}

/// Refuses `path` when it exists and may not be replaced, or when its
/// folder does not exist.
pub fn check_output(path: &Path, overwrite: Overwrite) -> Result<()> {
    if path.exists() && overwrite == Overwrite::Refuse {
        return Err(Error::usage(format!(
            "{}: already exists; pass --force to overwrite it",
            path.display()
        )));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            return Err(Error::io(dir, "the output folder does not exist"));
        }
    }
    Ok(())
}

/// A usage error: another live process is writing `path`.
fn busy(path: &Path) -> Error {
    Error::usage(format!(
        "{}: another process is writing this run now; wait for it to finish, or stop it (Ctrl-C) and resume then",
        path.display()
    ))
}

impl Recorder {
    /// Creates `path` (refused if it exists, unless replacing), writes
    /// the provenance, coordinates and every dataset of `layout`, then
    /// switches to SWMR so readers can follow the run.
    pub fn create(path: &Path, overwrite: Overwrite, layout: &Layout<'_>) -> Result<Self> {
        check_output(path, overwrite)?;
        if lock::held_by_another(path) {
            return Err(busy(path));
        }
        // The HDF5 1.10 file format, which SWMR needs, and no newer: a
        // file written by a newer HDF5 (the static-hdf5 build's) stays
        // readable by the 1.10 of Debian 12 and of most clusters.
        let v110 = hdf5::file::LibraryVersion::V110;
        let file = hdf5::File::with_options()
            .with_fapl(|p| p.libver_bounds(v110, v110))
            .create(path)
            .map_err(|e| h5::err(path, "cannot create the output file", e))?;
        layout
            .create(&file)
            .map_err(|e| h5::err(path, "cannot write the output file", e))?;
        let vars = Vars::bind(&file, layout.opts)
            .map_err(|e| h5::err(path, "cannot open the datasets", e))?;
        let n_train = layout.sets.split.train.len();
        Self::start(path, file, vars, layout.cfg, *layout.opts, n_train)
    }

    /// Starts SWMR writing on an open file whose datasets are bound.
    fn start(
        path: &Path,
        file: hdf5::File,
        vars: Vars,
        cfg: &RunConfig,
        opts: RecordOpts,
        n_train: usize,
    ) -> Result<Self> {
        let lock = WriterLock::acquire(path)
            .map_err(|e| h5::err(path, "cannot lock the run file", e))?
            .ok_or_else(|| busy(path))?;
        file.flush()
            .and_then(|_| file.start_swmr())
            .map_err(|e| h5::err(path, "cannot start SWMR writing", e))?;
        let layers = cfg.shape.layers();
        let loss_bins = Bins::log(opts.loss_lo, opts.loss_hi, opts.loss_bins_per_decade);
        let weight_bins: Vec<Bins> = layers.iter().map(|l| weight_bins(l, &opts)).collect();
        let nb = weight_bins[0].len() * weight_bins.len();
        Ok(Recorder {
            path: path.to_path_buf(),
            file,
            vars,
            lock,
            opts,
            layers,
            steps_per_epoch: n_train.div_ceil(cfg.batch_size) as f64,
            counts: vec![0; loss_bins.len()],
            loss_bins,
            wcounts: vec![0; nb],
            bcounts: vec![0; nb],
            norms: vec![0.0; 4 * weight_bins.len()],
            seed: cfg.seed,
            scratch: Vec::new(),
            calibrators: Default::default(),
            weight_bins,
            schedule: Schedule::new(opts.per_decade),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Options in force.
    pub fn opts(&self) -> &RecordOpts {
        &self.opts
    }
}

/// The weight bins of layer `l`.
fn weight_bins(l: &LayerSpan, opts: &RecordOpts) -> Bins {
    Bins::symmetric(
        opts.weight_range / (l.fan_in as f64).sqrt(),
        opts.weight_bins,
    )
}

impl Observer for Recorder {
    fn wants_checkpoint(&mut self, iteration: u64) -> bool {
        self.schedule.is_due(iteration)
    }

    fn checkpoint(&mut self, iteration: u64, per: &PerSample, t: &Trainer) -> Result<()> {
        self.write_checkpoint(iteration, per, t)
            .map_err(|e| h5::err(&self.path, "cannot write a checkpoint", e))
    }

    fn epoch_end(&mut self, m: &EpochMetrics, per: &PerSample, t: &Trainer) -> Result<()> {
        self.write_epoch(m, per, t)
            .map_err(|e| h5::err(&self.path, "cannot write an epoch", e))
    }

    fn wants_logits(&self) -> bool {
        !self.vars.c_cal.is_empty()
    }
}
