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

mod append;
pub mod h5;
pub(crate) mod h5ds;
pub mod hist;
mod layout;
pub mod lock;
pub mod read;
pub mod samples;
pub mod schema;

use std::path::{Path, PathBuf};

use hdf5::{Dataset, Group};

use crate::config::RunConfig;
pub use crate::config::{RecordOpts, RecordSamples};
use crate::error::{Error, Result};
use crate::model::LayerSpan;
use crate::rng;
use crate::stats;
use crate::train::{EpochMetrics, Observer, PerSample, Status, Trainer};
use append::{Appender, Growing};
use h5::{attr_str, read_attr_str};
use hist::Bins;
pub use layout::Layout;
use lock::WriterLock;
use schema::{attr, ckpt, state, RunStatus, SETS};

/// The checkpoint iterations: 0, then `round(10^(k / per_decade))` for
/// `k = 0, 1, ...`, without repeats.
#[derive(Clone, Debug)]
pub struct Schedule {
    per_decade: u32,
    k: u32,
    next: u64,
}

impl Schedule {
    /// Starts at iteration 0; `per_decade = 0` means no checkpoints.
    pub fn new(per_decade: u32) -> Self {
        let next = if per_decade == 0 { u64::MAX } else { 0 };
        Schedule {
            per_decade: per_decade.max(1),
            k: 0,
            next,
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
    h5::err(path, what, e)
}

/// The per-set datasets of `/checkpoints`.
struct SetVars {
    loss: Option<Appender<f32>>,
    correct: Option<Appender<u8>>,
    hist: Appender<u64>,
    nan: Appender<u64>,
}

/// A per-epoch group (`/val_per_epoch`, `/train_per_epoch`). Files
/// written before issue 12 have no `pred` (and no training group).
struct PerEpochVars {
    epoch: Appender<i64>,
    loss: Appender<f32>,
    correct: Appender<u8>,
    pred: Option<Appender<u8>>,
    margin: Option<Appender<f32>>,
}

impl PerEpochVars {
    /// The group `name` of `file`, if it has one.
    fn bind(file: &hdf5::File, name: &str) -> hdf5::Result<Option<PerEpochVars>> {
        use schema::per_epoch::*;
        let Ok(g) = file.group(name) else {
            return Ok(None);
        };
        let maybe = |n: &str| g.link_exists(n);
        Ok(Some(PerEpochVars {
            epoch: open(&g, schema::EPOCH.name)?,
            loss: open(&g, LOSS)?,
            correct: open(&g, CORRECT)?,
            pred: maybe(PRED).then(|| open(&g, PRED)).transpose()?,
            margin: maybe(MARGIN).then(|| open(&g, MARGIN)).transpose()?,
        }))
    }

    fn push(&mut self, epoch: usize, e: &crate::eval::SetEval) -> hdf5::Result<()> {
        self.epoch.push1(epoch as i64)?;
        self.loss.push(&e.loss)?;
        self.correct.push(&e.correct)?;
        if let Some(p) = &mut self.pred {
            p.push(&e.pred)?;
        }
        if let Some(m) = &mut self.margin {
            m.push(&e.margin)?;
        }
        Ok(())
    }

    fn each(
        &mut self,
        f: &mut dyn FnMut(&mut dyn Growing, bool) -> hdf5::Result<()>,
    ) -> hdf5::Result<()> {
        f(&mut self.epoch, false)?;
        f(&mut self.loss, false)?;
        f(&mut self.correct, false)?;
        if let Some(p) = &mut self.pred {
            f(p, false)?;
        }
        if let Some(m) = &mut self.margin {
            f(m, false)?;
        }
        Ok(())
    }
}

/// `/state`, by name.
struct StateVars {
    params: Dataset,
    opt_m: Dataset,
    opt_v: Dataset,
    opt_step: Dataset,
    epoch: Dataset,
    iteration: Dataset,
    wall_time: Dataset,
    shuffle_seed: Dataset,
}

impl StateVars {
    /// Whether the state has two slots (files before them have one).
    fn slotted(&self) -> bool {
        self.params.ndim() == 2
    }

    /// Writes `v` into `ds`'s slot `k` (or all of it, for a one-slot file).
    fn put<T: hdf5::H5Type + Copy>(&self, ds: &Dataset, k: usize, v: &[T]) -> hdf5::Result<()> {
        if !self.slotted() {
            return ds.write_raw(v);
        }
        let row = ndarray::ArrayView1::from(v);
        if ds.ndim() == 2 {
            ds.write_slice(row, (k, ..))
        } else {
            ds.write_slice(row, k..k + 1)
        }
    }

    /// `ds`'s slot `k` (or all of it, for a one-slot file).
    fn get<T: hdf5::H5Type + Copy>(&self, ds: &Dataset, k: usize) -> hdf5::Result<Vec<T>> {
        if !self.slotted() {
            return ds.read_raw();
        }
        let v: ndarray::Array1<T> = if ds.ndim() == 2 {
            ds.read_slice_1d((k, ..))?
        } else {
            ds.read_slice_1d(k..k + 1)?
        };
        Ok(v.to_vec())
    }

    fn bind(g: &Group) -> hdf5::Result<StateVars> {
        Ok(StateVars {
            params: g.dataset(state::PARAMS)?,
            opt_m: g.dataset(state::OPT_M)?,
            opt_v: g.dataset(state::OPT_V)?,
            opt_step: g.dataset(state::OPT_STEP)?,
            epoch: g.dataset(state::EPOCH)?,
            iteration: g.dataset(state::ITERATION)?,
            wall_time: g.dataset(state::WALL_TIME)?,
            shuffle_seed: g.dataset(state::SHUFFLE_SEED)?,
        })
    }
}

/// Every growing dataset of the file, bound by name.
struct Vars {
    c_epoch: Appender<i64>,
    c_iter: Appender<i64>,
    /// [`schema::CURVE_F64`], in order.
    c_f64: Vec<Appender<f64>>,
    /// [`schema::CURVE_ROBUST`], in order (absent in older files).
    c_robust: Option<Vec<Appender<f64>>>,
    val: Option<PerEpochVars>,
    train: Option<PerEpochVars>,
    k_iter: Appender<i64>,
    k_epoch: Appender<f64>,
    k_sets: Vec<SetVars>,
    k_whist: Appender<u64>,
    k_bhist: Appender<u64>,
    /// [`ckpt::NORMS`], in order.
    k_norms: Vec<Appender<f64>>,
    state: StateVars,
}

fn open<T: hdf5::H5Type + Copy + Default>(g: &Group, name: &str) -> hdf5::Result<Appender<T>> {
    Appender::open(g.dataset(name)?)
}

impl SetVars {
    fn bind(k: &Group, set: &str, per_sample: bool) -> hdf5::Result<SetVars> {
        let [loss, correct, hist, nan] = ckpt::set_vars(set);
        Ok(SetVars {
            loss: per_sample.then(|| open(k, &loss)).transpose()?,
            correct: per_sample.then(|| open(k, &correct)).transpose()?,
            hist: open(k, &hist)?,
            nan: open(k, &nan)?,
        })
    }
}

impl Vars {
    /// Binds the datasets of `file`, each growing one kept at the
    /// length it has.
    fn bind(file: &hdf5::File, opts: &RecordOpts) -> hdf5::Result<Vars> {
        let c = file.group(schema::CURVES)?;
        let k = file.group(schema::CHECKPOINTS)?;
        let per = opts.samples != RecordSamples::None;
        let c_robust = if c.link_exists(schema::CURVE_ROBUST[0].name) {
            let all = schema::CURVE_ROBUST.iter().map(|v| open(&c, v.name));
            Some(all.collect::<hdf5::Result<_>>()?)
        } else {
            None
        };
        Ok(Vars {
            c_robust,
            val: PerEpochVars::bind(file, schema::VAL_PER_EPOCH)?,
            train: PerEpochVars::bind(file, schema::TRAIN_PER_EPOCH)?,
            c_epoch: open(&c, schema::EPOCH.name)?,
            c_iter: open(&c, schema::CURVE_ITERATION.name)?,
            c_f64: schema::CURVE_F64
                .iter()
                .map(|v| open(&c, v.name))
                .collect::<hdf5::Result<_>>()?,
            k_iter: open(&k, ckpt::ITERATION.name)?,
            k_epoch: open(&k, ckpt::EPOCH.name)?,
            k_sets: SETS
                .iter()
                .map(|s| SetVars::bind(&k, s.name, per))
                .collect::<hdf5::Result<_>>()?,
            k_whist: open(&k, ckpt::WEIGHT_HIST.name)?,
            k_bhist: open(&k, ckpt::BIAS_HIST.name)?,
            k_norms: ckpt::NORMS
                .iter()
                .map(|v| open(&k, v.name))
                .collect::<hdf5::Result<_>>()?,
            state: StateVars::bind(&file.group(schema::STATE)?)?,
        })
    }

    /// Calls `f` on every growing dataset, with whether it grows by
    /// checkpoints (rather than by epochs).
    fn each(
        &mut self,
        f: &mut dyn FnMut(&mut dyn Growing, bool) -> hdf5::Result<()>,
    ) -> hdf5::Result<()> {
        f(&mut self.c_epoch, false)?;
        f(&mut self.c_iter, false)?;
        for a in self
            .c_f64
            .iter_mut()
            .chain(self.c_robust.iter_mut().flatten())
        {
            f(a, false)?;
        }
        for g in [&mut self.val, &mut self.train].into_iter().flatten() {
            g.each(f)?;
        }
        f(&mut self.k_iter, true)?;
        f(&mut self.k_epoch, true)?;
        for sv in &mut self.k_sets {
            if let Some(a) = &mut sv.loss {
                f(a, true)?;
            }
            if let Some(a) = &mut sv.correct {
                f(a, true)?;
            }
            f(&mut sv.hist, true)?;
            f(&mut sv.nan, true)?;
        }
        f(&mut self.k_whist, true)?;
        f(&mut self.k_bhist, true)?;
        for a in &mut self.k_norms {
            f(a, true)?;
        }
        Ok(())
    }

    /// Writes every dataset's pending rows (one call each).
    fn sync(&mut self) -> hdf5::Result<()> {
        self.each(&mut |a, _| a.sync())
    }
}

/// Records one run into an HDF5 file; an [`Observer`] of the loop.
pub struct Recorder {
    path: PathBuf,
    file: Option<hdf5::File>,
    vars: Option<Vars>,
    /// Held while recording: tells a live writer from a killed one.
    lock: Option<WriterLock>,
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
}

/// Whether an existing output file may be replaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overwrite {
    /// Refuse (a usage error naming `--force`).
    Refuse,
    /// Replace it.
    Replace,
}

/// Where a resumed run picks up: the state saved at its last complete
/// epoch.
pub struct ResumePoint {
    /// The run's configuration, from the file.
    pub cfg: RunConfig,
    /// What the file records.
    pub opts: RecordOpts,
    /// Parameters at the end of `epoch`.
    pub params: Vec<f32>,
    /// Optimiser first moment / momentum buffer.
    pub opt_m: Vec<f32>,
    /// Optimiser second moment.
    pub opt_v: Vec<f32>,
    /// Optimiser step count.
    pub opt_step: u64,
    /// The last complete epoch.
    pub epoch: usize,
    /// Updates at its end.
    pub iteration: u64,
    /// Wall time at its end.
    pub wall_time: f64,
    /// The dataset files the run read, as recorded.
    pub dataset_files: Vec<PathBuf>,
    /// Their SHA-256, same order.
    pub dataset_sha256: Vec<String>,
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

/// Opens the run file `path` to read its resume point; a file left
/// flagged as open by a killed writer is cleared first (as `h5clear -s`).
fn open_to_resume(path: &Path) -> Result<hdf5::File> {
    if lock::held_by_another(path) {
        return Err(busy(path));
    }
    match hdf5::File::open(path) {
        Ok(f) => Ok(f),
        Err(_) if path.is_file() => {
            h5ds::clear_status_flags(path).map_err(|e| h5(path, "cannot open the run file", e))?;
            hdf5::File::open(path).map_err(|e| h5(path, "cannot open the run file", e))
        }
        Err(e) => Err(h5(path, "cannot open the run file", e)),
    }
}

/// The state saved in `/state` (the configuration and dataset still to
/// be filled in).
fn read_state(st: &Group, cfg: &RunConfig) -> std::result::Result<ReadState, String> {
    let s = StateVars::bind(st).map_err(|e| e.to_string())?;
    let i64s = |d: &Dataset| {
        d.read_raw::<i64>()
            .map(|v| v.first().copied().unwrap_or(-1))
    };
    let epoch = i64s(&s.epoch).map_err(|e| e.to_string())?;
    if epoch < 0 {
        return Err(
            "no epoch was completed before the run stopped; start it again with --force".into(),
        );
    }
    let k = epoch as usize % 2;
    let saved: Vec<u64> = s.get(&s.shuffle_seed, k).map_err(|e| e.to_string())?;
    let next = rng::stream_seed(cfg.seed, rng::Purpose::Shuffle, epoch as u64 + 1);
    if saved.first() != Some(&next) {
        return Err("its saved shuffle state does not match this version's shuffle streams, so it cannot be continued bit for bit; start it again with --force".into());
    }
    let first = |v: Vec<i64>| v.first().copied().unwrap_or(0);
    let read = || -> hdf5::Result<ReadState> {
        Ok(ReadState {
            params: s.get(&s.params, k)?,
            opt_m: s.get(&s.opt_m, k)?,
            opt_v: s.get(&s.opt_v, k)?,
            opt_step: first(s.get(&s.opt_step, k)?) as u64,
            epoch: epoch as usize,
            iteration: first(s.get(&s.iteration, k)?) as u64,
            wall_time: s
                .get::<f64>(&s.wall_time, k)?
                .first()
                .copied()
                .unwrap_or(0.0),
        })
    };
    read().map_err(|e| format!("not a preinterp run file that can be resumed: {e}"))
}

/// What `/state` holds.
struct ReadState {
    params: Vec<f32>,
    opt_m: Vec<f32>,
    opt_v: Vec<f32>,
    opt_step: u64,
    epoch: usize,
    iteration: u64,
    wall_time: f64,
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
        let file = hdf5::File::with_options()
            .with_fapl(|p| p.libver_latest())
            .create(path)
            .map_err(|e| h5(path, "cannot create the output file", e))?;
        layout
            .create(&file)
            .map_err(|e| h5(path, "cannot write the output file", e))?;
        let vars =
            Vars::bind(&file, layout.opts).map_err(|e| h5(path, "cannot open the datasets", e))?;
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
            .map_err(|e| h5(path, "cannot lock the run file", e))?
            .ok_or_else(|| busy(path))?;
        file.flush()
            .and_then(|_| file.start_swmr())
            .map_err(|e| h5(path, "cannot start SWMR writing", e))?;
        let layers = cfg.shape.layers();
        let loss_bins = Bins::log(opts.loss_lo, opts.loss_hi, opts.loss_bins_per_decade);
        let weight_bins: Vec<Bins> = layers.iter().map(|l| weight_bins(l, &opts)).collect();
        let nb = weight_bins[0].len() * weight_bins.len();
        Ok(Recorder {
            path: path.to_path_buf(),
            file: Some(file),
            vars: Some(vars),
            lock: Some(lock),
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
            weight_bins,
            schedule: Schedule::new(opts.per_decade),
        })
    }

