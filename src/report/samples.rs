//! The per-sample part of `report`: the statistics of every validation
//! and training sample (`samples.h5`), the data map, the loss
//! trajectories and the gallery. What it cannot draw it skips, saying
//! why and which flag would have recorded the data.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::analysis::samples::{sample_stats, PerEpochView, SampleStats, FIRST_COUNTED_EPOCH};
use crate::data::{Dataset, DatasetId, DatasetSpec, Locator};
use crate::error::Result;
use crate::plot::{self, DataMapSet, GalleryItem, GallerySection, Trajectories, TrajectoryGroup};
use crate::record::h5::{self, read_attr_str};
use crate::record::read::{PerEpoch, RunFile};
use crate::record::samples::{write_samples, SetSamples};
use crate::record::schema::attr;
use crate::rng::{self, Purpose};

/// The per-sample statistics file in the report folder.
pub(crate) const SAMPLES_FILE: &str = "samples.h5";
/// Validation samples with the highest final loss in the gallery.
pub(crate) const GALLERY_TOP: usize = 40;
/// Never-outlier validation samples drawn for the gallery.
pub(crate) const GALLERY_NEVER: usize = 20;
/// Samples per group in the trajectory figure.
pub(crate) const TRAJECTORIES_PER_GROUP: usize = 12;
/// Seed of the random draws of the figures (with [`Purpose::Report`]).
pub(crate) const DRAW_SEED: u64 = 0;

/// What the summary says of the per-sample statistics.
#[derive(Clone, Debug, Serialize)]
pub struct SamplesSummary {
    /// The file, in the report folder.
    pub file: String,
    /// The groups written (`val`, `train`).
    pub sets: Vec<String>,
    /// The first epoch the training-dynamics statistics count.
    pub first_epoch_counted: i64,
    /// The last epoch.
    pub last_epoch: i64,
    /// Validation samples never above the fence (epochs 0..last).
    pub val_never_above_fence: usize,
    /// Validation samples forgotten at least once.
    pub val_forgotten_at_least_once: usize,
    /// Validation samples wrong at the last epoch.
    pub val_wrong_at_end: usize,
}

/// What the per-sample part reads.
pub(super) struct Input<'a> {
    /// The report folder.
    pub out: &'a Path,
    /// The run's title.
    pub title: &'a str,
    /// The run file.
    pub rf: &'a RunFile,
    /// `/val_per_epoch`, if recorded.
    pub val: Option<&'a PerEpoch>,
    /// `/train_per_epoch`, if recorded.
    pub train: Option<&'a PerEpoch>,
    /// The median validation loss per epoch, if known.
    pub median: Option<&'a [f64]>,
}

/// What the per-sample part made, and what it skipped.
#[derive(Default)]
pub(super) struct Made {
    /// Figures written.
    pub figures: Vec<PathBuf>,
    /// What was skipped, and why.
    pub skipped: Vec<String>,
    /// The summary of `samples.h5`, if written.
    pub summary: Option<SamplesSummary>,
}

/// One set's records and statistics.
struct SetStats<'a> {
    rec: &'a PerEpoch,
    stats: SampleStats,
}

/// The statistics of `rec`, whose rows are the first epochs of `epochs`.
fn stats_of<'a>(rec: &'a PerEpoch, epochs: &[i64]) -> Option<SetStats<'a>> {
    let rows = rec.epochs.min(epochs.len());
    let view = PerEpochView {
        epochs: &epochs[..rows],
        n: rec.n,
        loss: rec.loss.get(..rows * rec.n)?,
        correct: rec.correct.get(..rows * rec.n)?,
        pred: rec.pred.as_deref().and_then(|p| p.get(..rows * rec.n)),
        margin: rec.margin.as_deref().and_then(|m| m.get(..rows * rec.n)),
    };
    sample_stats(&view).map(|stats| SetStats { rec, stats })
}

/// Statistics, `samples.h5`, data map, trajectories and gallery.
pub(super) fn per_sample(i: &Input<'_>, loc: &Locator) -> Result<Made> {
    let mut made = Made::default();
    let Some(val_rec) = i.val else {
        made.skipped.push("per-sample statistics (samples.h5), data map, loss trajectories and gallery: the run file has no /val_per_epoch; record it with `--record-samples all`".into());
        return Ok(made);
    };
    let epochs = &i.rf.curves.epoch;
    let Some(val) = stats_of(val_rec, epochs) else {
        made.skipped.push("per-sample statistics (samples.h5), data map, loss trajectories and gallery: no epoch of training is recorded yet".into());
        return Ok(made);
    };
    let train = i.train.and_then(|t| stats_of(t, epochs));
    note_missing(i, &val, train.is_some(), &mut made.skipped);
    let data = dataset(i.rf, loc);
    made.summary = Some(write_file(
        i,
        &val,
        train.as_ref(),
        &data,
        &mut made.skipped,
    )?);
    made.figures.extend(data_map(i, &val, train.as_ref())?);
    made.figures.extend(trajectories(i, &val)?);
    match gallery_items(&val, data) {
        Ok(sections) => made.figures.extend(plot::gallery_sections(
            i.out,
            "gallery",
            &format!("{}: validation samples", i.title),
            &sections,
        )?),
        Err(why) => made.skipped.push(format!("gallery: {why}")),
    }
    Ok(made)
}

