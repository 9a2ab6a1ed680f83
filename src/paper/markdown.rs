//! `REPORT.md`: the claims table, the machine and wall times, the
//! settings the paper leaves open, the cases' learning-rate grid, and
//! every figure, linked relative to the report so GitHub renders it.

use std::fmt::Write;
use std::path::Path;

use super::{Case, Paper, Role, Timings};
use crate::record::schema::RunStatus;
use crate::sweep::collect::{Collected, RowStatus};

/// Markdown table cells cannot hold `|` or newlines.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn fmt_secs(s: f64) -> String {
    if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{:.2} h", s / 3600.0)
    }
}

/// A figure's link, relative to the report, or a note when absent.
fn figure(dir: &Path, rel: &str, alt: &str) -> String {
    if dir.join(rel).is_file() {
        format!("![{alt}]({rel})\n")
    } else {
        format!("*{alt}: not drawn (`{rel}` is missing; see the case's summary.json)*\n")
    }
}

fn case_figure(dir: &Path, c: Option<&Case>, file: &str, alt: &str) -> String {
    match c {
        Some(c) => figure(dir, &format!("{}/{file}", c.report_dir), alt),
        None => format!("*{alt}: the case has no finished run*\n"),
    }
}

/// The PNG plots `collect` wrote, relative to `dir`.
fn sweep_plots(dir: &Path, c: &Collected) -> Vec<String> {
    c.files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "png"))
        .filter_map(|f| f.strip_prefix(dir).ok())
        .map(|f| f.to_string_lossy().replace('\\', "/"))
        .collect()
}

fn status_line(c: &Collected) -> String {
    let n = c.rows.len();
    let done = c
        .rows
        .iter()
        .filter(|r| r.status == RowStatus::Run(RunStatus::Complete))
        .count();
    let diverged = c
        .rows
        .iter()
        .filter(|r| r.status == RowStatus::Run(RunStatus::Diverged))
        .count();
    format!(
        "{n} runs: {done} complete, {diverged} diverged, {} other",
        n - done - diverged
    )
}

/// The settings the paper leaves open, and the values chosen.
const OPEN_SETTINGS: &[(&str, &str)] = &[
    ("Weight initialisation", "PyTorch's default for `nn.Linear` (uniform in +-1/sqrt(fan_in) for weights and biases), from the run's seed"),
    ("Validation set", "the training pool (60,000 samples) minus the training samples, drawn by the seed; capped at 5,000 samples in fig3-quick"),
    ("Evaluation set", "the official 10,000-sample test set"),
    ("Loss", "mean cross-entropy; per-sample losses computed as log1p(sum_{j!=y} exp(z_j - z_y)) so that tiny losses stay exact"),
    ("Learning rates of cases A-D", "a grid search per case (Adam 3e-4, 1e-3, 3e-3; SGD 0.01, 0.03, 0.1), judged by the validation error at the last of 200 epochs (below)"),
    ("Learning rates of fig2", "Adam 1e-3 (PyTorch's default), SGD 0.1 without momentum; trained until 100% training accuracy, at most 5,000 epochs"),
    ("Learning rates of fig3", "the same grid as the cases, judged the same way (150 epochs)"),
    ("Adam", "betas 0.9, 0.999, eps 1e-8; SGD without momentum or weight decay"),
    ("Which 80 fig3 models", "see sweeps/fig3.toml: the full grid over data, depth, width and optimiser at batch 64, and batch 16 and 256 for the 3-hidden-layer models"),
    ("Final epoch of fig2", "the first epoch with 100% training accuracy (else the epoch of maximum training accuracy)"),
    ("Outliers", "above the upper Tukey fence Q3 + 1.5 IQR of the validation losses of that epoch (linear-interpolated quartiles)"),
    ("Iterations of the heatmaps", "20 checkpoints per decade of parameter updates, from the first update"),
    ("Seeds", "seed 0 for cases and fig3; seeds 0-2 (Adam) and 0-1 (SGD) for fig2"),
];

fn claims_table(out: &mut String, p: &Paper) {
    out.push_str("## The claims\n\n");
    out.push_str("Each criterion is fixed in `src/paper/claims.rs` before any data is seen, and unit-tested on constructed cases; thresholds are stated in the criterion.\n\n");
    out.push_str("| # | claim | criterion | evidence | verdict |\n|---|---|---|---|---|\n");
    for c in &p.claims {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | **{}** |",
            c.number,
            cell(c.claim),
            cell(c.criterion),
            cell(&c.evidence),
            c.verdict
        );
    }
    out.push('\n');
}

fn machine(out: &mut String, p: &Paper, t: &Timings) {
    out.push_str("## Machine and wall time\n\n");
    let _ = writeln!(
        out,
        "CPU: {}, {} cores; SIMD path: {}; preinterp {}.\n",
        crate::machine::cpu_model(),
        crate::eval::num_cpus(),
        crate::kernels::simd_level(),
        env!("CARGO_PKG_VERSION")
    );
    out.push_str("| part | runs | wall time |\n|---|---|---|\n");
    let mut total = 0.0;
    for (part, c) in p.parts.iter().zip(&p.collected) {
        let w = t.wall_s.get(&part.name).copied().unwrap_or(0.0);
        total += w;
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            part.name,
            status_line(c),
            fmt_secs(w)
        );
    }
    let _ = writeln!(out, "| total | | {} |\n", fmt_secs(total));
    out.push_str("Wall times add up every invocation that trained runs of the part (a resumed part counts the time before and after the interruption).\n\n");
}

