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
pub(crate) mod h5ds;
pub mod hist;
mod layout;
pub mod read;

use std::path::{Path, PathBuf};

use hdf5::types::VarLenUnicode;
use hdf5::Dataset;

use crate::config::RunConfig;
use crate::error::{Error, ErrorKind, Result};
use crate::model::LayerSpan;
use crate::rng;
use crate::train::{EpochMetrics, Observer, PerSample, Sets, Status, Trainer};
use append::{Appender, Growing};
use hist::Bins;
use layout::{attr_str, lay_out};

/// Which per-sample values are written.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum RecordSamples {
    /// Per-sample losses at checkpoints, and validation losses at every epoch.
    #[default]
    All,
    /// Per-sample losses at checkpoints only.
    Checkpoints,
    /// Only means, histograms and norms.
    None,
}

/// What the recorder writes, and how finely.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
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
    Error::new(ErrorKind::Io, format!("{}: {what}: {e}", path.display()))
}

/// The per-set datasets of `/checkpoints`.
struct SetVars {
    loss: Option<Appender<f32>>,
    correct: Option<Appender<u8>>,
    hist: Appender<u64>,
    nan: Appender<u64>,
}

/// Every growing dataset of the file, bound by name.
struct Vars {
    c_epoch: Appender<i64>,
    c_iter: Appender<i64>,
    /// Wall time, then loss and accuracy of each set (`CURVE_VARS[1..]`).
    c_vars: Vec<Appender<f64>>,
    v_epoch: Option<Appender<i64>>,
    v_loss: Option<Appender<f32>>,
    v_correct: Option<Appender<u8>>,
    k_iter: Appender<i64>,
    k_epoch: Appender<f64>,
    k_sets: Vec<SetVars>,
    k_whist: Appender<u64>,
    k_bhist: Appender<u64>,
    k_norms: Vec<Appender<f64>>,
    state: [Dataset; 8],
}

const SET_NAMES: [&str; 3] = ["train", "val", "eval"];
const CURVE_VARS: [&str; 8] = [
    "iteration",
    "wall_time",
    "train_loss",
    "train_accuracy",
    "val_loss",
    "val_accuracy",
    "eval_loss",
    "eval_accuracy",
];
const NORMS: [&str; 4] = ["weight_l2", "weight_max_abs", "bias_l2", "bias_max_abs"];
const STATE: [&str; 8] = [
    "params",
    "opt_m",
    "opt_v",
    "opt_step",
    "epoch",
    "iteration",
    "wall_time",
    "shuffle_seed",
];

