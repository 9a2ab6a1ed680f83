//! `preinterp sweep list|run|collect|plan`, one handler each.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Instant;

use preinterp::analysis::select::Criterion;
use preinterp::config::{DataLocation, Settings};
use preinterp::error::{Error, Result};
use preinterp::record::schema::RunStatus;
use preinterp::sweep::collect::RowStatus;
use preinterp::sweep::cost::Fit;
use preinterp::sweep::measured::Measured;
use preinterp::sweep::plan::{plan, Plan, PlanOpts};
use preinterp::sweep::run::{run_protocol, Outcome, RunOpts};
use preinterp::sweep::select::CriterionSummary;
use preinterp::sweep::{Shard, Sweep};
use preinterp::threads::Threads;

use super::args::{PlanArgs, SweepArgs, SweepCmd};
use super::flags::Flags;
use super::progress::{fmt_secs, SweepBars};

pub(super) fn run(a: &SweepArgs) -> Result<u8> {
    match &a.cmd {
        SweepCmd::List { spec, shard, json } => list(spec, shard, *json),
        SweepCmd::Collect { dir } => collect(dir),
        SweepCmd::Run {
            spec,
            out,
            jobs,
            shard,
            settings,
            data,
            quiet: _,
        } => run_runs(spec, out, *jobs, shard, settings, data),
        SweepCmd::Plan(p) => plan_cmd(p),
    }
}

/// The shard from `--shard`, else from Slurm's job-array variables.
fn shard(flag: &Option<String>) -> Result<Shard> {
    match flag {
        Some(s) => Shard::parse(s),
        None => Ok(Shard::from_slurm(|k| std::env::var(k).ok())?.unwrap_or(Shard::ALL)),
    }
}

