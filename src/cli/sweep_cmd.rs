//! `preinterp sweep list` and `preinterp sweep run`.

use std::io::IsTerminal;
use std::time::Instant;

use super::args::{SweepArgs, SweepCmd};
use crate::data::Locator;
use crate::error::{Error, ErrorKind, Result};
use crate::eval::num_cpus;
use crate::progress::fmt_secs;
use crate::record::RecordOpts;
use crate::sweep::run::{run_sweep, Event, Outcome, RunOpts};
use crate::sweep::{Shard, Sweep};

/// The shard from `--shard`, else from Slurm's job-array variables.
fn shard(flag: &Option<String>) -> Result<Shard> {
    match flag {
        Some(s) => Shard::parse(s),
        None => Ok(Shard::from_slurm(|k| std::env::var(k).ok())?.unwrap_or(Shard::ALL)),
    }
}

pub(super) fn run(a: &SweepArgs) -> Result<u8> {
    match &a.cmd {
        SweepCmd::List { spec, shard: flag } => {
            let sweep = Sweep::read(spec)?;
            let shard = shard(flag)?;
            let mine: Vec<_> = sweep
                .runs
                .iter()
                .enumerate()
                .filter(|(k, _)| shard.contains(*k))
                .collect();
            println!(
                "sweep {}: {} runs{}",
                sweep.name,
                sweep.runs.len(),
                if shard.count > 1 {
                    format!(
                        ", shard {}/{} has {}",
                        shard.index + 1,
                        shard.count,
                        mine.len()
                    )
                } else {
                    String::new()
                }
            );
            for (_, r) in mine {
                println!("{}\t{}", r.id, r.cfg.title());
            }
            Ok(0)
        }
        SweepCmd::Collect { dir } => {
            let c = crate::sweep::collect::collect(dir)?;
            let count = |st: &str| c.rows.iter().filter(|r| r.status == st).count();
            println!(
                "sweep {}: {} runs: {} complete, {} diverged, {} running or interrupted, {} missing",
                c.sweep.name,
                c.rows.len(),
                count("complete"),
                count("diverged"),
                count("running") + count("interrupted"),
                count("missing")
            );
            let flagged = c
                .rows
                .iter()
                .filter(|r| r.summary.as_ref().is_some_and(|s| s.triangle))
                .count();
            println!("{flagged} runs with validation loss and accuracy both rising after the minimum (triangles)");
            for r in c
                .rows
                .iter()
                .filter(|r| r.status != "complete" && r.status != "diverged")
            {
                println!("  {}: {}", r.id, r.status);
            }
            for f in &c.files {
                println!("wrote {}", f.display());
            }
            Ok(0)
        }
        SweepCmd::Run {
            spec,
            out,
            jobs,
            shard: flag,
            record_samples,
            checkpoints_per_decade,
            data_dir,
            mirror,
            no_download,
        } => {
            let sweep = Sweep::read(spec)?;
            let shard = shard(flag)?;
            let o = RunOpts {
                out: out.clone(),
                jobs: jobs.unwrap_or_else(num_cpus),
                shard,
                locator: Locator::from_env(data_dir.clone(), mirror.clone(), !no_download),
                record: RecordOpts {
                    samples: *record_samples,
                    per_decade: *checkpoints_per_decade,
                    ..RecordOpts::default()
                },
            };
            let stop = super::train_cmd::stop_flag();
            let start = Instant::now();
            let tty = std::io::stderr().is_terminal();
            let failed = std::sync::atomic::AtomicUsize::new(0);
            let on_event = |e: Event<'_>| {
                let what = match e.outcome {
                    Outcome::Skipped(s) => format!("already {s}"),
                    Outcome::Done(s) => format!("{s:?}").to_lowercase(),
                    Outcome::Failed(m) => {
                        failed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        format!("FAILED: {m}")
                    }
                };
                let el = start.elapsed().as_secs_f64();
                let eta = el / e.finished as f64 * (e.total - e.finished) as f64;
                if tty {
                    eprint!("\r\x1b[2K");
                }
                println!(
                    "[{}/{}] {} {} ({:.1} s)",
                    e.finished, e.total, e.run.id, what, e.secs
                );
                if tty {
                    eprint!(
                        "{} done, {} running, {} failed, {} to go, ETA {}",
                        e.finished,
                        e.running,
                        failed.load(std::sync::atomic::Ordering::SeqCst),
                        e.total - e.finished,
                        fmt_secs(eta)
                    );
                }
            };
            let results = run_sweep(&sweep, &o, &stop, &on_event)?;
            if tty {
                eprintln!();
            }
            let n_failed = results
                .iter()
                .filter(|(_, o)| matches!(o, Outcome::Failed(_)))
                .count();
            let interrupted = stop.load(std::sync::atomic::Ordering::SeqCst);
            println!(
                "sweep {}: {} of {} runs in this shard handled, {} failed, in {}{}",
                sweep.name,
                results.len(),
                sweep
                    .runs
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| shard.contains(*k))
                    .count(),
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
    }
}
