//! A new run file's layout: every attribute, coordinate and (empty)
//! dataset, created from the tables in [`super::schema`] before SWMR
//! writing starts.

use hdf5::{Dataset, Group};

use super::h5::{attr_num, attr_str, coord, coord_values, mark_dimension, var, var_values, Len};
use super::hist::Bins;
use super::schema::{self, attr, ckpt, state, var as v, SetDef, SETS};
use super::{cf, h5ds, utc_now, weight_bins, RecordOpts, RecordSamples};
use crate::config::RunConfig;
use crate::train::Sets;

/// What a new run file is laid out for.
pub struct Layout<'a> {
    /// The run.
    pub cfg: &'a RunConfig,
    /// Its sets (and dataset).
    pub sets: &'a Sets<'a>,
    /// What is recorded.
    pub opts: &'a RecordOpts,
    /// Training and evaluation threads.
    pub threads: usize,
}

impl Layout<'_> {
    /// Creates every attribute, group and dataset.
    pub fn create(&self, file: &hdf5::File) -> hdf5::Result<()> {
        self.provenance(file)?;
        let c = file.create_group(schema::CURVES)?;
        curves(&c)?;
        let calibrated = self.calibrated();
        calibration(&c, &calibrated)?;
        if !calibrated.is_empty() {
            reliability(&file.create_group(schema::RELIABILITY)?, &calibrated)?;
        }
        if self.opts.samples == RecordSamples::All {
            for (group, set) in schema::PER_EPOCH {
                self.per_epoch(&file.create_group(group)?, set)?;
            }
        }
        let g = file.create_group(schema::CHECKPOINTS)?;
        let k_iter = coord::<i64>(&g, &ckpt::ITERATION, Len::Growing)?;
        var::<f64>(&g, &ckpt::EPOCH, &[&k_iter])?;
        self.checkpoint_losses(&g, &k_iter)?;
        self.checkpoint_weights(&g, &k_iter)?;
        epoch_of_checkpoints(&g)?;
        self.state(&file.create_group(schema::STATE)?)
    }

    /// The sets calibrated per epoch: the validation set unless it is
    /// empty (`--val-size 0`), and the evaluation set.
    fn calibrated(&self) -> Vec<&'static str> {
        let sizes = [self.sets.split.val.len(), self.sets.eval.len()];
        schema::calibration::SETS
            .into_iter()
            .zip(sizes)
            .filter(|&(_, n)| n > 0)
            .map(|(s, _)| s)
            .collect()
    }

    fn provenance(&self, root: &hdf5::Location) -> hdf5::Result<()> {
        let (cfg, data) = (self.cfg, self.sets.data);
        let files: Vec<String> = data.files.iter().map(|p| p.display().to_string()).collect();
        let command_line = cf::command_line();
        let strings: [(&str, &str); 7] = [
            (attr::CONVENTIONS, schema::CONVENTIONS),
            (attr::TITLE, &format!("preinterp run: {}", cfg.title())),
            (attr::TOOL, "preinterp"),
            (attr::TOOL_VERSION, env!("CARGO_PKG_VERSION")),
            (attr::COMMAND_LINE, &command_line),
            (attr::CONFIG, &to_json(cfg)),
            (attr::RECORD_OPTIONS, &to_json(self.opts)),
        ];
        for (k, val) in strings {
            attr_str(root, k, val)?;
        }
        attr_num(root, attr::SEED, cfg.seed as i64)?;
        attr_num(root, attr::THREADS, self.threads as i64)?;
        let strings: [(&str, &str); 9] = [
            (attr::DATASET, &data.spec.label()),
            (attr::DATASET_FILES, &files.join("\n")),
            (attr::DATASET_SHA256, &data.sha256.join("\n")),
            (attr::CPU, &crate::machine::cpu_model()),
            (attr::SIMD, crate::kernels::simd_level()),
            (attr::STARTED_AT, &utc_now()),
            (attr::FINISHED_AT, ""),
            (attr::STATUS, schema::RunStatus::Running.as_str()),
            (attr::LOSS_DEFINITION, schema::LOSS_DEFINITION),
        ];
        for (k, val) in strings {
            attr_str(root, k, val)?;
        }
        cf::globals(root)
    }

    /// The sample coordinate of `set` (its indices in the dataset file).
    fn samples(&self, g: &Group, set: usize) -> hdf5::Result<Dataset> {
        let s: &SetDef = &SETS[set];
        let idx: [&[u32]; 3] = [
            &self.sets.split.train,
            &self.sets.split.val,
            &self.sets.eval,
        ];
        let name = s.sample_dim();
        let long = format!(
            "index of the {} sample in the {} file of the dataset",
            s.long, s.source
        );
        coord_values::<u32>(g, &v(&name, "1", &long), idx[set])
    }

    /// A per-epoch group of set `set`: loss, correctness, prediction
    /// (and margin) over `epoch x sample`, and the labels.
    fn per_epoch(&self, g: &Group, set: usize) -> hdf5::Result<()> {
        use schema::per_epoch::*;
        let short = SETS[set].short;
        let e = coord::<i64>(g, &schema::EPOCH, Len::Growing)?;
        let sc = self.samples(g, set)?;
        let long = format!("per-sample cross-entropy loss (nats), {short}");
        var::<f32>(g, &v(LOSS, "1", &long), &[&e, &sc])?;
        cf::correct_flags(&var::<u8>(g, &schema::VAL_CORRECT, &[&e, &sc])?)?;
        let long = format!("predicted class (argmax of the logits), {short}");
        var::<u8>(g, &v(PRED, "1", &long), &[&e, &sc])?;
        let idx = [&self.sets.split.train, &self.sets.split.val][set.min(1)];
        let labels: Vec<u8> = idx
            .iter()
            .map(|&i| self.sets.data.pool.labels[i as usize])
            .collect();
        var_values::<u8>(
            g,
            &v(LABEL, "1", &format!("true class, {short}")),
            &[&sc],
            &labels,
        )?;
        if self.opts.margins {
            let long = format!("logit margin z_y - max_(j != y) z_j, {short}");
            var::<f32>(g, &v(MARGIN, "1", &long), &[&e, &sc])?;
        }
        Ok(())
    }

    /// Loss bins, and per set: per-sample losses and correctness (unless
    /// not recorded), loss histograms and NaN counts.
    fn checkpoint_losses(&self, g: &Group, k_iter: &Dataset) -> hdf5::Result<()> {
        let o = self.opts;
        let bins = Bins::log(o.loss_lo, o.loss_hi, o.loss_bins_per_decade);
        let lb = coord_values::<i64>(g, &ckpt::LOSS_BIN, &indices(bins.len()))?;
        var_values::<f64>(g, &ckpt::LOSS_BIN_LOWER, &[&lb], &bins.lower())?;
        var_values::<f64>(g, &ckpt::LOSS_BIN_UPPER, &[&lb], &bins.upper())?;
        let (lo, hi) = (bins.lower(), bins.upper());
        cf::bounds(g, &lb, &ckpt::LOSS_BIN_BOUNDS, &[&lb], &lo, &hi)?;
        for (i, s) in SETS.iter().enumerate() {
            let [loss, correct, hist, nan] = ckpt::set_vars(s.name);
            if o.samples != RecordSamples::None {
                let sc = self.samples(g, i)?;
                let long = format!("per-sample cross-entropy loss (nats), {}", s.long);
                var::<f32>(g, &v(&loss, "1", &long), &[k_iter, &sc])?;
                let long = "1 if the sample is classified correctly";
                let c = var::<u8>(g, &v(&correct, "1", long), &[k_iter, &sc])?;
                cf::correct_flags(&c)?;
            }
            let long = format!("samples per loss bin, {}", s.long);
            var::<u64>(g, &v(&hist, "1", &long), &[k_iter, &lb])?;
            var::<u64>(g, &v(&nan, "1", "samples whose loss is NaN"), &[k_iter])?;
        }
        Ok(())
    }

    /// Per-layer weight and bias histograms (bins scaled by fan-in) and
    /// norms.
    fn checkpoint_weights(&self, g: &Group, k_iter: &Dataset) -> hdf5::Result<()> {
        let layers = self.cfg.shape.layers();
        let layer = coord_values::<i64>(g, &ckpt::LAYER, &indices(layers.len()))?;
        let bins: Vec<Bins> = layers.iter().map(|l| weight_bins(l, self.opts)).collect();
        let wb = coord_values::<i64>(g, &ckpt::WEIGHT_BIN, &indices(bins[0].len()))?;
        let lower: Vec<f64> = bins.iter().flat_map(|b| b.lower()).collect();
        let upper: Vec<f64> = bins.iter().flat_map(|b| b.upper()).collect();
        var_values::<f64>(g, &ckpt::WEIGHT_BIN_LOWER, &[&layer, &wb], &lower)?;
        var_values::<f64>(g, &ckpt::WEIGHT_BIN_UPPER, &[&layer, &wb], &upper)?;
        let (b, dims) = (&ckpt::WEIGHT_BIN_BOUNDS, [&layer, &wb]);
        cf::bounds(g, &wb, b, &dims, &lower, &upper)?;
        var::<u64>(g, &ckpt::WEIGHT_HIST, &[k_iter, &layer, &wb])?;
        var::<u64>(g, &ckpt::BIAS_HIST, &[k_iter, &layer, &wb])?;
        for n in &ckpt::NORMS {
            var::<f64>(g, n, &[k_iter, &layer])?;
        }
        Ok(())
    }

    /// `/state`, at "no epoch completed yet", with named dimensions
    /// (`param`, `value`) that have no coordinate values.
    fn state(&self, g: &Group) -> hdf5::Result<()> {
        attr_str(g, attr::DESCRIPTION, state::DESCRIPTION)?;
        let n = self.cfg.shape.n_params();
        let slot = dimension(g, state::SLOT_DIM, 2)?;
        let param = dimension(g, state::PARAM_DIM, n)?;
        let value = dimension(g, state::VALUE_DIM, 1)?;
        for name in [state::PARAMS, state::OPT_M, state::OPT_V] {
            let ds = g.new_dataset::<f32>().shape((2, n)).create(name)?;
            h5ds::attach_scale(&ds, &slot, 0)?;
            h5ds::attach_scale(&ds, &param, 1)?;
        }
        let shuffle = crate::rng::stream_seed(self.cfg.seed, crate::rng::Purpose::Shuffle, 1);
        slotted(g, state::OPT_STEP, 0i64, &slot)?;
        slotted(g, state::ITERATION, 0i64, &slot)?;
        one(g, state::EPOCH, -1i64, &value)?;
        slotted(g, state::WALL_TIME, 0.0f64, &slot)?;
        let rng = slotted(g, state::SHUFFLE_SEED, shuffle, &slot)?;
        attr_str(&rng, attr::LONG_NAME, state::SHUFFLE_SEED_LONG)
    }
}

