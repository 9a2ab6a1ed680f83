//! `preinterp report` and `preinterp reproduce`.

use std::path::{Path, PathBuf};

use super::args::{ReportArgs, ReproduceArgs, TrainArgs};
use crate::config::Preset;
use crate::error::{Error, Result};
use crate::record::read::RunFile;
use crate::report;

fn default_report_dir(run: &Path) -> PathBuf {
    let stem = run
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into());
    run.with_file_name(format!("{stem}-report"))
}

pub(super) fn report(a: &ReportArgs) -> Result<u8> {
    let out = a.out.clone().unwrap_or_else(|| default_report_dir(&a.run));
    let s = report::report(&a.run, &out)?;
    report::print(&s, &out);
    Ok(0)
}

pub(super) fn reproduce(a: &ReproduceArgs) -> Result<u8> {
    let preset = Preset::parse(&a.case).map_err(|_| {
        Error::usage(format!(
            "reproduce {}: unknown case; choose one of a, b, c, d",
            a.case
        ))
    })?;
    let dir = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("reproduce-{}", preset.letter())));
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::io(&dir, format!("cannot create the output folder: {e}")))?;
    let run = dir.join("run.h5");
    let mut t = TrainArgs {
        data_dir: a.data_dir.clone(),
        mirror: a.mirror.clone(),
        no_download: a.no_download,
        threads: a.threads,
        checkpoints_per_decade: 20,
        ..TrainArgs::default()
    };
    let existing = run
        .is_file()
        .then(|| RunFile::read(&run).map(|r| r.status))
        .transpose()?;
    match existing.as_deref() {
        Some("complete") if !a.force => {
            return Err(Error::usage(format!(
                "{}: a finished run is already there; pass --force to train again, or run `preinterp report {}`",
                run.display(),
                run.display()
            )))
        }
        Some("running") | Some("interrupted") if !a.force => {
            println!("continuing the unfinished run in {}", run.display());
            t.resume = Some(run.clone());
        }
        _ => {
            t.preset = Some(preset.letter().to_string());
            t.epochs = a.epochs;
            t.out = Some(run.clone());
            t.force = a.force;
        }
    }
    let code = super::train_cmd::run(&t)?;
    if code == 130 {
        return Ok(code);
    }
    println!();
    let s = report::report(&run, &dir)?;
    report::print(&s, &dir);
    Ok(code)
}