impl Vars {
    /// Binds the datasets of `file`, each growing one kept at the
    /// length it has.
    fn bind(file: &hdf5::File, opts: &RecordOpts) -> hdf5::Result<Vars> {
        let c = file.group("curves")?;
        let k = file.group("checkpoints")?;
        let st = file.group("state")?;
        let per = opts.samples != RecordSamples::None;
        let k_sets = SET_NAMES
            .iter()
            .map(|n| {
                Ok(SetVars {
                    loss: if per {
                        Some(Appender::open(k.dataset(&format!("{n}_loss"))?)?)
                    } else {
                        None
                    },
                    correct: if per {
                        Some(Appender::open(k.dataset(&format!("{n}_correct"))?)?)
                    } else {
                        None
                    },
                    hist: Appender::open(k.dataset(&format!("{n}_loss_hist"))?)?,
                    nan: Appender::open(k.dataset(&format!("{n}_loss_nan"))?)?,
                })
            })
            .collect::<hdf5::Result<Vec<_>>>()?;
        let (mut v_epoch, mut v_loss, mut v_correct) = (None, None, None);
        if opts.samples == RecordSamples::All {
            let g = file.group("val_per_epoch")?;
            v_epoch = Some(Appender::open(g.dataset("epoch")?)?);
            v_loss = Some(Appender::open(g.dataset("loss")?)?);
            v_correct = Some(Appender::open(g.dataset("correct")?)?);
        }
        let state = STATE.map(|n| st.dataset(n));
        let state = match state {
            [Ok(a), Ok(b), Ok(c), Ok(d), Ok(e), Ok(f), Ok(g), Ok(h)] => [a, b, c, d, e, f, g, h],
            _ => return Err("the /state group is incomplete".into()),
        };
        Ok(Vars {
            c_epoch: Appender::open(c.dataset("epoch")?)?,
            c_iter: Appender::open(c.dataset(CURVE_VARS[0])?)?,
            c_vars: CURVE_VARS[1..]
                .iter()
                .map(|n| Appender::open(c.dataset(n)?))
                .collect::<hdf5::Result<_>>()?,
            v_epoch,
            v_loss,
            v_correct,
            k_iter: Appender::open(k.dataset("iteration")?)?,
            k_epoch: Appender::open(k.dataset("epoch")?)?,
            k_sets,
            k_whist: Appender::open(k.dataset("weight_hist")?)?,
            k_bhist: Appender::open(k.dataset("bias_hist")?)?,
            k_norms: NORMS
                .iter()
                .map(|n| Appender::open(k.dataset(n)?))
                .collect::<hdf5::Result<_>>()?,
            state,
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
        for a in &mut self.c_vars {
            f(a, false)?;
        }
        if let Some(a) = &mut self.v_epoch {
            f(a, false)?;
        }
        if let Some(a) = &mut self.v_loss {
            f(a, false)?;
        }
        if let Some(a) = &mut self.v_correct {
            f(a, false)?;
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
}

/// Where a resumed run picks up: the state saved at its last complete
/// epoch.
pub struct ResumePoint {
    /// The run's configuration, from the file.
    pub cfg: RunConfig,
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
    /// SHA-256 of the dataset files the run used.
    pub dataset_sha256: String,
}

fn read_attr_str(loc: &hdf5::Location, name: &str) -> hdf5::Result<String> {
    Ok(loc
        .attr(name)?
        .read_scalar::<VarLenUnicode>()?
        .as_str()
        .to_string())
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
    /// Creates `path` (refused if it exists, unless `force`), writes the
    /// provenance, coordinates and every dataset, then switches to SWMR
    /// so readers can follow the run.
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
        let file = hdf5::File::with_options()
            .with_fapl(|p| p.libver_latest())
            .create(path)
            .map_err(|e| h5(path, "cannot create the output file", e))?;
        lay_out(&file, cfg, sets, &opts, threads)
            .map_err(|e| h5(path, "cannot write the output file", e))?;
        let vars = Vars::bind(&file, &opts).map_err(|e| h5(path, "cannot open the datasets", e))?;
        Self::start(path, file, vars, cfg, opts, sets.split.train.len())
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
            opts,
            layers,
            steps_per_epoch: n_train.div_ceil(cfg.batch_size) as f64,
            counts: vec![0; loss_bins.len()],
            loss_bins,
            wcounts: vec![0; nb],
            bcounts: vec![0; nb],
            norms: vec![0.0; 4 * weight_bins.len()],
            seed: cfg.seed,
            weight_bins,
            schedule: Schedule::new(opts.per_decade),
        })
    }

    /// Reads the resume point of an unfinished run file.
    pub fn resume_point(path: &Path) -> Result<(ResumePoint, RecordOpts)> {
        let err = |e: hdf5::Error| h5(path, "not a preinterp run file that can be resumed", e);
        let file = match hdf5::File::open(path) {
            Ok(f) => f,
            // A writer killed mid-run leaves the file flagged as open.
            Err(_) if path.is_file() => {
                h5ds::clear_status_flags(path)
                    .map_err(|e| h5(path, "cannot open the run file", e))?;
                hdf5::File::open(path).map_err(|e| h5(path, "cannot open the run file", e))?
            }
            Err(e) => return Err(h5(path, "cannot open the run file", e)),
        };
        let status = read_attr_str(&file, "status").map_err(err)?;
        if status == "complete" {
            return Err(Error::usage(format!(
                "{}: this run is already complete",
                path.display()
            )));
        }
        let cfg: RunConfig = serde_json::from_str(&read_attr_str(&file, "config").map_err(err)?)
            .map_err(|e| Error::data(path, format!("unreadable config attribute: {e}")))?;
        let opts: RecordOpts = serde_json::from_str(
            &read_attr_str(&file, "record_options").map_err(err)?,
        )
        .map_err(|e| Error::data(path, format!("unreadable record_options attribute: {e}")))?;
        let st = file.group("state").map_err(err)?;
        let f32s = |n: &str| st.dataset(n).and_then(|d| d.read_raw::<f32>());
        let i64s = |n: &str| {
            st.dataset(n)
                .and_then(|d| d.read_raw::<i64>())
                .map(|v| v[0])
        };
        let epoch = i64s("epoch").map_err(err)?;
        if epoch < 0 {
            return Err(Error::data(
                path,
                "no epoch was completed before the run stopped; start it again with --force",
            ));
        }
        let saved = st
            .dataset("shuffle_seed")
            .and_then(|d| d.read_raw::<u64>())
            .map_err(err)?;
        let next = rng::stream_seed(cfg.seed, rng::Purpose::Shuffle, epoch as u64 + 1);
        if saved.first() != Some(&next) {
            return Err(Error::data(
                path,
                "its saved shuffle state does not match this version's shuffle streams, so it cannot be continued bit for bit; start it again with --force",
            ));
        }
        let rows = file.dataset("curves/epoch").map_err(err)?.shape()[0];
        if rows < epoch as usize + 1 {
            return Err(Error::data(
                path,
                format!(
                    "its state is at epoch {epoch} but only {rows} epochs of curves were written"
                ),
            ));
        }
        let point = ResumePoint {
            params: f32s("params").map_err(err)?,
            opt_m: f32s("opt_m").map_err(err)?,
            opt_v: f32s("opt_v").map_err(err)?,
            opt_step: i64s("opt_step").map_err(err)? as u64,
            epoch: epoch as usize,
            iteration: i64s("iteration").map_err(err)? as u64,
            wall_time: st
                .dataset("wall_time")
                .and_then(|d| d.read_raw::<f64>())
                .map_err(err)?[0],
            dataset_sha256: read_attr_str(&file, "dataset_sha256").map_err(err)?,
            cfg,
        };
        Ok((point, opts))
    }

    /// Reopens a run file at its resume point: everything recorded after
    /// the last complete epoch is dropped, the status goes back to
    /// `running`, and SWMR writing starts again.
    pub fn reopen(path: &Path, p: &ResumePoint, opts: RecordOpts, n_train: usize) -> Result<Self> {
        let file = hdf5::File::open_rw(path)
            .map_err(|e| h5(path, "cannot open the run file for writing", e))?;
        let vars = (|| -> hdf5::Result<Vars> {
            let iters: Vec<i64> = file.dataset("checkpoints/iteration")?.read_raw()?;
            let n_ckpt = iters
                .iter()
                .take_while(|&&i| i as u64 <= p.iteration)
                .count();
            let n_epochs = p.epoch + 1;
            let mut vars = Vars::bind(&file, &opts)?;
            vars.each(&mut |a, ck| a.truncate(if ck { n_ckpt } else { n_epochs }))?;
            attr_str(&file, "status", "running")?;
            attr_str(&file, "finished_at", "")?;
            Ok(vars)
        })()
        .map_err(|e| {
            h5(
                path,
                "cannot roll the run file back to its last complete epoch",
                e,
            )
        })?;
        let mut r = Self::start(path, file, vars, &p.cfg, opts, n_train)?;
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
        let v = self.vars_mut();
        v.c_epoch.push1(m.epoch as i64)?;
        v.c_iter.push1(m.iteration as i64)?;
        let row = [
            m.wall_s,
            m.train.loss,
            m.train.acc,
            m.val.loss,
            m.val.acc,
            m.eval.loss,
            m.eval.acc,
        ];
        for (a, x) in v.c_vars.iter_mut().zip(row) {
            a.push1(x)?;
        }
        if let (Some(e), Some(l), Some(c)) = (&mut v.v_epoch, &mut v.v_loss, &mut v.v_correct) {
            e.push1(m.epoch as i64)?;
            l.push(&per.val.loss)?;
            c.push(&per.val.correct)?;
        }
        // The state to resume from is written only once the epoch's rows
        // are flushed: a crash before that leaves the previous epoch as
        // the resume point, and the rows beyond it are dropped on resume.
        v.sync()?;
        self.flush()?;
        let v = self.vars();
        let s = &v.state;
        s[0].write_raw(&t.params)?;
        // Plain SGD keeps no moments: the datasets stay as created.
        if !t.opt.m.is_empty() {
            s[1].write_raw(&t.opt.m)?;
        }
        if !t.opt.v.is_empty() {
            s[2].write_raw(&t.opt.v)?;
        }
        s[3].write_raw(&[t.opt.step as i64])?;
        s[5].write_raw(&[t.iteration as i64])?;
        s[6].write_raw(&[m.wall_s])?;
        s[7].write_raw(&[rng::stream_seed(
            self.seed,
            rng::Purpose::Shuffle,
            m.epoch as u64 + 1,
        )])?;
        s[4].write_raw(&[m.epoch as i64])?;
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
        let s = match status {
            Status::Complete => "complete",
            Status::Diverged => "diverged",
            Status::Interrupted => "interrupted",
        };
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
            attr_str(&f, "status", s)?;
            attr_str(&f, "finished_at", &utc_now())?;
            f.flush()
        })();
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