/// Names `epoch` as the auxiliary coordinate of every variable of
/// `/checkpoints` over its `iteration` dimension.
fn epoch_of_checkpoints(g: &Group) -> hdf5::Result<()> {
    let all = SETS.iter().flat_map(|s| ckpt::set_vars(s.name));
    let fixed = [ckpt::WEIGHT_HIST.name, ckpt::BIAS_HIST.name];
    let names = fixed
        .into_iter()
        .chain(ckpt::NORMS.iter().map(|n| n.name))
        .map(str::to_string)
        .chain(all);
    for name in names.filter(|n| g.link_exists(n)) {
        cf::coordinates(&g.dataset(&name)?, ckpt::EPOCH.name)?;
    }
    Ok(())
}

/// A two-slot dataset `name` holding `v` in both slots, over `slot`.
fn slotted<T: hdf5::H5Type + Copy>(
    g: &Group,
    name: &str,
    v: T,
    slot: &Dataset,
) -> hdf5::Result<Dataset> {
    let ds = g.new_dataset::<T>().shape(2).create(name)?;
    ds.write_raw(&[v, v])?;
    h5ds::attach_scale(&ds, slot, 0)?;
    Ok(ds)
}

/// `0, 1, .., n - 1`.
fn indices(n: usize) -> Vec<i64> {
    (0..n as i64).collect()
}