/// `sweep list`: the runs (of a shard), one line each (one JSON
/// object each with `json`).
fn list(spec: &Path, flag: &Option<String>, json: bool) -> Result<u8> {
    let sweep = Sweep::read(spec, &Settings::default())?;
    let shard = shard(flag)?;
    let mine = sweep.shard_runs(shard);
    if json {
        for r in mine {
            let settings: serde_json::Map<String, serde_json::Value> = r
                .settings
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect();
            let line =
                serde_json::json!({"id": r.id, "title": r.cfg.title(), "settings": settings});
            println!("{line}");
        }
        return Ok(0);
    }
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

/// `sweep run`: the runs of this shard, `jobs` at once; runs other
/// workers hold are left to them (and are no failure).
fn run_runs(
    spec: &Path,
    out: &Path,
    jobs: Option<usize>,
    flag: &Option<String>,
    settings: &Flags<Settings>,
    data: &Flags<DataLocation>,
) -> Result<u8> {
    let sweep = Sweep::read(spec, &settings.parse()?)?;
    let shard = shard(flag)?;
    let mine = sweep.shard_runs(shard);
    let o = RunOpts {
        out: out.to_path_buf(),
        jobs: jobs.unwrap_or_else(|| Threads::ALL.get()),
        locator: data.parse()?.locator(),
    };
    let stop = super::train_cmd::stop_flag();
    let start = Instant::now();
    let bars = SweepBars::new(mine.len());
    let results = run_protocol(&sweep, shard, &o, &stop, &|e| bars.on_event(e), &|n| {
        bars.add_runs(n)
    });
    bars.finish();
    let results = results?;
    let n_failed = results
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Failed(_)))
        .count();
    let n_held = results
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Held(_)))
        .count();
    let interrupted = stop.load(Ordering::SeqCst);
    let added = results
        .iter()
        .filter(|(id, _)| !mine.iter().any(|r| &r.id == id))
        .count();
    println!(
        "sweep {}: {} of {} runs in this shard handled{}, {} failed, in {}{}{}",
        sweep.name,
        results.len() - added,
        mine.len(),
        if added > 0 {
            format!(" and {added} the grid protocol added")
        } else {
            String::new()
        },
        n_failed,
        fmt_secs(start.elapsed().as_secs_f64()),
        if n_held > 0 {
            format!("; {n_held} left to other workers")
        } else {
            String::new()
        },
        if interrupted {
            "; interrupted: run the same command again to resume"
        } else {
            ""
        }
    );
    if interrupted {
        return Err(super::train_cmd::stopped_error("sweep interrupted"));
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

/// `sweep plan`: the plan, as a table or as JSON.
fn plan_cmd(a: &PlanArgs) -> Result<u8> {
    let o = PlanOpts {
        cores: a.cores.clone(),
        calibrate: a.calibrate.clone(),
        measured: a
            .measured
            .iter()
            .map(|m| Measured::parse(m))
            .collect::<Result<_>>()?,
        measured_weight: a.measured_weight,
        speedup2: a.speedup2,
        quantile: a.quantile,
        locator: a.data.parse()?.locator(),
    };
    let p = plan(&a.spec, &o)?;
    if a.json {
        let text = serde_json::to_string_pretty(&p)
            .map_err(|e| Error::usage(format!("cannot write the plan as JSON: {e}")))?;
        println!("{text}");
    } else {
        print_calibration(&p);
        print_schedule(&p);
    }
    Ok(0)
}

/// Hours, with minutes too below 2 h (seconds below 2 min).
fn fmt_h(s: f64) -> String {
    let h = format!("{:.2} h", s / 3600.0);
    if s < 120.0 {
        format!("{s:.1} s")
    } else if s < 7200.0 {
        format!("{h} ({:.1} min)", s / 60.0)
    } else {
        h
    }
}

/// One fit's coefficients, in words.
fn describe(f: &Fit) -> String {
    let gf = |k: f64| {
        if k > 0.0 {
            format!("{:.1} GFLOP/s", 1e-9 / k)
        } else {
            "(unused)".into()
        }
    };
    let step = if f.per_step_term {
        format!("{:.2} ns per parameter per step", f.d_s_per_update * 1e9)
    } else {
        "not identifiable from these runs, left out".into()
    };
    format!(
        "{:<14} {:>3} runs: train {}, eval {}, per epoch +{:.1} ms, epoch 0 +{:.1} ms; per step: {step}",
        f.name,
        f.runs,
        gf(f.a_s_per_train_flop),
        gf(f.b_s_per_eval_flop),
        f.c_s * 1e3,
        f.c0_s * 1e3
    )
}

/// What the model was fitted on, and how well it fits.
fn print_calibration(p: &Plan) {
    let dirs: Vec<String> = p
        .calibrate
        .iter()
        .map(|d| d.display().to_string())
        .collect();
    println!(
        "calibration: {} run files read from {}",
        p.runs_read,
        dirs.join(", ")
    );
    if let Some(s) = p.skipped.first() {
        println!("  {} unreadable, e.g. {s}", p.skipped.len());
    }
    if p.left_out_threaded > 0 {
        println!(
            "  {} ran on more than one thread: left out of the fit",
            p.left_out_threaded
        );
    }
    println!(
        "cost model (one thread; seconds per epoch = the {}-quantile of each run's per-epoch times):",
        p.quantile
    );
    let fits: Vec<&Fit> = p.model.per_dataset.values().collect();
    if !matches!(fits.as_slice(), [only] if only.runs == p.model.pooled.runs) {
        println!("  {}", describe(&p.model.pooled));
    }
    for f in fits {
        println!("  {}", describe(f));
    }
    if let Some(e) = &p.fit_error {
        println!(
            "  error per run over {} runs: median |err| {:.1}%, max |err| {:.1}%",
            e.runs,
            100.0 * e.median_abs_rel_err,
            100.0 * e.max_abs_rel_err
        );
    }
    for m in &p.measured {
        println!(
            "  --measured {}: the model without it {:.2} s/epoch ({:+.1}%)",
            m.measured,
            m.model_without_it_s,
            100.0 * (m.model_without_it_s - m.seconds) / m.seconds
        );
    }
    println!(
        "  per-run overhead (finish - start - recorded wall time, median): {:.2} s",
        p.per_run_overhead_s
    );
}

/// The prediction and the table of core counts.
fn print_schedule(p: &Plan) {
    let mut from: Vec<&str> = p.targets.iter().map(|t| t.epochs_from).collect();
    from.sort_unstable();
    from.dedup();
    let n_measured = p.targets.iter().filter(|t| t.from_measured).count();
    println!(
        "sweep {} ({}): {} runs, epochs from {}{}",
        p.sweep,
        p.spec.display(),
        p.targets.len(),
        from.join(", "),
        if n_measured > 0 {
            format!(", {n_measured} timed by --measured")
        } else {
            String::new()
        }
    );
    if let Some(t) = p
        .targets
        .iter()
        .max_by(|a, b| a.seconds.total_cmp(&b.seconds))
    {
        println!(
            "  longest run {}, {:.2} s/epoch: {}",
            fmt_h(t.seconds),
            t.epoch_s,
            t.title
        );
    }
    println!(
        "speed-up on T threads: Amdahl's law through S(2) = {}",
        p.speedup2
    );
    println!(
        "{:>5}  {:>20}  {:>20}  {:>11}  {:>20}",
        "cores", "spec order", "longest first", "core-hours", "longest run"
    );
    for r in &p.schedule {
        println!(
            "{:>5}  {:>20}  {:>20}  {:>11.2}  {:>20}",
            r.cores,
            fmt_h(r.spec_order_s),
            fmt_h(r.longest_first_s),
            r.core_hours,
            fmt_h(r.longest_run_s)
        );
    }
}
