//! How long the runs of a sweep folder took, from their run files: the
//! configuration, the recorded wall time at every epoch's end, the
//! threads and the start and finish times.

use std::path::{Path, PathBuf};

use crate::config::RunConfig;
use crate::error::{Error, Result};
use crate::record::h5::{open_read, read_attr_str};
use crate::record::read::RunFile;
use crate::record::schema::{attr, RunStatus, CURVES, CURVE_F64};
use crate::stats;

/// One run file's timings.
#[derive(Clone, Debug)]
pub(crate) struct RunTimes {
    /// The run's id (the file's stem).
    pub id: String,
    /// Its configuration.
    pub cfg: RunConfig,
    /// Where it stands.
    pub status: RunStatus,
    /// Epochs trained.
    pub epochs: usize,
    /// Seconds per trained epoch (the chosen quantile of the per-epoch
    /// differences of the wall time), if any epoch was trained.
    pub epoch_s: Option<f64>,
    /// Seconds of epoch 0 (the first evaluation, before training).
    pub epoch0_s: f64,
    /// Wall time at the last epoch recorded (s).
    pub wall_s: f64,
    /// Seconds from start to finish of a finished run (whole seconds).
    pub duration_s: Option<f64>,
    /// Threads it ran on.
    pub threads: usize,
}

/// Seconds since 1970 of `2026-11-27T14:03:05Z` (the run files' times).
pub(crate) fn parse_utc(s: &str) -> Option<f64> {
    let s = s.trim().strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let d: Vec<i64> = date
        .split('-')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let t: Vec<i64> = time
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let ([y, m, day], [hh, mm, ss]) = (d.as_slice(), t.as_slice()) else {
        return None;
    };
    // Days from civil (Howard Hinnant's algorithm).
    let y = if *m <= 2 { y - 1 } else { *y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + hh * 3600 + mm * 60 + ss) as f64)
}

/// The `q`-quantile of `v` ([`stats::nan_quantile`]: linear
/// interpolation, NaN left out), `None` if nothing is left.
pub(crate) fn quantile(v: Vec<f64>, q: f64) -> Option<f64> {
    let x = stats::nan_quantile(v, q.clamp(0.0, 1.0));
    (!x.is_nan()).then_some(x)
}

impl RunTimes {
    /// Reads `path`; `q` picks the quantile of the per-epoch times.
    pub fn read(path: &Path, q: f64) -> Result<RunTimes> {
        let rf = RunFile::read(path)?;
        let cfg: RunConfig = serde_json::from_str(&rf.config)
            .map_err(|e| Error::data(path, format!("unreadable config: {e}")))?;
        let err = |e: hdf5::Error| Error::data(path, format!("cannot read its timings: {e}"));
        let f = open_read(path).map_err(err)?;
        let mut wall: Vec<f64> = f
            .group(CURVES)
            .and_then(|c| c.dataset(CURVE_F64[0].name))
            .and_then(|d| d.read_raw())
            .map_err(err)?;
        wall.truncate(rf.curves.epoch.len());
        let threads = f
            .attr(attr::THREADS)
            .and_then(|a| a.read_scalar::<i64>())
            .map_or(cfg.threads, |t| t.max(0) as usize);
        let time = |k: &str| read_attr_str(&f, k).ok().and_then(|s| parse_utc(&s));
        let duration_s = match (time(attr::STARTED_AT), time(attr::FINISHED_AT)) {
            (Some(a), Some(b)) if rf.status.is_final() => Some(b - a),
            _ => None,
        };
        let diffs: Vec<f64> = wall.windows(2).map(|w| w[1] - w[0]).collect();
        Ok(RunTimes {
            id: path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            status: rf.status,
            epochs: wall.len().saturating_sub(1),
            epoch_s: quantile(diffs, q),
            epoch0_s: wall.first().copied().unwrap_or(0.0),
            wall_s: wall.last().copied().unwrap_or(0.0),
            duration_s,
            threads,
            cfg,
        })
    }
}

/// Files that could not be read, each with the reason.
pub type Skipped = Vec<(PathBuf, String)>;

/// Every run file `DIR/*.h5` of each folder (`flag` names the option
/// they came from, for errors), sorted by path; files that cannot be
/// read (still being created, not run files) are returned apart with
/// the reason.
pub(crate) fn read_folders(
    dirs: &[PathBuf],
    q: f64,
    flag: &str,
) -> Result<(Vec<RunTimes>, Skipped)> {
    let (mut runs, mut skipped) = (vec![], vec![]);
    for dir in dirs {
        let entries = std::fs::read_dir(dir).map_err(|e| {
            Error::usage(format!(
                "{flag} {}: cannot read the folder: {e}",
                dir.display()
            ))
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "h5") && p.is_file())
            .collect();
        if files.is_empty() {
            return Err(Error::usage(format!(
                "{flag} {}: no run files (*.h5) in the folder",
                dir.display()
            )));
        }
        files.sort();
        for p in files {
            match RunTimes::read(&p, q) {
                Ok(r) => runs.push(r),
                Err(e) => skipped.push((p, e.to_string())),
            }
        }
    }
    Ok((runs, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times_and_quantiles() {
        assert_eq!(parse_utc("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(parse_utc("2000-03-01T00:00:01Z"), Some(951_868_801.0));
        assert_eq!(parse_utc(""), None);
        assert_eq!(parse_utc("2026-11-27 14:03:05"), None);
        assert_eq!(quantile(vec![3.0, 1.0, 2.0], 0.5), Some(2.0));
        assert_eq!(quantile(vec![1.0, 2.0], 0.5), Some(1.5));
        assert_eq!(quantile(vec![], 0.5), None);
    }
}