/// The `/curves` group: the growing `epoch` coordinate and its series.
fn curves(g: &Group) -> hdf5::Result<()> {
    let epoch = coord::<i64>(g, &schema::EPOCH, Len::Growing)?;
    var::<i64>(g, &schema::CURVE_ITERATION, &[&epoch])?;
    for s in schema::CURVE_F64.iter().chain(&schema::CURVE_ROBUST) {
        var::<f64>(g, s, &[&epoch])?;
    }
    Ok(())
}

/// `<set>_<name>` of `v` and its long name with the set's appended.
fn set_var(set: &str, v: &schema::Var<'_>) -> (String, String) {
    let long = SETS.iter().find(|d| d.name == set).map_or("", |d| d.long);
    let name = schema::calibration::name(set, v.name);
    (name, format!("{}, {long}", v.long_name))
}

/// The calibration series and status flags of `sets` in `/curves` (see
/// [`schema::calibration`]), over its `epoch`.
fn calibration(g: &Group, sets: &[&str]) -> hdf5::Result<()> {
    use crate::stats::calibration::Status;
    use schema::calibration as cal;
    let epoch = g.dataset(schema::EPOCH.name)?;
    let meanings: Vec<&str> = Status::ALL.iter().map(|s| s.meaning()).collect();
    for set in sets {
        for s in &cal::SERIES {
            let (n, l) = set_var(set, s);
            var::<f64>(g, &v(&n, s.units, &l), &[&epoch])?;
        }
        let (n, l) = set_var(set, &cal::STATUS);
        cf::u8_flags(&var::<u8>(g, &v(&n, "1", &l), &[&epoch])?, &meanings)?;
    }
    Ok(())
}

