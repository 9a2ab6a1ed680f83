//! `REPORT.md`: the claims table, the machine and wall times, the
//! settings the paper leaves open, the cases' learning-rate grid, and
//! every figure, linked relative to the report so GitHub renders it.

use std::fmt::Write;
use std::path::Path;

use super::{criteria, Case, Paper, Role, Timings};
use crate::record::schema::RunStatus;
use crate::sweep::collect::{Collected, RowStatus};
use crate::sweep::protocol::GroupView;

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
    ("Learning-rate grid", "5 values over 2 decades in half-decade steps (Adam 1e-4 ... 1e-2; SGD 3e-3 ... 0.3, no momentum), for the cases, the Fig. 1 model and fig3; a pick at an edge of the values tried extends the grid by one half-decade step there, up to 3 times"),
    ("Learning-rate pick", "\"the best validation error achieved by the end of training\", read as the validation error at the last epoch (ties: the first listed); diverged runs are never picked; the other reading (the smallest validation error over the epochs) is shown beside it"),
    ("Cases A-D and the Fig. 1 model", "fig3 models (\"four selected models from the previous section\"), trained for 150 epochs at the picked learning rate with 5 seeds: seed 0 from the grid and seeds 1-4 (`reproduce paper --seeds N` changes the number)"),
    ("Learning rates of fig2", "Adam 1e-3 (PyTorch's default), SGD 0.1 without momentum; trained until 100% training accuracy, at most 5,000 epochs"),
    ("Adam", "betas 0.9, 0.999, eps 1e-8; SGD without momentum or weight decay"),
    ("Which 80 fig3 models", "see sweeps/fig3.toml: the full grid over data, depth, width and optimiser at batch 64, and batch 16 and 256 for the 3-hidden-layer models"),
    ("Final epoch of fig2", "the first epoch with 100% training accuracy (else the epoch of maximum training accuracy)"),
    ("Outliers", "above the upper Tukey fence Q3 + 1.5 IQR of the validation losses of that epoch (linear-interpolated quartiles)"),
    ("Iterations of the heatmaps", "20 checkpoints per decade of parameter updates, from the first update"),
    ("Seeds", "seeds 0-4 for the cases and the Fig. 1 model (figures 1 and 5-7: seed 0); seed 0 for fig3; seeds 0-2 (Adam) and 0-1 (SGD) for fig2"),
];

