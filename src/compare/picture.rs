//! `compare`'s figures: the pair matrices of the validation and the
//! evaluation set, the histogram of "outlier in k of N runs", and the
//! gallery of the validation samples that are outliers in (almost) every
//! run.

use std::path::{Path, PathBuf};

use super::set::{gather, SetComparison};
use super::{Comparison, RunInput};
use crate::data::{self, DatasetId, DatasetSpec, Locator};
use crate::error::Result;
use crate::plot::{self, PairMatrix, RunsHist};

/// Most samples in the gallery.
pub const GALLERY_MAX: usize = 40;

/// Figures written, and what was skipped.
#[derive(Default)]
pub struct Drawn {
    /// Files written.
    pub files: Vec<PathBuf>,
    /// One sentence per figure not drawn.
    pub notes: Vec<String>,
}

/// Draws every figure of `c` into its output folder.
pub fn draw(c: &Comparison, runs: &[RunInput], loc: &Locator) -> Result<Drawn> {
    let mut d = Drawn::default();
    let labels: Vec<String> = runs.iter().map(run_label).collect();
    let n = runs.len();
    let sets = [
        ("val", "validation", Some(&c.val)),
        ("eval", "evaluation", c.eval.as_ref()),
    ];
    let mut hists = vec![];
    for (short, long, s) in sets {
        let Some(s) = s else { continue };
        let title = format!(
            "{n} runs compared on the {long} set ({} shared samples)",
            s.sample.len()
        );
        d.files.extend(matrix(&c.out, short, &title, s, &labels)?);
        hists.push(RunsHist {
            name: format!("{long} ({} shared samples)", s.sample.len()),
            counts: &s.hist,
            independent: &s.hist_independent,
        });
    }
    let title = format!("in how many of the {n} runs is a sample a final outlier?");
    d.files.extend(plot::runs_hist(
        &c.out,
        "compare_outlier_runs",
        &title,
        &hists,
    )?);
    gallery(c, runs, loc, &mut d)?;
    Ok(d)
}

/// `id: title`, with the dataset shown by its last path component.
fn run_label(r: &RunInput) -> String {
    let short = Path::new(&r.dataset)
        .file_name()
        .map_or_else(|| r.dataset.clone(), |s| s.to_string_lossy().into_owned());
    let title = r.title.trim_start_matches("preinterp run: ");
    format!("{}: {}", r.id, title.replacen(&r.dataset, &short, 1))
}

/// The pair matrix of one set.
fn matrix(
    dir: &Path,
    set: &str,
    title: &str,
    s: &SetComparison,
    labels: &[String],
) -> Result<Vec<PathBuf>> {
    let explain = [
        "below the diagonal: Jaccard index of the two runs'".to_string(),
        "   final above-fence sets (its chance level in brackets)".to_string(),
        "above the diagonal: Spearman correlation of the final losses".to_string(),
        format!(
            "diagonal: outliers among the {} shared samples",
            s.sample.len()
        ),
    ];
    let m = PairMatrix {
        caption: "outlier sets and loss ranks, runs ordered by configuration",
        explain: &explain,
        labels,
        lower: &s.pairs.jaccard_outliers.v,
        lower_chance: &s.pairs.jaccard_outliers_chance.v,
        upper: &s.pairs.spearman.v,
        diagonal: &s.n_outliers,
        diagonal_what: "outliers",
        bar_desc: "Jaccard (lower), Spearman (upper)",
    };
    plot::pair_matrix(dir, &format!("compare_matrix_{set}"), title, &m)
}

/// A sample of the gallery (the fields of the gallery drawing's items).
#[allow(dead_code)] // read by plot::gallery once i12-samples is merged
#[derive(Clone, Debug)]
pub struct GallerySample {
    /// Its index in the training file.
    pub sample: u32,
    /// 784 pixels.
    pub image: Vec<u8>,
    /// Its label.
    pub label: u8,
    /// The most common final prediction over the runs (255 if not recorded).
    pub pred: u8,
    /// Median final loss over the runs.
    pub loss: f32,
    /// Fewest epochs above the fence in any run.
    pub outlier_epochs: i64,
    /// What the drawing writes under it.
    pub caption: String,
}

/// The fewest runs a gallery sample is an outlier in: all of them, or
/// all but one when there are three or more.
pub fn gallery_threshold(runs: usize) -> u32 {
    if runs <= 2 {
        runs as u32
    } else {
        runs as u32 - 1
    }
}

/// The shared validation samples (positions) that are outliers in at
/// least `gallery_threshold` runs: most runs first, then the highest
/// median final loss; at most [`GALLERY_MAX`].
pub fn gallery_picks(s: &SetComparison) -> Vec<usize> {
    let t = gallery_threshold(s.loss.len());
    let median = |j: usize| median_loss(s, j);
    let mut picks: Vec<usize> = (0..s.sample.len())
        .filter(|&j| s.outlier_runs[j] >= t)
        .collect();
    picks.sort_by(|&a, &b| {
        (s.outlier_runs[b].cmp(&s.outlier_runs[a])).then(median(b).total_cmp(&median(a)))
    });
    picks.truncate(GALLERY_MAX);
    picks
}