/// `/reliability`: its own growing `epoch` coordinate, the
/// `confidence_bin` coordinate with CF bounds, and per set of `sets` the
/// reliability table over `epoch x confidence_bin`.
fn reliability(g: &Group, sets: &[&str]) -> hdf5::Result<()> {
    use crate::stats::calibration::ECE_BINS;
    use schema::calibration as cal;
    let epoch = coord::<i64>(g, &schema::EPOCH, Len::Growing)?;
    let bin = coord_values::<i64>(g, &cal::BIN, &indices(ECE_BINS))?;
    let m = ECE_BINS as f64;
    let lower: Vec<f64> = (0..ECE_BINS).map(|b| b as f64 / m).collect();
    let upper: Vec<f64> = (1..=ECE_BINS).map(|b| b as f64 / m).collect();
    cf::bounds(g, &bin, &cal::BIN_BOUNDS, &[&bin], &lower, &upper)?;
    for set in sets {
        let (n, l) = set_var(set, &cal::BIN_COUNT);
        var::<u64>(g, &v(&n, "1", &l), &[&epoch, &bin])?;
        for b in [&cal::BIN_ACCURACY, &cal::BIN_CONFIDENCE] {
            let (n, l) = set_var(set, b);
            var::<f64>(g, &v(&n, "1", &l), &[&epoch, &bin])?;
        }
    }
    Ok(())
}

/// A netCDF-4 dimension without coordinate values: an unwritten
/// dimension scale that netCDF and h5netcdf read as a bare dimension.
fn dimension(g: &Group, name: &str, len: usize) -> hdf5::Result<Dataset> {
    let ds = g
        .new_dataset::<f32>()
        .shape(len)
        .chunk(len.clamp(1, 1 << 16))
        .create(name)?;
    mark_dimension(&ds, len)?;
    Ok(ds)
}

/// Compact JSON of a recorded setting.
fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// A one-value dataset `name` holding `v`, over dimension `dim`.
fn one<T: hdf5::H5Type>(g: &Group, name: &str, v: T, dim: &Dataset) -> hdf5::Result<Dataset> {
    let ds = g.new_dataset::<T>().shape(1).create(name)?;
    ds.write_raw(&[v])?;
    h5ds::attach_scale(&ds, dim, 0)?;
    Ok(ds)
}
