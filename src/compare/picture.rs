//! `compare`'s figures: the pair matrices of the validation and the
//! evaluation set, the histogram of "outlier in k of N runs", and the
//! gallery of the validation samples that are outliers in (almost) every
//! run.

use std::path::{Path, PathBuf};

use super::set::{gather, SetComparison};
use super::{Comparison, RunInput};
use crate::data::{self, DatasetId, DatasetSpec, Locator};
use crate::error::Result;
use crate::plot::{self, GalleryItem, GallerySection, PairMatrix, RunsHist};

/// Most samples in the gallery.
pub(crate) const GALLERY_MAX: usize = 40;

/// Figures written, and what was skipped.
#[derive(Default)]
pub(crate) struct Drawn {
    /// Files written.
    pub files: Vec<PathBuf>,
    /// One sentence per figure not drawn.
    pub notes: Vec<String>,
}

/// Draws every figure of `c` into its output folder.
pub(crate) fn draw(c: &Comparison, runs: &[RunInput], loc: &Locator) -> Result<Drawn> {
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

/// The fewest runs a gallery sample is an outlier in: all of them, or
/// all but one when there are three or more.
pub(crate) fn gallery_threshold(runs: usize) -> u32 {
    if runs <= 2 {
        runs as u32
    } else {
        runs as u32 - 1
    }
}

/// The shared validation samples (positions) that are outliers in at
/// least `gallery_threshold` runs, grouped by that number of runs (most
/// first), each group by decreasing median final loss; at most
/// [`GALLERY_MAX`], shared equally between the groups (a group that
/// needs less leaves the rest to the others).
pub(crate) fn gallery_picks(s: &SetComparison) -> Vec<usize> {
    let t = gallery_threshold(s.loss.len());
    let median = |j: usize| median_loss(s, j);
    let mut all: Vec<usize> = (0..s.sample.len())
        .filter(|&j| s.outlier_runs[j] >= t)
        .collect();
    all.sort_by(|&a, &b| {
        (s.outlier_runs[b].cmp(&s.outlier_runs[a])).then(median(b).total_cmp(&median(a)))
    });
    let groups: Vec<Vec<usize>> = all
        .chunk_by(|&a, &b| s.outlier_runs[a] == s.outlier_runs[b])
        .map(<[usize]>::to_vec)
        .collect();
    let mut take = vec![0usize; groups.len()];
    let mut left = GALLERY_MAX.min(all.len());
    while left > 0 {
        let open: Vec<usize> = (0..groups.len())
            .filter(|&g| take[g] < groups[g].len())
            .collect();
        let share = (left / open.len()).max(1);
        for g in open {
            let more = share.min(groups[g].len() - take[g]).min(left);
            take[g] += more;
            left -= more;
        }
    }
    groups
        .iter()
        .zip(take)
        .flat_map(|(g, n)| g[..n].to_vec())
        .collect()
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

/// The training pool of the dataset the runs recorded (found where it
/// was, else through `loc`), or why not.
fn load_pool(first: &RunInput, loc: &Locator) -> std::result::Result<data::Samples, String> {
    let spec = DatasetId::parse(&first.dataset).map_or_else(
        || DatasetSpec::Folder(PathBuf::from(&first.dataset)),
        DatasetSpec::Named,
    );
    match data::load_recorded(&spec, &first.dataset_files, &first.dataset_sha256, loc) {
        Ok(x) if x.sha256 == first.dataset_sha256 => Ok(x.pool),
        Ok(_) => Err("the dataset found now differs from the recorded one (SHA-256)".into()),
        Err(e) => Err(format!("cannot load the dataset for its images: {e}")),
    }
}

/// The gallery of the samples that are outliers in (almost) every run:
/// one section per number of runs, most first.
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
    let pool = match load_pool(&runs[0], loc) {
        Ok(p) => p,
        Err(why) => {
            d.notes.push(format!("no gallery: {why}"));
            return Ok(());
        }
    };
    let mut sections: Vec<GallerySection> = vec![];
    let mut current = None;
    for &j in picks
        .iter()
        .filter(|&&j| (s.sample[j] as usize) < pool.len())
    {
        let k = s.outlier_runs[j];
        if current != Some(k) {
            current = Some(k);
            let total = s.outlier_runs.iter().filter(|&&x| x == k).count();
            sections.push(GallerySection {
                header: format!("final outliers in {k} of {n} runs: {total} samples, by median final loss (label -> most common prediction; loss and outlier epochs: medians over the runs)"),
                items: vec![],
            });
        }
        if let Some(sec) = sections.last_mut() {
            sec.items.push(gallery_item(s, runs, &pool, j));
        }
    }
    let title = format!("validation samples that are final outliers in at least {t} of {n} runs");
    d.files.extend(plot::gallery_sections(
        &c.out,
        "compare_gallery",
        &title,
        &sections,
    )?);
    Ok(())
}

/// One gallery item: shared position `j`, its label, the most common
/// final prediction over the runs (255 when none recorded one), the
/// median final loss, and the median epochs above the fence (lower
/// median) over the runs.
fn gallery_item(
    s: &SetComparison,
    runs: &[RunInput],
    pool: &data::Samples,
    j: usize,
) -> GalleryItem {
    let one = [s.sample[j]];
    let idx = one[0] as usize;
    let label = runs
        .iter()
        .find_map(|r| r.label.as_ref().map(|l| gather(&r.val.sample, l, &one)))
        .and_then(|v| v.first().copied())
        .unwrap_or(pool.labels[idx]);
    let preds: Vec<u8> = runs
        .iter()
        .filter_map(|r| r.val.pred.as_ref().map(|p| gather(&r.val.sample, p, &one)))
        .filter_map(|v| v.first().copied())
        .collect();
    let mut epochs: Vec<u32> = runs
        .iter()
        .filter_map(|r| {
            gather(&r.val.sample, &r.epochs_above, &one)
                .first()
                .copied()
        })
        .collect();
    epochs.sort_unstable();
    let epochs = epochs
        .get(epochs.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(0);
    let pred = most_common(&preds, label).unwrap_or(u8::MAX);
    let mut caption = format!("#{idx}");
    if preds.is_empty() {
        caption += ", no prediction recorded";
    } else if preds.len() <= 5 && preds.iter().any(|&p| p != pred) {
        let all: Vec<String> = preds.iter().map(u8::to_string).collect();
        caption += &format!(", preds {}", all.join(" "));
    }
    GalleryItem {
        image: pool.image(idx).to_vec(),
        label,
        pred,
        loss: median_loss(s, j),
        outlier_epochs: epochs as i64,
        caption: Some(caption),
    }
}

/// The most common prediction; on ties a wrong one (not `label`) before
/// the right one, then the smallest.
fn most_common(v: &[u8], label: u8) -> Option<u8> {
    let mut count = [0usize; 256];
    for &x in v {
        count[x as usize] += 1;
    }
    (0..=255u8)
        .filter(|&x| count[x as usize] > 0)
        .max_by(|&a, &b| {
            (count[a as usize].cmp(&count[b as usize]))
                .then((a != label).cmp(&(b != label)))
                .then(b.cmp(&a))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_common_and_threshold() {
        assert_eq!(most_common(&[3, 7, 7, 3, 1], 1), Some(3));
        assert_eq!(most_common(&[9, 2, 9], 9), Some(9));
        // A tie: the wrong prediction first, then the smallest.
        assert_eq!(most_common(&[9, 5, 0], 0), Some(5));
        assert_eq!(most_common(&[4, 4, 2, 2], 2), Some(4));
        assert_eq!(most_common(&[], 0), None);
        assert_eq!(gallery_threshold(2), 2);
        assert_eq!(gallery_threshold(3), 2);
        assert_eq!(gallery_threshold(10), 9);
    }

    fn set(outlier_runs: Vec<u32>, runs: usize) -> SetComparison {
        let n = outlier_runs.len();
        let loss: Vec<f32> = (0..n).map(|j| j as f32).collect();
        let flags = vec![vec![false; n]; runs];
        let m = || super::super::set::Matrix {
            n: runs,
            v: vec![0.0; runs * runs],
        };
        SetComparison {
            sample: (0..n as u32).collect(),
            own_samples: vec![n; runs],
            at: vec![0; runs],
            fence: vec![0.0; runs],
            loss: vec![loss; runs],
            outlier: flags,
            n_outliers: vec![0; runs],
            n_outliers_own: vec![0; runs],
            k: 1,
            pairs: super::super::set::Pairs {
                jaccard_outliers: m(),
                jaccard_outliers_chance: m(),
                jaccard_top_k: m(),
                jaccard_top_k_chance: m(),
                spearman: m(),
            },
            outlier_runs,
            hist: vec![],
            hist_independent: vec![],
        }
    }

    #[test]
    fn gallery_picks_share_the_room_between_groups() {
        // 3 runs: 50 samples in all 3, 5 in 2 of 3, 10 in 1 (not shown).
        let mut k = vec![3u32; 50];
        k.extend([2; 5]);
        k.extend([1; 10]);
        let p = gallery_picks(&set(k, 3));
        assert_eq!(p.len(), GALLERY_MAX);
        // The 5 of "2 of 3" all get in; the rest are "3 of 3", highest loss first.
        assert_eq!(p.iter().filter(|&&j| (50..55).contains(&j)).count(), 5);
        assert_eq!(&p[..3], &[49, 48, 47]);
        assert_eq!(&p[35..], &[54, 53, 52, 51, 50]);
        // Both groups large: 20 each.
        let mut k = vec![3u32; 30];
        k.extend([2; 30]);
        let p = gallery_picks(&set(k, 3));
        assert_eq!(p.iter().filter(|&&j| j < 30).count(), 20);
        // Nobody in enough runs: nothing.
        assert!(gallery_picks(&set(vec![1; 9], 3)).is_empty());
    }
}
