//! `RUN-report/samples.h5`, written by `report`: one row per sample of
//! the validation (`/val`) and training (`/train`) set, each group over
//! the dimension `sample`, whose coordinate is the sample's index in the
//! dataset's training file. Opens in xarray:
//! `xr.open_dataset(path, engine="h5netcdf", group="val")`.
//!
//! The training-dynamics statistics count epochs `1..=last` (after each
//! training epoch); `epochs_above_fence` counts every recorded epoch,
//! epoch 0 included, as Fig. 7 does (see `docs/samples.md`).

use std::path::Path;

use hdf5::Group;

use super::cf;
use super::h5::{attr_num, attr_str, coord_values, err, var_values};
use super::schema::{self, attr, var, Var};
use crate::analysis::samples::SampleStats;
use crate::error::Result;

/// The sample coordinate.
pub(crate) const SAMPLE: Var<'static> = var(
    "sample",
    "1",
    "index of the sample in the training file of the dataset",
);
/// True class.
pub(crate) const LABEL: Var<'static> = var("label", "1", "true class");
/// Prediction at the last epoch.
pub(crate) const FINAL_PRED: Var<'static> = var(
    "final_pred",
    "1",
    "predicted class (argmax of the logits) at the last recorded epoch",
);
/// Loss at the last epoch.
pub(crate) const FINAL_LOSS: Var<'static> = var(
    "final_loss",
    "1",
    "cross-entropy loss (nats) at the last recorded epoch",
);
/// Whether above the fence at the last epoch.
pub(crate) const ABOVE_AT_END: Var<'static> = var(
    "above_fence_at_end",
    "1",
    "1 if the loss at the last recorded epoch is strictly above that epoch's upper Tukey fence Q3 + 1.5 IQR",
);
/// Epochs above the fence.
pub(crate) const EPOCHS_ABOVE: Var<'static> = var(
    "epochs_above_fence",
    "1",
    "epochs 0..last (0 = before training, included as in Fig. 7) whose loss was strictly above that epoch's upper Tukey fence Q3 + 1.5 IQR of the set (linear-interpolated quantiles)",
);
/// First epoch of the final run of correct epochs.
pub(crate) const FIRST_STABLE: Var<'static> = var(
    "first_stable_correct_epoch",
    "1",
    "first epoch (of epochs 1..last) from which the sample is classified correctly at every epoch end to the last; -1 if wrong at the last epoch",
);
/// Forgetting events.
pub(crate) const FORGETTING: Var<'static> = var(
    "forgetting_events",
    "1",
    "forgetting events (Toneva et al., ICLR 2019): correct at epoch t, wrong at t+1, counted at epoch ends (not at every mini-batch) over epochs 1..last",
);
/// Data-map confidence.
pub(crate) const CONFIDENCE: Var<'static> = var(
    "confidence",
    "1",
    "mean over epochs 1..last of the true-class probability exp(-loss) (Swayamdipta et al., EMNLP 2020)",
);
/// Data-map variability.
pub(crate) const VARIABILITY: Var<'static> = var(
    "variability",
    "1",
    "population standard deviation over epochs 1..last of the true-class probability exp(-loss) (Swayamdipta et al., EMNLP 2020)",
);
/// Data-map correctness.
pub(crate) const CORRECTNESS: Var<'static> = var(
    "correctness",
    "1",
    "fraction of epochs 1..last at whose end the sample is classified correctly",
);
/// Area under the margin.
pub(crate) const AUM: Var<'static> = var(
    "aum",
    "1",
    "area under the margin (Pleiss et al., NeurIPS 2020): mean over epochs 1..last of the logit margin z_y - max_(j != y) z_j",
);

/// One set's statistics, as written.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SetSamples<'a> {
    /// The group: `val` or `train`.
    pub group: &'a str,
    /// The set in words (`validation set`).
    pub set: &'a str,
    /// Each sample's index in the dataset's training file.
    pub index: &'a [u32],
    /// Labels, when known.
    pub label: Option<&'a [u8]>,
    /// The statistics.
    pub stats: &'a SampleStats,
}

/// `v` with `, SET` after its long name.
fn of<'a>(v: &Var<'static>, set: &str, long: &'a mut String) -> Var<'a> {
    *long = format!("{}, {set}", v.long_name);
    Var {
        name: v.name,
        units: v.units,
        long_name: long,
    }
}

/// Writes `path` (replacing it) with one group per set.
pub(crate) fn write_samples(path: &Path, title: &str, sets: &[SetSamples<'_>]) -> Result<()> {
    let fail = |e: hdf5::Error| err(path, "cannot write the per-sample statistics", e);
    let f = hdf5::File::create(path).map_err(fail)?;
    attr_str(&f, attr::CONVENTIONS, schema::CONVENTIONS).map_err(fail)?;
    attr_str(
        &f,
        attr::TITLE,
        &format!("preinterp per-sample statistics: {title}"),
    )
    .map_err(fail)?;
    cf::globals(&f).map_err(fail)?;
    for s in sets {
        group(&f.create_group(s.group).map_err(fail)?, s).map_err(fail)?;
    }
    Ok(())
}

/// One set's group.
fn group(g: &Group, s: &SetSamples<'_>) -> hdf5::Result<()> {
    let st = s.stats;
    let desc = format!(
        "{}: per-sample statistics over epochs 1..{} ({} epochs after training began); epochs_above_fence over the {} recorded epochs 0..{}",
        s.set, st.final_epoch, st.epochs_counted, st.fence_epochs, st.final_epoch
    );
    attr_str(g, attr::DESCRIPTION, &desc)?;
    attr_num(g, "final_epoch", st.final_epoch)?;
    attr_num(g, "epochs_counted", st.epochs_counted as i64)?;
    let dim = coord_values::<u32>(g, &SAMPLE, s.index)?;
    let l = &mut String::new();
    if let Some(label) = s.label {
        var_values(g, &of(&LABEL, s.set, l), &[&dim], label)?;
    }
    if let Some(p) = &st.final_pred {
        var_values(g, &of(&FINAL_PRED, s.set, l), &[&dim], p)?;
    }
    var_values(g, &of(&FINAL_LOSS, s.set, l), &[&dim], &st.final_loss)?;
    let above: Vec<u8> = st.above_fence_at_end.iter().map(|&a| a as u8).collect();
    var_values(g, &of(&ABOVE_AT_END, s.set, l), &[&dim], &above)?;
    let i64s: [(&Var<'static>, &[i64]); 3] = [
        (&EPOCHS_ABOVE, &st.epochs_above_fence),
        (&FIRST_STABLE, &st.first_stable_correct_epoch),
        (&FORGETTING, &st.forgetting_events),
    ];
    for (v, x) in i64s {
        var_values(g, &of(v, s.set, l), &[&dim], x)?;
    }
    let f64s: [(&Var<'static>, &[f64]); 3] = [
        (&CONFIDENCE, &st.confidence),
        (&VARIABILITY, &st.variability),
        (&CORRECTNESS, &st.correctness),
    ];
    for (v, x) in f64s {
        var_values(g, &of(v, s.set, l), &[&dim], x)?;
    }
    if let Some(a) = &st.aum {
        var_values(g, &of(&AUM, s.set, l), &[&dim], a)?;
    }
    Ok(())
}