fn claims_table(out: &mut String, p: &Paper) {
    out.push_str("## The claims\n\n");
    let _ = writeln!(
        out,
        "Each criterion lives in one table in `src/paper/criteria.rs` (the claim, the criterion, its thresholds), is unit-tested both ways on constructed evidence, and is versioned: **criteria version `{}`**, a SHA-256 of the table's text and thresholds that a test pins, so that any change to a criterion shows in review. Claims 6-10 and 12-14 are judged on every seed of their cases: a claim holds when it holds in at least 80% of the seeds (4 of 5), and is partly met when it holds in at least 40% (2-3 of 5) or is at least partly met in every seed; numbers are the median over seeds with their range.\n",
        criteria::version()
    );
    out.push_str(
        "| # | claim | criterion | evidence | per seed | verdict |\n|---|---|---|---|---|---|\n",
    );
    for c in &p.claims {
        let seeds: Vec<String> = c
            .per_seed
            .iter()
            .map(|s| format!("{}: {}", s.label, s.verdict))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | **{}** |",
            c.number,
            cell(c.claim),
            cell(c.criterion),
            cell(&c.evidence),
            cell(&seeds.join("; ")),
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

fn pct(x: Option<f64>) -> String {
    x.map_or("-".into(), |e| format!("{:.2}%", 100.0 * e))
}

/// Why a pick at an edge stands, in words (empty when it is inside).
fn edge_note(g: &GroupView, limit: usize) -> String {
    match g.edge {
        None => String::new(),
        Some(up) => {
            let side = if up { "largest" } else { "smallest" };
            if limit == 0 {
                format!("the pick is the {side} value tried, and the spec allows no extension")
            } else if g.extensions >= limit {
                format!("the pick is still the {side} value tried after {} extensions (the limit): the best rate may lie beyond it", g.extensions)
            } else {
                format!("the pick is the {side} value tried, with {} of {limit} extensions used (the run is unfinished)", g.extensions)
            }
        }
    }
}

/// The extensions a part's spec allows per group.
fn extend_limit(p: &Paper, r: Role) -> usize {
    p.parts
        .iter()
        .position(|x| x.role == r)
        .map_or(0, |i| p.collected[i].sweep.extend_edges)
}

fn grid(out: &mut String, p: &Paper) {
    let cases_limit = extend_limit(p, Role::Cases);
    out.push_str("## Cases A-D and the Fig. 1 model: the learning-rate grid\n\n");
    let _ = write!(
        out,
        "Each case trained at every learning rate of its grid (`spec`), and at one more half-decade step past an edge its grid picked (`extension`, up to {cases_limit}). The pick"
    );
    out.push_str(" has the lowest validation error at the last epoch (ties: the first listed; diverged runs never); `min over epochs` marks what the other reading, the lowest validation error at any epoch, would pick.\n\n");
    grid_table(out, p);
    case_lines(out, p, cases_limit);
    fig3_lines(out, p);
    narrow_warnings(out, p);
}

/// Every grid run of the cases, one row each.
fn grid_table(out: &mut String, p: &Paper) {
    out.push_str("| case | learning rate | origin | status | validation error at the end | lowest validation error | minimum validation loss at epoch | pick | min over epochs |\n|---|---|---|---|---|---|---|---|---|\n");
    let name = |l: char| {
        p.cases
            .iter()
            .find(|c| c.letter == l)
            .map_or(l.to_ascii_uppercase().to_string(), |c| c.name())
    };
    for g in &p.grid {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            name(g.case),
            g.lr,
            g.origin.name(),
            g.status,
            pct(g.final_val_error),
            pct(g.best_val_error),
            g.min_epoch.map_or("-".into(), |e| e.to_string()),
            if g.selected { "**yes**" } else { "" },
            if g.alt_selected { "yes" } else { "" }
        );
    }
    out.push('\n');
}

/// A line per case: its pick, the other reading, an edge, its seeds.
fn case_lines(out: &mut String, p: &Paper, limit: usize) {
    for c in &p.cases {
        let done = c.seeds.iter().filter(|s| s.2).count();
        let preset = if c.lr == c.preset_lr {
            "the preset uses it".to_string()
        } else {
            format!("the preset uses {}", c.preset_lr)
        };
        let alt = match c.alt_lr {
            Some(a) if a == c.lr => "the other reading agrees".to_string(),
            Some(a) => format!("the other reading would pick {a}"),
            None => "the other reading picks nothing".to_string(),
        };
        let edge = edge_note(&c.grid, limit);
        let _ = writeln!(
            out,
            "- {}: learning rate {} ({preset}; {alt}){}; {done} of {} seeds finished; seed 0 is `{}`, its report in [{}]({}/).",
            if c.letter == 'f' { "The Fig. 1 model".to_string() } else { format!("Case {}", c.name()) },
            c.lr,
            if edge.is_empty() { String::new() } else { format!("; {edge}") },
            c.seeds.len(),
            c.id,
            c.report_dir,
            c.report_dir
        );
    }
    out.push('\n');
}

/// fig3's grid: configurations, diverged runs, edge picks.
fn fig3_lines(out: &mut String, p: &Paper) {
    let limit = extend_limit(p, Role::Fig3);
    let g3 = &p.fig3_grid;
    let _ = writeln!(
        out,
        "fig3: {} configurations searched; {} runs never picked because they diverged{}; {} configurations picked an edge of the values tried{}",
        g3.groups,
        g3.excluded.len(),
        if g3.excluded.is_empty() {
            String::new()
        } else {
            format!(" ({})", g3.excluded.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", "))
        },
        g3.edges.len(),
        if g3.edges.is_empty() { "." } else { ":" }
    );
    for e in &g3.edges {
        let _ = writeln!(
            out,
            "- `{}` (tried {:?}): {}",
            e.id,
            e.grid.values,
            edge_note(&e.grid, limit)
        );
    }
    out.push('\n');
}

