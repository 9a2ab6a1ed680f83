//! The cost model of one epoch on one thread, fitted to measured epochs:
//!
//! ```text
//! epoch   = a * train_flops + b * eval_flops + d * updates + c
//! epoch 0 =                   b * eval_flops                + c0
//! ```
//!
//! ([`Features`] defines the terms; epoch 0 only evaluates), by
//! non-negative least squares on the relative error. `d` is fitted only
//! when the data can tell it from `a` (runs of different batch or
//! training-set sizes); otherwise it is 0. A dataset with runs of at
//! least [`OWN_FIT_SHAPES`] different shapes gets a fit of its own; the
//! others use the fit pooled over every run.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::lsq::{identifiable, nnls_relative};
use super::workload::Features;
use crate::error::{Error, Result};

/// Distinct (depth, width, train size, batch, validation size) settings
/// a dataset needs for a fit of its own.
pub(crate) const OWN_FIT_SHAPES: usize = 4;

/// The column of the per-step term `d`.
const UPDATES: usize = 2;

/// One measured run (or `--measured` value) to fit.
#[derive(Clone, Debug)]
pub struct Observation {
    /// Its dataset's label.
    pub dataset: String,
    /// (depth, width, train size, batch, validation size).
    pub shape: (usize, usize, usize, usize, Option<usize>),
    /// Its work per epoch.
    pub features: Features,
    /// Seconds per epoch on one thread.
    pub epoch_s: f64,
    /// Seconds of epoch 0 (evaluation only), if known.
    pub epoch0_s: Option<f64>,
    /// Weight in the fit (1 for a run file).
    pub weight: f64,
    /// Whether it is a `--measured` value rather than a run file.
    pub measured: bool,
}

/// One set of coefficients and what it was fitted on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Fit {
    /// `pooled` or the dataset's label.
    pub name: String,
    /// Seconds per training FLOP (`a`).
    pub a_s_per_train_flop: f64,
    /// Seconds per evaluation FLOP (`b`).
    pub b_s_per_eval_flop: f64,
    /// Seconds per parameter per optimiser step (`d`).
    pub d_s_per_update: f64,
    /// Seconds per epoch (`c`).
    pub c_s: f64,
    /// Seconds of epoch 0 beyond its evaluation (`c0`).
    pub c0_s: f64,
    /// Run files it was fitted on.
    pub runs: usize,
    /// Whether `d` could be told from `a` (else it is 0).
    pub per_step_term: bool,
}

fn epoch_row(f: &Features) -> Vec<f64> {
    vec![f.train, f.eval, f.updates, 1.0, 0.0]
}

fn epoch0_row(f: &Features) -> Vec<f64> {
    vec![0.0, f.eval, 0.0, 0.0, 1.0]
}

impl Fit {
    /// Fits `obs` (each epoch, and each known epoch 0).
    pub fn new(name: &str, obs: &[Observation]) -> Fit {
        let (mut rows, mut ys, mut ws) = (vec![], vec![], vec![]);
        for o in obs.iter().filter(|o| o.epoch_s > 0.0) {
            rows.push(epoch_row(&o.features));
            ys.push(o.epoch_s);
            ws.push(o.weight);
            if let Some(e0) = o.epoch0_s.filter(|&e| e > 0.0) {
                rows.push(epoch0_row(&o.features));
                ys.push(e0);
                ws.push(o.weight);
            }
        }
        let with_updates = !rows.is_empty() && identifiable(&rows, &ys, &ws, UPDATES);
        let drop: &[usize] = if with_updates { &[] } else { &[UPDATES] };
        let b = if rows.is_empty() {
            vec![0.0; 5]
        } else {
            nnls_relative(&rows, &ys, &ws, drop)
        };
        Fit {
            name: name.to_string(),
            a_s_per_train_flop: b[0],
            b_s_per_eval_flop: b[1],
            d_s_per_update: b[2],
            c_s: b[3],
            c0_s: b[4],
            runs: obs.iter().filter(|o| !o.measured).count(),
            per_step_term: with_updates,
        }
    }

    fn coef(&self) -> [f64; 5] {
        [
            self.a_s_per_train_flop,
            self.b_s_per_eval_flop,
            self.d_s_per_update,
            self.c_s,
            self.c0_s,
        ]
    }

    /// Predicted seconds of one epoch on one thread.
    pub fn epoch(&self, f: &Features) -> f64 {
        epoch_row(f)
            .iter()
            .zip(self.coef())
            .map(|(x, b)| x * b)
            .sum()
    }

