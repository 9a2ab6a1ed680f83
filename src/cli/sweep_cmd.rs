//! `preinterp sweep list|run|collect`, one handler each.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Instant;

use preinterp::analysis::select::Criterion;
use preinterp::config::{DataLocation, Settings};
use preinterp::error::{Error, ErrorKind, Result};
use preinterp::record::schema::RunStatus;
use preinterp::sweep::collect::RowStatus;
use preinterp::sweep::run::{run_sweep, Outcome, RunOpts};
use preinterp::sweep::select::CriterionSummary;
use preinterp::sweep::{Shard, Sweep};
use preinterp::threads::Threads;

use super::args::{SweepArgs, SweepCmd};
use super::flags::Flags;
use super::progress::{fmt_secs, SweepBars};

pub(super) fn run(a: &SweepArgs) -> Result<u8> {
    match &a.cmd {
        SweepCmd::List { spec, shard } => list(spec, shard),
        SweepCmd::Collect { dir } => collect(dir),
        SweepCmd::Run {
            spec,
            out,
            jobs,
            shard,
            settings,
            data,
        } => run_runs(spec, out, *jobs, shard, settings, data),
    }
}

/// The shard from `--shard`, else from Slurm's job-array variables.
fn shard(flag: &Option<String>) -> Result<Shard> {
    match flag {
        Some(s) => Shard::parse(s),
        None => Ok(Shard::from_slurm(|k| std::env::var(k).ok())?.unwrap_or(Shard::ALL)),
    }
}

/// `sweep list`: the runs (of a shard), one line each.
fn list(spec: &Path, flag: &Option<String>) -> Result<u8> {
    let sweep = Sweep::read(spec, &Settings::default())?;
    let shard = shard(flag)?;
    let mine = sweep.shard_runs(shard);
    let of_shard = if shard.count > 1 {
        format!(
            ", shard {}/{} has {}",
            shard.index + 1,
            shard.count,
            mine.len()
        )
    } else {
        String::new()
    };
    println!("sweep {}: {} runs{of_shard}", sweep.name, sweep.runs.len());
    for r in mine {
        println!("{}\t{}", r.id, r.cfg.title());
    }
    Ok(0)
}

/// `sweep collect`: the table, the plots, and what is missing.
fn collect(dir: &Path) -> Result<u8> {
    let c = preinterp::sweep::collect::collect(dir)?;
    let count = |st: RunStatus| {
        c.rows
            .iter()
            .filter(|r| r.status == RowStatus::Run(st))
            .count()
    };
    println!(
        "sweep {}: {} runs: {} complete, {} diverged, {} running or interrupted, {} missing",
        c.sweep.name,
        c.rows.len(),
        count(RunStatus::Complete),
        count(RunStatus::Diverged),
        count(RunStatus::Running) + count(RunStatus::Interrupted),
        c.rows
            .iter()
            .filter(|r| r.status == RowStatus::Missing)
            .count()
    );
    let flagged = c
        .rows
        .iter()
        .filter(|r| r.summary.as_ref().is_some_and(|s| s.triangle))
        .count();
    println!("{flagged} runs with validation loss and accuracy both rising after the minimum (triangles)");
    print_selection(&c.criteria, c.sweep.select_best.as_deref());
    for r in &c.rows {
        if !matches!(r.status, RowStatus::Run(s) if s.is_final()) {
            println!("  {}: {}", r.id, r.status);
        }
    }
    for f in &c.files {
        println!("wrote {}", f.display());
    }
    Ok(0)
}

/// `sweep run`: the runs of this shard, `jobs` at once.
fn run_runs(
    spec: &Path,
    out: &Path,
    jobs: Option<usize>,
    flag: &Option<String>,
    settings: &Flags<Settings>,
    data: &Flags<DataLocation>,
) -> Result<u8> {
    let sweep = Sweep::read(spec, &settings.parse()?)?;
    let mine = sweep.shard_runs(shard(flag)?);
    let o = RunOpts {
        out: out.to_path_buf(),
        jobs: jobs.unwrap_or_else(|| Threads::ALL.get()),
        locator: data.parse()?.locator(),
    };
    let stop = super::train_cmd::stop_flag();
    let start = Instant::now();
    let bars = SweepBars::new(mine.len());
    let results = run_sweep(&sweep.path, &mine, &o, &stop, &|e| bars.on_event(e));
    bars.finish();
    let results = results?;
    let n_failed = results
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Failed(_)))
        .count();
    let interrupted = stop.load(Ordering::SeqCst);
    println!(
        "sweep {}: {} of {} runs in this shard handled, {} failed, in {}{}",
        sweep.name,
        results.len(),
        mine.len(),
        n_failed,
        fmt_secs(start.elapsed().as_secs_f64()),
        if interrupted {
            "; interrupted: run the same command again to resume"
        } else {
            ""
        }
    );
    if interrupted {
        return Err(Error::new(ErrorKind::Interrupted, "sweep interrupted"));
    }
    Ok(if n_failed > 0 { 1 } else { 0 })
}

/// Per criterion: the test accuracy it leads to over the sweep, and what
/// a grid search judged by it picks.
fn print_selection(criteria: &[CriterionSummary], setting: Option<&str>) {
    let runs = criteria.first().map_or(0, |c| c.runs);
    println!("model selection: test accuracy at the epoch each criterion picks ({runs} runs)");
    for (c, long) in criteria
        .iter()
        .zip(Criterion::ALL.map(Criterion::description))
    {
        if c.runs == 0 {
            println!("  {long:<42} not available (no such curves in the run files)");
            continue;
        }
        let mut line = format!(
            "  {long:<42} mean {:.2}%, worst {:.2}%",
            100.0 * c.mean_eval_accuracy,
            100.0 * c.worst_eval_accuracy
        );
        if let (Some(g), Some(key)) = (&c.grid, setting) {
            let picks: Vec<String> = g.picked.iter().map(|(v, n)| format!("{v} x{n}")).collect();
            line += &format!(
                "; grid over {key} picks {} in {} groups: mean {:.2}%",
                picks.join(", "),
                g.groups,
                100.0 * g.mean_eval_accuracy
            );
        }
        println!("{line}");
    }
}
