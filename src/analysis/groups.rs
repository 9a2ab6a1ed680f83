//! Runs that differ only in one setting: the grouping behind a grid
//! search (`select_best = "lr"`: the best run of each group) and the
//! matched pairs of the paper's claim 5 (two runs of one group).

/// Indices of `runs` (each given by its `(key, value)` settings, in
/// spec order) grouped by every setting other than `key`: two runs
/// share a group when their other settings are equal, in the same
/// order. Groups come in order of their first run, each ascending.
pub(crate) fn groups_differing_only_in<'a>(
    runs: impl IntoIterator<Item = &'a [(String, String)]>,
    key: &str,
) -> Vec<Vec<usize>> {
    let mut keys: Vec<Vec<&'a (String, String)>> = vec![];
    let mut groups: Vec<Vec<usize>> = vec![];
    for (i, settings) in runs.into_iter().enumerate() {
        let others: Vec<_> = settings.iter().filter(|(k, _)| k != key).collect();
        match keys.iter().position(|k| *k == others) {
            Some(g) => groups[g].push(i),
            None => {
                keys.push(others);
                groups.push(vec![i]);
            }
        }
    }
    groups
}

/// Which of `n` runs are the best of their group by `score` (larger is
/// better; `None`: not judged, never best): a run is best when no other
/// run of its group scores more, or as much and comes earlier. A NaN
/// score beats nothing and nothing beats it.
pub(crate) fn best_of_groups(
    groups: &[Vec<usize>],
    n: usize,
    score: impl Fn(usize) -> Option<f64>,
) -> Vec<bool> {
    let mut best = vec![false; n];
    for g in groups {
        let scores: Vec<Option<f64>> = g.iter().map(|&i| score(i)).collect();
        for (a, &i) in g.iter().enumerate() {
            let Some(mine) = scores[a] else { continue };
            let beaten = g
                .iter()
                .zip(&scores)
                .any(|(&j, s)| j != i && s.is_some_and(|s| s > mine || (s == mine && j < i)));
            best[i] = !beaten;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn runs() -> Vec<Vec<(String, String)>> {
        vec![
            run(&[("width", "7"), ("lr", "0.1")]),
            run(&[("width", "7"), ("lr", "0.01")]),
            run(&[("width", "10"), ("lr", "0.1")]),
            run(&[("width", "10"), ("lr", "0.01")]),
            run(&[("width", "7"), ("lr", "0.001")]),
            run(&[("width", "13")]),
        ]
    }

    #[test]
    fn groups_by_every_other_setting() {
        let r = runs();
        let g = groups_differing_only_in(r.iter().map(Vec::as_slice), "lr");
        assert_eq!(g, vec![vec![0, 1, 4], vec![2, 3], vec![5]]);
        let g = groups_differing_only_in(r.iter().map(Vec::as_slice), "width");
        assert_eq!(g, vec![vec![0, 2], vec![1, 3], vec![4], vec![5]]);
    }

    #[test]
    fn best_of_each_group_first_on_ties() {
        let groups = vec![vec![0, 1, 4], vec![2, 3], vec![5]];
        let scores = [Some(0.5), Some(0.9), Some(0.7), Some(0.7), Some(0.9), None];
        let best = best_of_groups(&groups, 6, |i| scores[i]);
        assert_eq!(best, vec![false, true, true, false, false, false]);
        // NaN is never beaten and beats nothing (as the grid search
        // always did).
        let scores = [Some(f64::NAN), Some(0.1), None, Some(0.2), Some(0.3), None];
        let best = best_of_groups(&groups, 6, |i| scores[i]);
        assert_eq!(best, vec![true, false, false, true, true, false]);
    }
}
