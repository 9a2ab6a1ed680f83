//! `preinterp reproduce paper`: the three parts as sweeps, then the
//! report (the work lives in `crate::paper`).

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::args::ReproduceArgs;
use super::progress::{fmt_secs, SweepBars};
use crate::error::{Error, ErrorKind, Result};
use crate::eval::num_cpus;
use crate::paper::{self, Fig3, Timings};
use crate::sweep::run::{run_sweep, Outcome, RunOpts};

pub(super) fn run(a: &ReproduceArgs) -> Result<u8> {
    for (given, flag) in [
        (a.epochs.is_some(), "--epochs"),
        (a.force, "--force"),
        (a.threads.is_some(), "--threads"),
    ] {
        if given {
            return Err(Error::usage(format!(
                "reproduce paper: {flag} cannot be given; the parts fix their settings (use --jobs for the runs at once)"
            )));
        }
    }
    let fig3 = Fig3::parse(a.fig3.as_deref().unwrap_or("quick"))?;
    let dir = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("reproduce-paper"));
    let loc = a.data.parse()?;
    let parts = paper::parts(fig3, a.specs.as_deref())?;
    let specs = paper::prepare(&dir, &parts)?;
    let stop = super::train_cmd::stop_flag();
    let jobs = a.jobs.unwrap_or_else(num_cpus).max(1);
    let mut failed = 0;
    for (part, spec) in parts.iter().zip(&specs) {
        let sweep = paper::sweep_of(spec)?;
        let runs: Vec<_> = sweep.runs.iter().collect();
        println!(
            "{}: {} runs in {}",
            part.name,
            runs.len(),
            dir.join(&part.name).display()
        );
        let o = RunOpts {
            out: dir.join(&part.name),
            jobs,
            locator: loc.locator(),
        };
        let start = Instant::now();
        let bars = SweepBars::new(runs.len());
        let results = run_sweep(spec, &runs, &o, &stop, &|e| bars.on_event(e));
        bars.finish();
        let results = results?;
        let trained = results.iter().any(|(_, o)| matches!(o, Outcome::Done(_)));
        if trained {
            Timings::add(&dir, &part.name, start.elapsed().as_secs_f64())?;
        }
        failed += results
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Failed(_)))
            .count();
        if stop.load(Ordering::SeqCst) {
            println!(
                "interrupted after {}; run the same command again to resume",
                fmt_secs(start.elapsed().as_secs_f64())
            );
            return Err(Error::new(
                ErrorKind::Interrupted,
                "reproduce paper interrupted",
            ));
        }
    }
    let p = paper::write_report(&dir, &parts, fig3 == Fig3::Quick, &loc.locator())?;
    println!("claims:");
    for c in &p.claims {
        println!("  {:>2}. {}: {}", c.number, c.verdict, c.evidence);
    }
    println!("wrote {}", dir.join(paper::REPORT).display());
    if failed > 0 {
        println!("{failed} runs failed; see the <id>.error files in the part folders");
        return Ok(1);
    }
    Ok(0)
}
