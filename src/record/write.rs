//! Writing a run: an epoch's rows and its resume state, a checkpoint's
//! rows, and the end of the run.

use super::h5::attr_str;
use super::schema::{self, attr, RunStatus};
use super::{h5, utc_now, Recorder};
use crate::error::Result;
use crate::model::CLASSES;
use crate::rng;
use crate::stats;
use crate::train::{EpochMetrics, PerSample, Status, Trainer};

impl Recorder {
    /// Appends the epoch's rows, then saves the state to resume from.
    pub(super) fn write_epoch(
        &mut self,
        m: &EpochMetrics,
        per: &PerSample,
        t: &Trainer,
    ) -> hdf5::Result<()> {
        self.write_curves(m, per)?;
        // The state to resume from is written only once the epoch's rows
        // are flushed: a crash before that leaves the previous epoch as
        // the resume point, and the rows beyond it are dropped on resume.
        self.vars.sync()?;
        self.file.flush()?;
        self.write_state(m, t)
    }

    /// Appends the epoch's rows of `/curves` and the per-epoch groups.
    fn write_curves(&mut self, m: &EpochMetrics, per: &PerSample) -> hdf5::Result<()> {
        let st = stats::loss_stats(&per.val.loss, &mut self.scratch);
        let v = &mut self.vars;
        v.c_epoch.push_value(m.epoch as i64)?;
        v.c_iter.push_value(m.iteration as i64)?;
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
            a.push_value(x)?;
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
            a.push_value(x)?;
        }
        let sets = [&per.val, &per.eval];
        if let Some(a) = &mut v.r_epoch {
            a.push_value(m.epoch as i64)?;
        }
        for cv in &mut v.c_cal {
            let e = sets[cv.set];
            let cal = &mut self.calibrators[cv.set];
            cv.push(&cal.calibrate(&e.logits, &e.label, &e.loss, CLASSES))?;
        }
        if let Some(g) = &mut v.val {
            g.push(m.epoch, &per.val)?;
        }
        if let Some(g) = &mut v.train {
            g.push(m.epoch, &per.train)?;
        }
        Ok(())
    }

    /// Saves the state at the end of epoch `m.epoch` into the slot of its
    /// parity; the other slot keeps the epoch before, which
    /// `/state/epoch` still names until the slot is flushed, so a kill at
    /// any moment leaves a whole state.
    fn write_state(&mut self, m: &EpochMetrics, t: &Trainer) -> hdf5::Result<()> {
        let s = &self.vars.state;
        let k = m.epoch % 2;
        s.put(&s.params, k, &t.params)?;
        let opt = t.opt.state();
        // Plain SGD keeps no moments: the datasets stay as created.
        if !opt.m.is_empty() {
            s.put(&s.opt_m, k, opt.m)?;
        }
        if !opt.v.is_empty() {
            s.put(&s.opt_v, k, opt.v)?;
        }
        s.put(&s.opt_step, k, &[opt.step as i64])?;
        s.put(&s.iteration, k, &[t.iteration as i64])?;
        s.put(&s.wall_time, k, &[m.wall_s])?;
        let next = rng::stream_seed(self.seed, rng::Purpose::Shuffle, m.epoch as u64 + 1);
        s.put(&s.shuffle_seed, k, &[next])?;
        self.file.flush()?;
        // Last: the epoch commits the slot.
        s.epoch.write_raw(&[m.epoch as i64])?;
        self.file.flush()
    }

    /// Appends a checkpoint's rows: per-sample losses, loss histograms,
    /// weight and bias histograms and norms.
    pub(super) fn write_checkpoint(
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
        let v = &mut self.vars;
        v.k_iter.push_value(iteration as i64)?;
        v.k_epoch
            .push_value(iteration as f64 / self.steps_per_epoch)?;
        for (sv, ev) in v.k_sets.iter_mut().zip([&per.train, &per.val, &per.eval]) {
            if let (Some(l), Some(c)) = (&mut sv.loss, &mut sv.correct) {
                l.push(&ev.loss)?;
                c.push(&ev.correct)?;
            }
            let nan = self.loss_bins.count(&ev.loss, &mut self.counts);
            sv.hist.push(&self.counts)?;
            sv.nan.push_value(nan)?;
        }
        v.k_whist.push(&self.wcounts)?;
        v.k_bhist.push(&self.bcounts)?;
        for (a, x) in v.k_norms.iter_mut().zip(self.norms.chunks_exact(nl)) {
            a.push(x)?;
        }
        v.sync()?;
        self.file.flush()
    }

    /// Ends SWMR writing, then marks the run as ended with `status`; the
    /// recorder is spent.
    pub fn finish(self, status: Status) -> Result<()> {
        let s = RunStatus::from(status);
        let Recorder {
            path,
            file,
            mut vars,
            lock,
            ..
        } = self;
        // Every row is synced at the flush point it belongs to; a
        // leftover would be a bug, but costs nothing to write.
        vars.sync()
            .and_then(|_| file.flush())
            .map_err(|e| h5::err(&path, "cannot write the run file", e))?;
        // Attributes cannot change under SWMR: close, reopen, write.
        drop(vars);
        file.close()
            .map_err(|e| h5::err(&path, "cannot close the run file", e))?;
        let res = (|| {
            let f = hdf5::File::open_rw(&path)?;
            attr_str(&f, attr::STATUS, s.as_str())?;
            attr_str(&f, attr::FINISHED_AT, &utc_now())?;
            if let Some(text) = calibration_status(&f)? {
                attr_str(&f, schema::calibration::STATUS_ATTR, &text)?;
            }
            f.flush()
        })();
        drop(lock);
        res.map_err(|e| h5::err(&path, "cannot finish the run file", e))
    }
}

/// One line per calibrated set saying at how many epochs `T*` exists,
/// and why not elsewhere (from the whole file, so a resumed run's
/// earlier epochs count); `None` for a file without calibration.
fn calibration_status(f: &hdf5::File) -> hdf5::Result<Option<String>> {
    use crate::stats::calibration::Status;
    use schema::calibration as cal;
    let c = f.group(schema::CURVES)?;
    let mut lines = vec![];
    for set in cal::SETS {
        let name = cal::name(set, cal::STATUS.name);
        if !c.link_exists(&name) {
            continue;
        }
        let flags: Vec<u8> = c.dataset(&name)?.read_raw()?;
        let mut line = format!(
            "{set}: T* found at {} of {} epochs",
            flags.iter().filter(|&&v| v == 0).count(),
            flags.len()
        );
        for st in &Status::ALL[1..] {
            let at: Vec<usize> = (0..flags.len())
                .filter(|&e| flags[e] == *st as u8)
                .collect();
            if let (Some(first), Some(last)) = (at.first(), at.last()) {
                line += &format!(
                    "; none at {} ({}, epochs {first}..{last})",
                    at.len(),
                    st.meaning()
                );
            }
        }
        lines.push(line);
    }
    Ok((!lines.is_empty()).then(|| lines.join("\n")))
}