/// One warning per spec whose grids span less than [`super::GRID_DECADES`].
fn narrow_warnings(out: &mut String, p: &Paper) {
    for part in &p.parts {
        let narrow: Vec<_> = p.narrow.iter().filter(|n| n.0 == part.name).collect();
        let Some(worst) = narrow.iter().min_by(|a, b| a.2.total_cmp(&b.2)) else {
            continue;
        };
        let _ = writeln!(
            out,
            "**Warning:** {} grids of the {} spec span less than the {} decades the protocol asks for (the narrowest, `{}`, {:.2} decades).\n",
            narrow.len(),
            part.name,
            super::GRID_DECADES,
            worst.1,
            worst.2
        );
    }
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
    out.push_str("## Figure 1: learning curves of the paper's Fig. 1 model\n\n");
    out.push_str("A 1x1000 MLP trained on 5,000 Fashion-MNIST samples with SGD and mini-batch size 64 (seed 0), as the paper's Fig. 1.\n\n");
    out.push_str(&case_figure(
        dir,
        case('f'),
        "fig1_curves.png",
        "Figure 1, the 1x1000 Fashion-MNIST SGD model",
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
        out.push_str("The quick subset of fig3 (`sweeps/fig3-quick.toml`: every factor keeps at least two levels; its description says what is left out). `reproduce paper --fig3 full` runs all 80 configurations.\n\n");
    }
    for f in sweep(Role::Fig3) {
        out.push_str(&figure(dir, &f, "Figure 3"));
    }
    out.push_str("\n## Figure 4: learning curves of cases A-D over their seeds\n\n");
    out.push_str("Per case, the mean over its seeds of each set's curve, with the band from the lowest to the highest seed.\n\n");
    match &p.fig4 {
        Some(f) => out.push_str(&figure(dir, f, "Figure 4, cases A-D")),
        None => out.push_str("*Figure 4: no case has a finished run*\n"),
    }
    case_figures(out, dir, p);
}

/// Figures 5-7 of case A and the appendix's of B, C and D, on seed 0.
fn case_figures(out: &mut String, dir: &Path, p: &Paper) {
    let case = |l: char| p.cases.iter().find(|c| c.letter == l);
    for (file, n, what) in [
        (
            "fig5_loss_heatmaps.png",
            5,
            "per-sample loss distributions of case A (train, validation, evaluation)",
        ),
        (
            "fig6_weight_heatmaps.png",
            6,
            "per-layer weight distributions of case A",
        ),
        (
            "fig7_outliers.png",
            7,
            "epochs above the upper Tukey fence against final loss, case A",
        ),
    ] {
        let _ = writeln!(out, "\n## Figure {n}: {what} (seed 0)\n");
        out.push_str(&case_figure(
            dir,
            case('a'),
            file,
            &format!("Figure {n}, case A"),
        ));
    }
    out.push_str("\n## Appendix: figures 5, 6 and 7 for cases B, C and D (seed 0)\n\n");
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
    let seeds = p
        .parts
        .iter()
        .position(|x| x.role == Role::Cases)
        .map_or(1, |i| p.collected[i].sweep.seeds);
    let _ = write!(
        out,
        "Venter, Theunissen & Davel (2021), reproduced by `preinterp reproduce paper`: cases A-D and the paper's Fig. 1 model (each with a learning-rate grid and {seeds} seeds), the fig2 sweep and a fig3 sweep, on the CPU. Run the same command on the same folder again to resume or to redraw this report.\n\n"
    );
    claims_table(&mut out, p);
    super::over_confidence::section(&mut out, dir, p);
    machine(&mut out, p, t);
    open_settings(&mut out);
    grid(&mut out, p);
    figures(&mut out, dir, p);
    out
}