/// Writes `samples.h5`: the validation set and, when recorded, the
/// training set; labels from the run file, else from `data`.
fn write_file(
    i: &Input<'_>,
    val: &SetStats<'_>,
    train: Option<&SetStats<'_>>,
    data: &std::result::Result<Dataset, String>,
    skipped: &mut Vec<String>,
) -> Result<SamplesSummary> {
    let labels = |s: &SetStats<'_>| -> Option<Vec<u8>> {
        s.rec.labels.clone().or_else(|| {
            let d = data.as_ref().ok()?;
            (s.rec.samples.iter())
                .map(|&k| d.pool.labels.get(k as usize).copied())
                .collect()
        })
    };
    let val_labels = labels(val);
    let train_labels = train.and_then(labels);
    if val_labels.is_none() {
        skipped.push(
            "label in samples.h5: the run file has no labels and the dataset was not found".into(),
        );
    }
    let mut sets = vec![SetSamples {
        group: "val",
        set: "validation set",
        index: &val.rec.samples,
        label: val_labels.as_deref(),
        stats: &val.stats,
    }];
    if let Some(t) = train {
        sets.push(SetSamples {
            group: "train",
            set: "training set",
            index: &t.rec.samples,
            label: train_labels.as_deref(),
            stats: &t.stats,
        });
    }
    write_samples(&i.out.join(SAMPLES_FILE), i.title, &sets)?;
    Ok(summary(&val.stats, &sets))
}

/// Says which statistics the run file lacks the records for.
fn note_missing(i: &Input<'_>, val: &SetStats<'_>, train: bool, skipped: &mut Vec<String>) {
    if !train {
        let why = if i.train.is_some() {
            "no epoch of training is recorded yet"
        } else {
            "the run file has no /train_per_epoch; record it with `--record-samples all` (preinterp since issue 12)"
        };
        skipped.push(format!(
            "training-set statistics (samples.h5 /train) and the data map's training panel: {why}"
        ));
    }
    if val.rec.margin.is_none() {
        skipped.push(
            "aum (area under the margin): no logit margins recorded; record them with `--record-margins`"
                .into(),
        );
    }
    if val.rec.pred.is_none() {
        skipped.push("final_pred in samples.h5: the run file has no per-epoch predictions; record them with `--record-samples all` (preinterp since issue 12)".into());
    }
}