    /// The status a run file's root says it has.
    pub fn status(path: &Path) -> Result<RunStatus> {
        let f = h5::open_read(path).map_err(|e| h5(path, "cannot open the run file", e))?;
        let s = read_attr_str(&f, attr::STATUS).map_err(|e| h5(path, "no status", e))?;
        s.parse()
            .map_err(|e| Error::data(path, format!("unreadable status: {e}")))
    }

    /// Reads the resume point of an unfinished run file.
    pub fn resume_point(path: &Path) -> Result<ResumePoint> {
        let file = open_to_resume(path)?;
        let err = |e: hdf5::Error| h5(path, "not a preinterp run file that can be resumed", e);
        let text = |name: &str| read_attr_str(&file, name).map_err(err);
        let status: RunStatus = text(attr::STATUS)?
            .parse()
            .map_err(|e| Error::data(path, format!("unreadable status: {e}")))?;
        if status == RunStatus::Complete {
            return Err(Error::usage(format!(
                "{}: this run is already complete",
                path.display()
            )));
        }
        let cfg: RunConfig = serde_json::from_str(&text(attr::CONFIG)?)
            .map_err(|e| Error::data(path, format!("unreadable config attribute: {e}")))?;
        let opts: RecordOpts = serde_json::from_str(&text(attr::RECORD_OPTIONS)?)
            .map_err(|e| Error::data(path, format!("unreadable record_options attribute: {e}")))?;
        let st = read_state(&file.group(schema::STATE).map_err(err)?, &cfg)
            .map_err(|e| Error::data(path, e))?;
        let rows = file
            .group(schema::CURVES)
            .and_then(|c| c.dataset(schema::EPOCH.name))
            .map_err(err)?
            .shape()[0];
        if rows < st.epoch + 1 {
            return Err(Error::data(
                path,
                format!(
                    "its state is at epoch {} but only {rows} epochs of curves were written",
                    st.epoch
                ),
            ));
        }
        let lines = |s: String| s.lines().map(str::to_string).collect::<Vec<_>>();
        Ok(ResumePoint {
            cfg,
            opts,
            params: st.params,
            opt_m: st.opt_m,
            opt_v: st.opt_v,
            opt_step: st.opt_step,
            epoch: st.epoch,
            iteration: st.iteration,
            wall_time: st.wall_time,
            dataset_files: lines(text(attr::DATASET_FILES)?)
                .into_iter()
                .map(PathBuf::from)
                .collect(),
            dataset_sha256: lines(text(attr::DATASET_SHA256)?),
        })
    }

