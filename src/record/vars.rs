//! The datasets of a run file, bound by name: what the recorder appends
//! to (`/curves`, the per-epoch groups, `/checkpoints`) and the two-slot
//! resume state (`/state`).

use hdf5::{Dataset, Group};

use super::append::{Appender, Growing};
use super::schema::{self, ckpt, state, SETS};
use super::{RecordOpts, RecordSamples};

/// A growing dataset of `g`, kept at the length it has.
fn open<T: hdf5::H5Type + Copy + Default>(g: &Group, name: &str) -> hdf5::Result<Appender<T>> {
    Appender::open(g.dataset(name)?)
}

/// The per-set datasets of `/checkpoints`.
pub(super) struct SetVars {
    pub(super) loss: Option<Appender<f32>>,
    pub(super) correct: Option<Appender<u8>>,
    pub(super) hist: Appender<u64>,
    pub(super) nan: Appender<u64>,
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

/// A per-epoch group (`/val_per_epoch`, `/train_per_epoch`). Files
/// written before issue 12 have no `pred` (and no training group).
pub(super) struct PerEpochVars {
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

    /// Appends the row of `epoch`.
    pub(super) fn push(&mut self, epoch: usize, e: &crate::eval::SetEval) -> hdf5::Result<()> {
        self.epoch.push_value(epoch as i64)?;
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

/// One set's calibration series in `/curves` (files before issue 20 have
/// none; a run with `--val-size 0` has the evaluation set's only).
pub(super) struct CalVars {
    /// The set's index in [`schema::calibration::SETS`].
    pub(super) set: usize,
    /// [`schema::calibration::SERIES`], in order.
    pub(super) series: Vec<Appender<f64>>,
    pub(super) status: Appender<u8>,
    pub(super) bin_count: Appender<u64>,
    pub(super) bin_accuracy: Appender<f64>,
    pub(super) bin_confidence: Appender<f64>,
}

impl CalVars {
    /// The calibration series of every set `c` (`/curves`) has, and
    /// their reliability tables in `r` (`/reliability`).
    fn bind_all(c: &Group, r: Option<&Group>) -> hdf5::Result<Vec<CalVars>> {
        use schema::calibration as cal;
        let mut all = vec![];
        for (set, name) in cal::SETS.iter().enumerate() {
            let at = |v: &schema::Var<'_>| cal::name(name, v.name);
            let Some(r) = r.filter(|_| c.link_exists(&at(&cal::STATUS))) else {
                continue;
            };
            all.push(CalVars {
                set,
                series: cal::SERIES
                    .iter()
                    .map(|v| open(c, &at(v)))
                    .collect::<hdf5::Result<_>>()?,
                status: open(c, &at(&cal::STATUS))?,
                bin_count: open(r, &at(&cal::BIN_COUNT))?,
                bin_accuracy: open(r, &at(&cal::BIN_ACCURACY))?,
                bin_confidence: open(r, &at(&cal::BIN_CONFIDENCE))?,
            });
        }
        Ok(all)
    }

    /// Appends one epoch's calibration.
    pub(super) fn push(&mut self, c: &crate::stats::Calibration) -> hdf5::Result<()> {
        // In the order of `schema::calibration::SERIES`.
        let row = [
            c.temperature,
            c.loss_at_temperature,
            c.ece,
            c.max_logit_correct,
            c.max_logit_wrong,
            c.margin_correct,
            c.margin_wrong,
            c.wrong_loss_share,
            c.wrong_loss_mean,
        ];
        for (a, x) in self.series.iter_mut().zip(row) {
            a.push_value(x)?;
        }
        self.status.push_value(c.status as u8)?;
        self.bin_count.push(&c.bin_count)?;
        self.bin_accuracy.push(&c.bin_accuracy)?;
        self.bin_confidence.push(&c.bin_confidence)
    }

    fn each(
        &mut self,
        f: &mut dyn FnMut(&mut dyn Growing, bool) -> hdf5::Result<()>,
    ) -> hdf5::Result<()> {
        for a in &mut self.series {
            f(a, false)?;
        }
        f(&mut self.status, false)?;
        f(&mut self.bin_count, false)?;
        f(&mut self.bin_accuracy, false)?;
        f(&mut self.bin_confidence, false)
    }
}

/// `/state`, by name.
pub(super) struct StateVars {
    pub(super) params: Dataset,
    pub(super) opt_m: Dataset,
    pub(super) opt_v: Dataset,
    pub(super) opt_step: Dataset,
    pub(super) epoch: Dataset,
    pub(super) iteration: Dataset,
    pub(super) wall_time: Dataset,
    pub(super) shuffle_seed: Dataset,
}

impl StateVars {
    /// Whether the state has two slots (files before them have one).
    fn slotted(&self) -> bool {
        self.params.ndim() == 2
    }

    /// Writes `v` into `ds`'s slot `k` (or all of it, for a one-slot file).
    pub(super) fn put<T: hdf5::H5Type + Copy>(
        &self,
        ds: &Dataset,
        k: usize,
        v: &[T],
    ) -> hdf5::Result<()> {
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
    pub(super) fn get<T: hdf5::H5Type + Copy>(
        &self,
        ds: &Dataset,
        k: usize,
    ) -> hdf5::Result<Vec<T>> {
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

    /// The datasets of the group `g` (`/state`).
    pub(super) fn bind(g: &Group) -> hdf5::Result<StateVars> {
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
pub(super) struct Vars {
    pub(super) c_epoch: Appender<i64>,
    pub(super) c_iter: Appender<i64>,
    /// [`schema::CURVE_F64`], in order.
    pub(super) c_f64: Vec<Appender<f64>>,
    /// [`schema::CURVE_ROBUST`], in order (absent in older files).
    pub(super) c_robust: Option<Vec<Appender<f64>>>,
    /// The calibrated sets' series.
    pub(super) c_cal: Vec<CalVars>,
    /// `/reliability`'s epoch coordinate (with calibration only).
    pub(super) r_epoch: Option<Appender<i64>>,
    pub(super) val: Option<PerEpochVars>,
    pub(super) train: Option<PerEpochVars>,
    pub(super) k_iter: Appender<i64>,
    pub(super) k_epoch: Appender<f64>,
    pub(super) k_sets: Vec<SetVars>,
    pub(super) k_whist: Appender<u64>,
    pub(super) k_bhist: Appender<u64>,
    /// [`ckpt::NORMS`], in order.
    pub(super) k_norms: Vec<Appender<f64>>,
    pub(super) state: StateVars,
}

impl Vars {
    /// Binds the datasets of `file`, each growing one kept at the
    /// length it has.
    pub(super) fn bind(file: &hdf5::File, opts: &RecordOpts) -> hdf5::Result<Vars> {
        let c = file.group(schema::CURVES)?;
        let k = file.group(schema::CHECKPOINTS)?;
        let per = opts.samples != RecordSamples::None;
        let c_robust = if c.link_exists(schema::CURVE_ROBUST[0].name) {
            let all = schema::CURVE_ROBUST.iter().map(|v| open(&c, v.name));
            Some(all.collect::<hdf5::Result<_>>()?)
        } else {
            None
        };
        let r = file.group(schema::RELIABILITY).ok();
        Ok(Vars {
            c_robust,
            c_cal: CalVars::bind_all(&c, r.as_ref())?,
            r_epoch: r
                .as_ref()
                .map(|r| open(r, schema::EPOCH.name))
                .transpose()?,
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
    pub(super) fn each(
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
        for cv in &mut self.c_cal {
            cv.each(f)?;
        }
        if let Some(a) = &mut self.r_epoch {
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
    pub(super) fn sync(&mut self) -> hdf5::Result<()> {
        self.each(&mut |a, _| a.sync())
    }
}