/// The summary of what `samples.h5` holds.
fn summary(val: &SampleStats, sets: &[SetSamples<'_>]) -> SamplesSummary {
    SamplesSummary {
        file: SAMPLES_FILE.into(),
        sets: sets.iter().map(|s| s.group.to_string()).collect(),
        first_epoch_counted: FIRST_COUNTED_EPOCH,
        last_epoch: val.final_epoch,
        val_never_above_fence: val.epochs_above_fence.iter().filter(|&&c| c == 0).count(),
        val_forgotten_at_least_once: val.forgetting_events.iter().filter(|&&c| c > 0).count(),
        val_wrong_at_end: val.final_correct.iter().filter(|&&c| c == 0).count(),
    }
}

/// The data map of the validation set and, when recorded, the
/// training set.
fn data_map(
    i: &Input<'_>,
    val: &SetStats<'_>,
    train: Option<&SetStats<'_>>,
) -> Result<Vec<PathBuf>> {
    fn one<'a>(name: &'a str, s: &'a SampleStats) -> DataMapSet<'a> {
        DataMapSet {
            name,
            confidence: &s.confidence,
            variability: &s.variability,
            correctness: &s.correctness,
            above_at_end: &s.above_fence_at_end,
            epochs: s.epochs_counted,
        }
    }
    let mut sets = vec![one("validation set", &val.stats)];
    if let Some(t) = train {
        sets.push(one("training set", &t.stats));
    }
    let title = format!(
        "{}: data map (epochs 1..{})",
        i.title, val.stats.final_epoch
    );
    plot::data_map(i.out, &title, &sets)
}

/// Sample indices by final loss, highest first (ties by index).
fn by_final_loss(s: &SampleStats) -> Vec<usize> {
    let mut order: Vec<usize> = (0..s.final_loss.len()).collect();
    order.sort_by(|&a, &b| s.final_loss[b].total_cmp(&s.final_loss[a]).then(a.cmp(&b)));
    order
}

/// `k` of `from`, drawn at random (seeded) without replacement.
fn draw(from: &[usize], k: usize, index: u64) -> Vec<usize> {
    let mut v = from.to_vec();
    rng::stream(DRAW_SEED, Purpose::Report, index).shuffle(&mut v);
    v.truncate(k);
    v
}

/// The trajectory figure: top-loss, median-loss and random samples.
fn trajectories(i: &Input<'_>, val: &SetStats<'_>) -> Result<Vec<PathBuf>> {
    let rec = val.rec;
    let k = TRAJECTORIES_PER_GROUP;
    let order = by_final_loss(&val.stats);
    let mid = order.len() / 2;
    let median = &order[mid.saturating_sub(k / 2)..(mid + k.div_ceil(2)).min(order.len())];
    let groups = [
        ("highest final loss", order[..k.min(order.len())].to_vec()),
        ("median final loss", median.to_vec()),
        ("random (seeded)", draw(&order, k, 0)),
    ]
    .map(|(label, samples)| TrajectoryGroup {
        label: label.into(),
        samples,
    });
    let rows = rec.epochs.min(i.rf.curves.len());
    let t = Trajectories {
        epochs: &i.rf.curves.epoch[..rows],
        n: rec.n,
        loss: &rec.loss[..rows * rec.n],
        groups: &groups,
        mean: &i.rf.curves.val_loss[..rows],
        median: i.median.map(|m| &m[..rows.min(m.len())]),
    };
    let title = format!("{}: validation loss trajectories", i.title);
    plot::trajectories(i.out, &title, &t)
}

/// The dataset the run file records: its spec (from `config`; a folder
/// that is gone stays a folder), the files it read and their SHA-256.
fn recorded_dataset(
    rf: &RunFile,
) -> std::result::Result<(DatasetSpec, Vec<PathBuf>, Vec<String>), String> {
    let cfg: serde_json::Value = serde_json::from_str(&rf.config)
        .map_err(|e| format!("the run file's config attribute is unreadable ({e})"))?;
    let name = cfg["dataset"]
        .as_str()
        .ok_or("the run file's config names no dataset")?;
    let spec = DatasetId::parse(name)
        .map(DatasetSpec::Named)
        .unwrap_or_else(|| DatasetSpec::Folder(PathBuf::from(name)));
    let file = h5::open_read(&rf.path).map_err(|e| format!("cannot reopen the run file ({e})"))?;
    let lines = |name: &str| -> std::result::Result<Vec<String>, String> {
        let text = read_attr_str(&file, name)
            .map_err(|e| format!("the run file has no {name} attribute ({e})"))?;
        Ok(text.lines().map(str::to_string).collect())
    };
    let files = lines(attr::DATASET_FILES)?
        .into_iter()
        .map(PathBuf::from)
        .collect();
    Ok((spec, files, lines(attr::DATASET_SHA256)?))
}

/// The dataset the run was trained on, checked against its recorded
/// checksums; an error says why it is not available.
fn dataset(rf: &RunFile, loc: &Locator) -> std::result::Result<Dataset, String> {
    let (spec, files, sha256) = recorded_dataset(rf)?;
    let data = crate::data::load_recorded(&spec, &files, &sha256, loc)
        .map_err(|e| format!("the dataset was not found ({e})"))?;
    if data.sha256 != sha256 {
        return Err(format!(
            "the dataset found ({}) is not the one the run recorded (SHA-256 differ)",
            data.files
                .first()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        ));
    }
    Ok(data)
}

/// The gallery's sections: the highest final losses and a random draw
/// of samples never above the fence.
fn gallery_items(
    val: &SetStats<'_>,
    data: std::result::Result<Dataset, String>,
) -> std::result::Result<Vec<GallerySection>, String> {
    let data = data?;
    let (rec, s) = (val.rec, &val.stats);
    let pred = (s.final_pred.as_ref()).ok_or(
        "the run file has no predictions; record them with `--record-samples all` (preinterp since issue 12)",
    )?;
    let item = |j: usize| -> std::result::Result<GalleryItem, String> {
        let k = rec.samples[j] as usize;
        if k >= data.pool.len() {
            return Err(format!("sample {k} is not in the dataset's training file"));
        }
        Ok(GalleryItem {
            image: data.pool.image(k).to_vec(),
            label: data.pool.labels[k],
            pred: pred[j],
            loss: s.final_loss[j],
            outlier_epochs: s.epochs_above_fence[j],
            caption: Some(format!("sample {k}")),
        })
    };
    let order = by_final_loss(s);
    let top: Vec<usize> = order[..GALLERY_TOP.min(order.len())].to_vec();
    let never: Vec<usize> = (0..s.final_loss.len())
        .filter(|&j| s.epochs_above_fence[j] == 0)
        .collect();
    let drawn = draw(&never, GALLERY_NEVER, 1);
    let section = |header: String, js: &[usize]| -> std::result::Result<GallerySection, String> {
        Ok(GallerySection {
            header,
            items: js
                .iter()
                .map(|&j| item(j))
                .collect::<std::result::Result<_, _>>()?,
        })
    };
    Ok(vec![
        section(
            format!(
                "highest final loss: the top {} of {} validation samples (epoch {})",
                top.len(),
                order.len(),
                s.final_epoch
            ),
            &top,
        )?,
        section(
            format!(
                "never above the fence (epochs 0..{}): a seeded random draw of {} of {}",
                s.final_epoch,
                drawn.len(),
                never.len()
            ),
            &drawn,
        )?,
    ])
}
