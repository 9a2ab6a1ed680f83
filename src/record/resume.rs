//! Picking a run up again: the status a file says it has, the state it
//! saved at its last complete epoch, and the file rolled back to it.

use std::path::{Path, PathBuf};

use hdf5::{Dataset, Group};

use super::h5::{attr_str, read_attr_str};
use super::schema::{attr, RunStatus};
use super::vars::{StateVars, Vars};
use super::{busy, cf, h5, h5ds, lock, schema, RecordOpts, Recorder, Schedule};
use crate::config::RunConfig;
use crate::error::{Error, Result};
use crate::rng;

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

/// Opens the run file `path` to read its resume point; a file left
/// flagged as open by a killed writer is cleared first (as `h5clear -s`).
fn open_to_resume(path: &Path) -> Result<hdf5::File> {
    if lock::held_by_another(path) {
        return Err(busy(path));
    }
    match hdf5::File::open(path) {
        Ok(f) => Ok(f),
        Err(_) if path.is_file() => {
            h5ds::clear_status_flags(path)
                .map_err(|e| h5::err(path, "cannot open the run file", e))?;
            hdf5::File::open(path).map_err(|e| h5::err(path, "cannot open the run file", e))
        }
        Err(e) => Err(h5::err(path, "cannot open the run file", e)),
    }
}

/// The resume point of a run of `cfg` recording `opts`, from the state
/// saved in `/state` (the dataset files still to be filled in).
fn read_state(
    st: &Group,
    cfg: RunConfig,
    opts: RecordOpts,
) -> std::result::Result<ResumePoint, String> {
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
    let read = || -> hdf5::Result<ResumePoint> {
        Ok(ResumePoint {
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
            cfg,
            opts,
            dataset_files: Vec::new(),
            dataset_sha256: Vec::new(),
        })
    };
    read().map_err(|e| format!("not a preinterp run file that can be resumed: {e}"))
}

impl Recorder {
    /// The status a run file's root says it has.
    pub fn status(path: &Path) -> Result<RunStatus> {
        let f = h5::open_read(path).map_err(|e| h5::err(path, "cannot open the run file", e))?;
        let s = read_attr_str(&f, attr::STATUS).map_err(|e| h5::err(path, "no status", e))?;
        s.parse()
            .map_err(|e| Error::data(path, format!("unreadable status: {e}")))
    }

    /// Reads the resume point of an unfinished run file.
    pub fn resume_point(path: &Path) -> Result<ResumePoint> {
        let file = open_to_resume(path)?;
        let err = |e: hdf5::Error| h5::err(path, "not a preinterp run file that can be resumed", e);
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
        let p = read_state(&file.group(schema::STATE).map_err(err)?, cfg, opts)
            .map_err(|e| Error::data(path, e))?;
        let rows = file
            .group(schema::CURVES)
            .and_then(|c| c.dataset(schema::EPOCH.name))
            .map_err(err)?
            .shape()[0];
        if rows < p.epoch + 1 {
            return Err(Error::data(
                path,
                format!(
                    "its state is at epoch {} but only {rows} epochs of curves were written",
                    p.epoch
                ),
            ));
        }
        let lines = |s: String| s.lines().map(str::to_string).collect::<Vec<_>>();
        Ok(ResumePoint {
            dataset_files: lines(text(attr::DATASET_FILES)?)
                .into_iter()
                .map(PathBuf::from)
                .collect(),
            dataset_sha256: lines(text(attr::DATASET_SHA256)?),
            ..p
        })
    }

    /// Reopens a run file at its resume point: everything recorded after
    /// the last complete epoch is dropped, the status goes back to
    /// `running`, and SWMR writing starts again.
    pub(crate) fn reopen(path: &Path, p: &ResumePoint, n_train: usize) -> Result<Self> {
        if lock::held_by_another(path) {
            return Err(busy(path));
        }
        let file = hdf5::File::open_rw(path)
            .map_err(|e| h5::err(path, "cannot open the run file for writing", e))?;
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
            cf::append_history(&file)?;
            Ok(vars)
        })()
        .map_err(|e| {
            h5::err(
                path,
                "cannot roll the run file back to its last complete epoch",
                e,
            )
        })?;
        let warm = last_temperatures(&file, p.epoch + 1)
            .map_err(|e| h5::err(path, "cannot read the recorded temperatures", e))?;
        let mut r = Self::start(path, file, vars, &p.cfg, p.opts, n_train)?;
        for it in 0..=p.iteration {
            r.schedule.is_due(it);
        }
        for (cal, t) in r.calibrators.iter_mut().zip(warm) {
            if let Some(t) = t {
                cal.warm_start(t);
            }
        }
        Ok(r)
    }
}

/// Per set of [`schema::calibration::SETS`], the last finite `T*` of the
/// first `epochs` rows: where the uninterrupted run's next solve starts.
fn last_temperatures(file: &hdf5::File, epochs: usize) -> hdf5::Result<[Option<f64>; 2]> {
    use schema::calibration as cal;
    let c = file.group(schema::CURVES)?;
    let mut out = [None; 2];
    for (slot, set) in out.iter_mut().zip(cal::SETS) {
        let name = cal::name(set, cal::SERIES[0].name);
        if c.link_exists(&name) {
            let t: Vec<f64> = c.dataset(&name)?.read_raw()?;
            *slot = t.iter().take(epochs).rev().copied().find(|t| t.is_finite());
        }
    }
    Ok(out)
}
