//! `preinterp reproduce paper`: its flags, the progress bars and what it
//! prints (the loop lives in `preinterp::paper::reproduce`).

use std::path::PathBuf;
use std::sync::RwLock;

use preinterp::error::{ErrorKind, Result};
use preinterp::paper::reproduce::{reproduce, Options, Progress};
use preinterp::paper::Fig3;
use preinterp::threads::Threads;

use super::args::PaperArgs;
use super::progress::{fmt_secs, SweepBars};

pub(super) fn run(a: &PaperArgs) -> Result<u8> {
    let fig3 = Fig3::parse(a.fig3.as_deref().unwrap_or("quick"))?;
    let dir = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("reproduce-paper"));
    let loc = a.data.parse()?;
    let o = Options {
        dir,
        fig3,
        specs: a.specs.clone(),
        jobs: a.jobs.unwrap_or_else(|| Threads::ALL.get()),
        seeds: a.seeds,
        locator: loc.locator(),
    };
    let stop = super::train_cmd::stop_flag();
    let bars = RwLock::new(None);
    let done = match reproduce(&o, &stop, &|p| show(&bars, p)) {
        // Stopped by a signal: the exit code says which (130, 143, 129).
        Err(e) if e.kind() == ErrorKind::Interrupted => {
            return Err(super::train_cmd::stopped_error(
                "reproduce paper interrupted",
            ))
        }
        r => r?,
    };
    println!("claims:");
    for c in &done.paper.claims {
        println!("  {:>2}. {}: {}", c.number, c.verdict, c.evidence);
    }
    println!("wrote {}", done.report.display());
    if done.failed > 0 {
        println!(
            "{} runs failed; see the <id>.error files in the part folders",
            done.failed
        );
        return Ok(1);
    }
    Ok(0)
}

/// Prints a part's start and its interruption; draws the current part's
/// bars.
fn show(bars: &RwLock<Option<SweepBars>>, p: Progress<'_>) {
    match p {
        Progress::Part { part, runs, dir } => {
            println!("{}: {} runs in {}", part.name, runs, dir.display());
            if let Ok(mut b) = bars.write() {
                *b = Some(SweepBars::new(runs));
            }
        }
        Progress::Added { runs } => {
            if let Some(b) = bars.read().ok().as_ref().and_then(|b| b.as_ref()) {
                b.add_runs(runs);
            }
        }
        Progress::Run(e) => {
            if let Ok(b) = bars.read() {
                if let Some(b) = b.as_ref() {
                    b.on_event(e);
                }
            }
        }
        Progress::PartEnd => {
            if let Some(b) = bars.write().ok().and_then(|mut b| b.take()) {
                b.finish();
            }
        }
        Progress::Interrupted { secs } => println!(
            "interrupted after {}; run the same command again to resume",
            fmt_secs(secs)
        ),
    }
}