fn median_loss(s: &SetComparison, j: usize) -> f32 {
    let mut v: Vec<f32> = s.loss.iter().map(|l| l[j]).collect();
    v.sort_by(f32::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// The gallery of the samples that are outliers in (almost) every run.
fn gallery(c: &Comparison, runs: &[RunInput], loc: &Locator, d: &mut Drawn) -> Result<()> {
    let s = &c.val;
    let (n, t) = (runs.len(), gallery_threshold(runs.len()));
    let picks = gallery_picks(s);
    if picks.is_empty() {
        d.notes.push(format!(
            "no gallery: no validation sample is an outlier in {t} or more of the {n} runs"
        ));
        return Ok(());
    }
    let first = &runs[0];
    let spec = DatasetId::parse(&first.dataset).map_or_else(
        || DatasetSpec::Folder(PathBuf::from(&first.dataset)),
        DatasetSpec::Named,
    );
    let data = match data::load_recorded(&spec, &first.dataset_files, &first.dataset_sha256, loc) {
        Ok(x) if x.sha256 == first.dataset_sha256 => x,
        Ok(_) => {
            d.notes.push(
                "no gallery: the dataset found now differs from the recorded one (SHA-256)".into(),
            );
            return Ok(());
        }
        Err(e) => {
            d.notes.push(format!(
                "no gallery: cannot load the dataset for its images: {e}"
            ));
            return Ok(());
        }
    };
    let items: Vec<GallerySample> = picks
        .iter()
        .filter(|&&j| (s.sample[j] as usize) < data.pool.len())
        .map(|&j| gallery_sample(s, runs, &data.pool, j))
        .collect();
    let total = s.outlier_runs.iter().filter(|&&k| k >= t).count();
    let title = format!(
        "validation samples that are final outliers in at least {t} of {n} runs ({total}; the {} with the highest median loss)",
        items.len()
    );
    match draw_gallery(&c.out, &title, &items)? {
        Some(files) => d.files.extend(files),
        None => d
            .notes
            .push("no gallery: this build cannot draw galleries yet".into()),
    }
    Ok(())
}

/// One gallery sample: shared position `j`.
fn gallery_sample(
    s: &SetComparison,
    runs: &[RunInput],
    pool: &data::Samples,
    j: usize,
) -> GallerySample {
    let idx = s.sample[j];
    let one = [idx];
    let label = runs
        .iter()
        .find_map(|r| r.label.as_ref().map(|l| gather(&r.val.sample, l, &one)))
        .and_then(|v| v.first().copied())
        .unwrap_or(pool.labels[idx as usize]);
    let preds: Vec<u8> = runs
        .iter()
        .filter_map(|r| r.val.pred.as_ref().map(|p| gather(&r.val.sample, p, &one)))
        .filter_map(|v| v.first().copied())
        .collect();
    let epochs = runs
        .iter()
        .filter_map(|r| {
            gather(&r.val.sample, &r.epochs_above, &one)
                .first()
                .copied()
        })
        .min()
        .unwrap_or(0);
    let pred = most_common(&preds).unwrap_or(u8::MAX);
    let mut caption = format!("#{idx}: {} of {} runs", s.outlier_runs[j], runs.len());
    if !preds.is_empty() && preds.len() <= 5 && preds.iter().any(|&p| p != pred) {
        let all: Vec<String> = preds.iter().map(u8::to_string).collect();
        caption += &format!(", preds {}", all.join(" "));
    }
    GallerySample {
        sample: idx,
        image: pool.image(idx as usize).to_vec(),
        label,
        pred,
        loss: median_loss(s, j),
        outlier_epochs: epochs as i64,
        caption,
    }
}

/// The most common value (the smallest on ties).
fn most_common(v: &[u8]) -> Option<u8> {
    let mut count = [0usize; 256];
    for &x in v {
        count[x as usize] += 1;
    }
    (0..=255u8)
        .filter(|&x| count[x as usize] > 0)
        .max_by(|&a, &b| count[a as usize].cmp(&count[b as usize]).then(b.cmp(&a)))
}

/// Draws the gallery (`None`: this build has no gallery drawing; wired to
/// `crate::plot::gallery` once it is merged).
fn draw_gallery(
    _dir: &Path,
    _title: &str,
    _items: &[GallerySample],
) -> Result<Option<Vec<PathBuf>>> {
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_common_and_threshold() {
        assert_eq!(most_common(&[3, 7, 7, 3, 1]), Some(3));
        assert_eq!(most_common(&[9, 2, 9]), Some(9));
        assert_eq!(most_common(&[]), None);
        assert_eq!(gallery_threshold(2), 2);
        assert_eq!(gallery_threshold(3), 2);
        assert_eq!(gallery_threshold(10), 9);
    }
}