fn open_settings(out: &mut String) {
    out.push_str("## Settings the paper leaves open\n\n| setting | value chosen |\n|---|---|\n");
    for (k, v) in OPEN_SETTINGS {
        let _ = writeln!(out, "| {k} | {} |", cell(v));
    }
    out.push('\n');
}

fn grid(out: &mut String, p: &Paper) {
    out.push_str("## Cases A-D: the learning-rate grid\n\n");
    out.push_str("Each case trained at every learning rate of the grid for 200 epochs; the run with the lowest validation error at the last epoch is the case (ties: the first listed).\n\n");
    out.push_str("| case | learning rate | validation error at the end | minimum validation loss at epoch | chosen |\n|---|---|---|---|---|\n");
    for g in &p.grid {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            g.case.to_ascii_uppercase(),
            g.lr,
            g.final_val_error
                .map_or("-".into(), |e| format!("{:.2}%", 100.0 * e)),
            g.min_epoch.map_or("-".into(), |e| e.to_string()),
            if g.selected { "yes" } else { "" }
        );
    }
    out.push('\n');
    for c in &p.cases {
        let note = if c.lr == c.preset_lr {
            "the preset uses it".to_string()
        } else {
            format!(
                "the preset uses {} (it was chosen on other data)",
                c.preset_lr
            )
        };
        let _ = writeln!(
            out,
            "- Case {}: learning rate {} ({note}); run `{}`, report in [{}]({}/).",
            c.letter.to_ascii_uppercase(),
            c.lr,
            c.id,
            c.report_dir,
            c.report_dir
        );
    }
    out.push('\n');
}

fn figures(out: &mut String, dir: &Path, p: &Paper) {
    let case = |l: char| p.cases.iter().find(|c| c.letter == l);
    let sweep = |r: Role| {
        p.parts
            .iter()
            .position(|x| x.role == r)
            .map(|i| sweep_plots(dir, &p.collected[i]))
            .unwrap_or_default()
    };
    out.push_str("## Figure 1: learning curves of case A\n\n");
    out.push_str(&case_figure(
        dir,
        case('a'),
        "fig1_curves.png",
        "Figure 1, case A",
    ));
    out.push_str("\n## Figure 2: 95 one-hidden-layer models trained to interpolation\n\n");
    out.push_str("Each metric at the final (interpolation) epoch against its value at the epoch of minimum validation loss; triangles: validation loss and accuracy both rose.\n\n");
    for f in sweep(Role::Fig2) {
        out.push_str(&figure(dir, &f, "Figure 2"));
    }
    let name = if p.quick { "fig3-quick" } else { "fig3" };
    let _ = writeln!(
        out,
        "\n## Figure 3: models over dataset, training-set size, depth, width, batch size and optimiser ({name})\n"
    );
    if p.quick {
        out.push_str("The quick subset of fig3 (`sweeps/fig3-quick.toml`: every factor keeps at least two levels; its description says what is left out). `reproduce paper --fig3 full` runs all 240 runs.\n\n");
    }
    for f in sweep(Role::Fig3) {
        out.push_str(&figure(dir, &f, "Figure 3"));
    }
    out.push_str("\n## Figure 4: learning curves of cases B, C and D\n\n");
    for l in ['b', 'c', 'd'] {
        let alt = format!("Figure 4, case {}", l.to_ascii_uppercase());
        out.push_str(&case_figure(dir, case(l), "fig1_curves.png", &alt));
    }
    out.push_str("\n## Figure 5: per-sample loss distributions of case A (train, validation, evaluation)\n\n");
    out.push_str(&case_figure(
        dir,
        case('a'),
        "fig5_loss_heatmaps.png",
        "Figure 5, case A",
    ));
    out.push_str("\n## Figure 6: per-layer weight distributions of case A\n\n");
    out.push_str(&case_figure(
        dir,
        case('a'),
        "fig6_weight_heatmaps.png",
        "Figure 6, case A",
    ));
    out.push_str(
        "\n## Figure 7: epochs above the upper Tukey fence against final loss, case A\n\n",
    );
    out.push_str(&case_figure(
        dir,
        case('a'),
        "fig7_outliers.png",
        "Figure 7, case A",
    ));
    out.push_str("\n## Appendix: figures 5, 6 and 7 for cases B, C and D\n\n");
    for l in ['b', 'c', 'd'] {
        let u = l.to_ascii_uppercase();
        let _ = writeln!(out, "### Case {u}\n");
        for (file, n) in [
            ("fig5_loss_heatmaps.png", 5),
            ("fig6_weight_heatmaps.png", 6),
            ("fig7_outliers.png", 7),
        ] {
            out.push_str(&case_figure(
                dir,
                case(l),
                file,
                &format!("Figure {n}, case {u}"),
            ));
        }
        out.push('\n');
    }
}

/// The whole report.
pub fn render(dir: &Path, p: &Paper, t: &Timings) -> String {
    let mut out = String::new();
    out.push_str("# Pre-interpolation loss behaviour in neural networks: a reproduction\n\n");
    out.push_str("Venter, Theunissen & Davel (2021), reproduced by `preinterp reproduce paper`: cases A-D (each with a learning-rate grid), the fig2 sweep and a fig3 sweep, on the CPU. Run the same command on the same folder again to resume or to redraw this report.\n\n");
    claims_table(&mut out, p);
    machine(&mut out, p, t);
    open_settings(&mut out);
    grid(&mut out, p);
    figures(&mut out, dir, p);
    out
}
