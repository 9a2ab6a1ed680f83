//! The paper's splits: `n` training samples drawn from the 60k pool,
//! validation held out from the rest of the pool (all of it unless
//! capped), evaluation = the official test set. Seeded and recorded.

use crate::error::{Error, Result};
use crate::rng::{self, Purpose};

/// Indices into the training pool; both lists sorted ascending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    /// The training set.
    pub train: Vec<u32>,
    /// The validation set (disjoint from `train`).
    pub val: Vec<u32>,
}

/// Draws `train_size` pool samples for training and up to `val_size`
/// (default: all) of the others for validation, from the `Split`
/// stream of `seed`.
pub fn split(pool: usize, train_size: usize, val_size: Option<usize>, seed: u64) -> Result<Split> {
    if train_size == 0 {
        return Err(Error::usage("--train-size must be at least 1"));
    }
    if train_size > pool {
        return Err(Error::usage(format!(
            "--train-size {train_size} is larger than the training pool of {pool} samples"
        )));
    }
    let rest = pool - train_size;
    let n_val = match val_size {
        Some(v) if v > rest => {
            return Err(Error::usage(format!(
                "--val-size {v} is more than the {rest} pool samples left after --train-size {train_size}"
            )))
        }
        Some(v) => v,
        None if rest == 0 => {
            return Err(Error::usage(format!(
                "--train-size {train_size} uses the whole pool and leaves no validation samples"
            )))
        }
        None => rest,
    };
    let mut perm: Vec<u32> = (0..pool as u32).collect();
    rng::stream(seed, Purpose::Split, 0).shuffle(&mut perm);
    let mut train = perm[..train_size].to_vec();
    let mut val = perm[train_size..train_size + n_val].to_vec();
    train.sort_unstable();
    val.sort_unstable();
    Ok(Split { train, val })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disjoint_sized_and_seeded() {
        let s = split(1000, 300, None, 4).unwrap();
        assert_eq!((s.train.len(), s.val.len()), (300, 700));
        let mut all: Vec<u32> = s.train.iter().chain(&s.val).copied().collect();
        all.sort();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
        assert_eq!(s, split(1000, 300, None, 4).unwrap());
        assert_ne!(s.train, split(1000, 300, None, 5).unwrap().train);
        let capped = split(1000, 300, Some(50), 4).unwrap();
        assert_eq!(capped.train, s.train);
        assert_eq!(capped.val.len(), 50);
        assert!(capped.val.iter().all(|v| s.val.contains(v)));
    }

    #[test]
    fn impossible_sizes_are_usage_errors() {
        for (t, v) in [(0, None), (1001, None), (1000, None), (900, Some(101))] {
            let e = split(1000, t, v, 1).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{e}");
        }
    }

    #[test]
    fn no_validation_set_is_allowed_when_asked_for() {
        // `--val-size 0`: the evaluation set alone is calibrated.
        let s = split(1000, 1000, Some(0), 1).unwrap();
        assert!(s.val.is_empty() && s.train.len() == 1000);
    }
}