    /// Predicted seconds of epoch 0 (evaluation only) on one thread.
    pub(crate) fn epoch0(&self, f: &Features) -> f64 {
        epoch0_row(f)
            .iter()
            .zip(self.coef())
            .map(|(x, b)| x * b)
            .sum()
    }
}

/// A fit per dataset where the data allows, else the pooled fit.
#[derive(Clone, Debug, Serialize)]
pub struct Model {
    /// Fitted on every observation.
    pub pooled: Fit,
    /// Fitted on one dataset's observations, by its label.
    pub per_dataset: BTreeMap<String, Fit>,
}

impl Model {
    /// Fits `obs`; an error when there is nothing to fit (`what` names
    /// where the observations came from).
    pub fn fit(obs: &[Observation], what: &str) -> Result<Model> {
        if !obs.iter().any(|o| o.epoch_s > 0.0) {
            return Err(Error::usage(format!(
                "{what}: no run to fit the cost model on (no readable run file with a trained epoch on one thread)"
            )));
        }
        let pooled = Fit::new("pooled", obs);
        let datasets: BTreeSet<&str> = obs.iter().map(|o| o.dataset.as_str()).collect();
        let mut per_dataset = BTreeMap::new();
        for ds in datasets {
            let mine: Vec<Observation> = obs.iter().filter(|o| o.dataset == ds).cloned().collect();
            let shapes: BTreeSet<_> = mine
                .iter()
                .filter(|o| !o.measured)
                .map(|o| o.shape)
                .collect();
            if shapes.len() >= OWN_FIT_SHAPES {
                per_dataset.insert(ds.to_string(), Fit::new(ds, &mine));
            }
        }
        Ok(Model {
            pooled,
            per_dataset,
        })
    }

    /// The fit for runs of `dataset`.
    pub(crate) fn fit_for(&self, dataset: &str) -> &Fit {
        self.per_dataset.get(dataset).unwrap_or(&self.pooled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(train: f64, eval: f64, updates: f64, coef: [f64; 5]) -> Observation {
        let f = Features {
            train,
            eval,
            updates,
        };
        let [a, b, d, c, c0] = coef;
        Observation {
            dataset: "mnist".into(),
            shape: (1, train as usize, 0, updates as usize, None),
            features: f,
            epoch_s: a * train + b * eval + d * updates + c,
            epoch0_s: Some(b * eval + c0),
            weight: 1.0,
            measured: false,
        }
    }

    #[test]
    fn synthetic_run_times_give_back_their_coefficients() {
        // 1 ns per training FLOP, 0.4 ns per evaluation FLOP, 2 ns per
        // update, 5 ms per epoch, 20 ms at epoch 0.
        let want = [1e-9, 4e-10, 2e-9, 5e-3, 2e-2];
        let set: Vec<Observation> = [
            (1e9, 2e8, 1e6),
            (3e9, 5e8, 8e6),
            (2e8, 9e7, 4e5),
            (5e9, 1e9, 2e6),
            (7e8, 6e8, 9e6),
            (4e9, 2e9, 3e5),
        ]
        .iter()
        .map(|&(t, e, u)| obs(t, e, u, want))
        .collect();
        let m = Model::fit(&set, "test").unwrap();
        let f = m.fit_for("mnist");
        assert_eq!(f.name, "mnist");
        assert!(f.per_step_term);
        for (got, want) in f.coef().iter().zip(want) {
            assert!((got - want).abs() <= 1e-6 * want, "{:?}", f.coef());
        }
        assert!((f.epoch(&set[0].features) - set[0].epoch_s).abs() < 1e-9);
        assert_eq!(m.fit_for("fashion-mnist").name, "pooled");
    }

    #[test]
    fn a_per_step_term_the_data_cannot_see_is_left_out() {
        // updates proportional to training FLOPs: d cannot be told from a.
        let want = [1e-9, 4e-10, 0.0, 5e-3, 2e-2];
        let set: Vec<Observation> = [(1e9, 2e8), (3e9, 5e8), (2e8, 9e7), (5e9, 1e9)]
            .iter()
            .map(|&(t, e)| obs(t, e, t / 1000.0, want))
            .collect();
        let f = Fit::new("x", &set);
        assert!(!f.per_step_term);
        assert_eq!(f.d_s_per_update, 0.0);
        assert!((f.a_s_per_train_flop - 1e-9).abs() < 1e-15);
    }

    #[test]
    fn nothing_to_fit_names_the_source() {
        let e = Model::fit(&[], "--calibrate runs/").unwrap_err();
        assert!(
            e.to_string().starts_with("--calibrate runs/: no run"),
            "{e}"
        );
    }
}