    /// Reopens a run file at its resume point: everything recorded after
    /// the last complete epoch is dropped, the status goes back to
    /// `running`, and SWMR writing starts again.
    pub fn reopen(path: &Path, p: &ResumePoint, n_train: usize) -> Result<Self> {
        if lock::held_by_another(path) {
            return Err(busy(path));
        }
        let file = hdf5::File::open_rw(path)
            .map_err(|e| h5(path, "cannot open the run file for writing", e))?;
        // The checkpoints up to the resume point, counted from the
        // schedule rather than read: rows a kill left past the file's
        // last flush may point beyond its end.
        let mut schedule = Schedule::new(p.opts.per_decade);
        let n_ckpt = (0..=p.iteration).filter(|&it| schedule.is_due(it)).count();
        let vars = (|| -> hdf5::Result<Vars> {
            let n_epochs = p.epoch + 1;
            let mut vars = Vars::bind(&file, &p.opts)?;
            vars.each(&mut |a, ck| a.truncate(if ck { n_ckpt } else { n_epochs }))?;
            attr_str(&file, attr::STATUS, RunStatus::Running.as_str())?;
            attr_str(&file, attr::FINISHED_AT, "")?;
            Ok(vars)
        })()
        .map_err(|e| {
            h5(
                path,
                "cannot roll the run file back to its last complete epoch",
                e,
            )
        })?;
        let mut r = Self::start(path, file, vars, &p.cfg, p.opts, n_train)?;
        for it in 0..=p.iteration {
            r.schedule.is_due(it);
        }
        Ok(r)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn vars(&self) -> &Vars {
        self.vars.as_ref().expect("recorder used after finish")
    }

    fn flush(&self) -> hdf5::Result<()> {
        self.file
            .as_ref()
            .expect("recorder used after finish")
            .flush()
    }

    fn vars_mut(&mut self) -> &mut Vars {
        self.vars.as_mut().expect("recorder used after finish")
    }

    fn write_epoch(&mut self, m: &EpochMetrics, per: &PerSample, t: &Trainer) -> hdf5::Result<()> {
        let st = stats::loss_stats(&per.val.loss, &mut self.scratch);
        let v = self.vars_mut();
        v.c_epoch.push1(m.epoch as i64)?;
        v.c_iter.push1(m.iteration as i64)?;
        // In the order of `schema::CURVE_F64`.
        let row = [
            m.wall_s,
            m.train.loss,
            m.train.acc,
            m.val.loss,
            m.val.acc,
            m.eval.loss,
            m.eval.acc,
        ];
        for (a, x) in v.c_f64.iter_mut().zip(row) {
            a.push1(x)?;
        }
        // In the order of `schema::CURVE_ROBUST`.
        let robust = [
            st.q1,
            st.median,
            st.q3,
            st.fence,
            st.frac_above,
            st.share_above,
            st.trimmed_mean,
        ];
        for (a, x) in v.c_robust.iter_mut().flatten().zip(robust) {
            a.push1(x)?;
        }
        if let Some(g) = &mut v.val {
            g.push(m.epoch, &per.val)?;
        }
        if let Some(g) = &mut v.train {
            g.push(m.epoch, &per.train)?;
        }
        // The state to resume from is written only once the epoch's rows
        // are flushed: a crash before that leaves the previous epoch as
        // the resume point, and the rows beyond it are dropped on resume.
        v.sync()?;
        self.flush()?;
        // Into the slot of this epoch's parity; the other slot keeps the
        // epoch before, which `/state/epoch` still names until the slot
        // is flushed, so a kill at any moment leaves a whole state.
        let s = &self.vars().state;
        let k = m.epoch % 2;
        s.put(&s.params, k, &t.params)?;
        // Plain SGD keeps no moments: the datasets stay as created.
        if !t.opt.m.is_empty() {
            s.put(&s.opt_m, k, &t.opt.m)?;
        }
        if !t.opt.v.is_empty() {
            s.put(&s.opt_v, k, &t.opt.v)?;
        }
        s.put(&s.opt_step, k, &[t.opt.step as i64])?;
        s.put(&s.iteration, k, &[t.iteration as i64])?;
        s.put(&s.wall_time, k, &[m.wall_s])?;
        let next = rng::stream_seed(self.seed, rng::Purpose::Shuffle, m.epoch as u64 + 1);
        s.put(&s.shuffle_seed, k, &[next])?;
        self.flush()?;
        // Last: the epoch commits the slot.
        self.vars().state.epoch.write_raw(&[m.epoch as i64])?;
        self.flush()
    }

    fn write_checkpoint(
        &mut self,
        iteration: u64,
        per: &PerSample,
        t: &Trainer,
    ) -> hdf5::Result<()> {
        let nb = self.weight_bins[0].len();
        let nl = self.layers.len();
        let norms = &mut self.norms;
        for (li, (l, bins)) in self.layers.iter().zip(&self.weight_bins).enumerate() {
            let (w, b) = (&t.params[l.w_range()], &t.params[l.b_range()]);
            bins.count(w, &mut self.wcounts[li * nb..(li + 1) * nb]);
            bins.count(b, &mut self.bcounts[li * nb..(li + 1) * nb]);
            norms[li] = w.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt();
            norms[nl + li] = w.iter().fold(0.0f64, |m, &x| m.max((x as f64).abs()));
            norms[2 * nl + li] = b.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt();
            norms[3 * nl + li] = b.iter().fold(0.0f64, |m, &x| m.max((x as f64).abs()));
        }
        let v = self.vars.as_mut().expect("recorder used after finish");
        v.k_iter.push1(iteration as i64)?;
        v.k_epoch.push1(iteration as f64 / self.steps_per_epoch)?;
        for (sv, ev) in v.k_sets.iter_mut().zip([&per.train, &per.val, &per.eval]) {
            if let (Some(l), Some(c)) = (&mut sv.loss, &mut sv.correct) {
                l.push(&ev.loss)?;
                c.push(&ev.correct)?;
            }
            let nan = self.loss_bins.count(&ev.loss, &mut self.counts);
            sv.hist.push(&self.counts)?;
            sv.nan.push1(nan)?;
        }
        v.k_whist.push(&self.wcounts)?;
        v.k_bhist.push(&self.bcounts)?;
        for (a, x) in v.k_norms.iter_mut().zip(self.norms.chunks_exact(nl)) {
            a.push(x)?;
        }
        v.sync()?;
        self.flush()
    }

    /// Ends SWMR writing, then marks the run as ended with `status`.
    pub fn finish(&mut self, status: Status) -> Result<()> {
        let s = RunStatus::from(status);
        // Every row is synced at the flush point it belongs to; a
        // leftover would be a bug, but costs nothing to write.
        if let Some(v) = self.vars.as_mut() {
            v.sync()
                .and_then(|_| self.flush())
                .map_err(|e| h5(&self.path, "cannot write the run file", e))?;
        }
        // Attributes cannot change under SWMR: close, reopen, write.
        self.vars = None;
        if let Some(f) = self.file.take() {
            f.close()
                .map_err(|e| h5(&self.path, "cannot close the run file", e))?;
        }
        let res = (|| {
            let f = hdf5::File::open_rw(&self.path)?;
            attr_str(&f, attr::STATUS, s.as_str())?;
            attr_str(&f, attr::FINISHED_AT, &utc_now())?;
            f.flush()
        })();
        self.lock = None;
        res.map_err(|e| h5(&self.path, "cannot finish the run file", e))
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
            .map_err(|e| h5(&self.path, "cannot write a checkpoint", e))
    }

    fn epoch_end(&mut self, m: &EpochMetrics, per: &PerSample, t: &Trainer) -> Result<()> {
        self.write_epoch(m, per, t)
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
        let mut none = Schedule::new(0);
        assert!((0..1000).all(|i| !none.is_due(i)));
    }

    #[test]
    fn utc_now_looks_like_iso8601() {
        let t = utc_now();
        assert_eq!(t.len(), 20);
        assert!(t.starts_with("20") && t.ends_with('Z') && t.as_bytes()[10] == b'T');
    }
}
