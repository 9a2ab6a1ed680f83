//! Ranks and correlations, following scipy: average ranks for ties
//! (`scipy.stats.rankdata(x)`, method `"average"`), Pearson's
//! correlation (`scipy.stats.pearsonr`) and Spearman's, Pearson's
//! correlation of the average ranks (`scipy.stats.spearmanr`).
//!
//! Where scipy returns NaN (fewer than two points, a constant variable,
//! a NaN anywhere in Pearson's input), these return `None`. Ranking
//! orders values as [`f64::total_cmp`] does, so NaNs, which scipy
//! propagates, rank after `+inf` (a negative NaN before `-inf`); values
//! equal as numbers tie (`-0.0` ties `0.0`, as in scipy), and so do NaNs
//! with identical bits.

/// Ranks `1..=n` of `x`, ascending, ties given the mean of the ranks
/// they span (`scipy.stats.rankdata(x)`).
pub fn average_ranks<T: Copy + Into<f64>>(x: &[T]) -> Vec<f64> {
    let x: Vec<f64> = x.iter().map(|&v| v.into()).collect();
    let tied = |a: f64, b: f64| a == b || a.total_cmp(&b).is_eq();
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&i, &j| x[i].total_cmp(&x[j]));
    let mut ranks = vec![0.0; x.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && tied(x[order[end]], x[order[start]]) {
            end += 1;
        }
        // Positions start..end hold ranks start+1..=end; their mean:
        let r = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = r;
        }
        start = end;
    }
    ranks
}

/// Pearson's correlation of `x` and `y` (`scipy.stats.pearsonr`);
/// `None` when their lengths differ, there are fewer than two pairs,
/// either variable is constant, or a value is NaN.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len();
    if n != y.len() || n < 2 {
        return None;
    }
    let mx = x.iter().sum::<f64>() / n as f64;
    let my = y.iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    let r = sxy / (sxx * syy).sqrt();
    (sxx > 0.0 && syy > 0.0 && !r.is_nan()).then_some(r)
}

/// Spearman's rank correlation of `x` and `y`: Pearson's correlation of
/// their [`average_ranks`] (`scipy.stats.spearmanr(x, y)`); `None` as
/// for [`pearson`] (two points give +-1, as in scipy).
pub fn spearman<T: Copy + Into<f64>>(x: &[T], y: &[T]) -> Option<f64> {
    pearson(&average_ranks(x), &average_ranks(y))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
    }

    #[test]
    fn average_ranks_like_rankdata() {
        // scipy.stats.rankdata([10, 20, 20, 5, 20]) -> [2, 4, 4, 1, 4]
        assert_eq!(
            average_ranks(&[10.0f32, 20.0, 20.0, 5.0, 20.0]),
            vec![2.0, 4.0, 4.0, 1.0, 4.0]
        );
        // scipy.stats.rankdata([0.0, -0.0, 1.0]) -> [1.5, 1.5, 3]
        assert_eq!(average_ranks(&[0.0, -0.0, 1.0]), vec![1.5, 1.5, 3.0]);
        // NaN ranks last (scipy would give nan everywhere).
        assert_eq!(
            average_ranks(&[f64::NAN, 2.0, f64::INFINITY]),
            vec![3.0, 1.0, 2.0]
        );
        assert!(average_ranks::<f64>(&[]).is_empty());
    }

    #[test]
    fn pearson_by_hand_and_edge_cases() {
        // x = (1, 2, 3), y = (1, 2, 5): deviations (-1, 0, 1) and
        // (-5/3, -2/3, 7/3); sxy 4, sxx 2, syy 78/9 -> 4 / sqrt(156 / 9).
        let r = pearson(&[1.0, 2.0, 3.0], &[1.0, 2.0, 5.0]).unwrap();
        assert!(close(r, 4.0 / (156.0f64 / 9.0).sqrt()), "{r}");
        // scipy.stats.pearsonr([1, 2, 3], [1, 2, 5])[0] -> 0.9607689228305226
        assert!(close(r, 0.9607689228305226), "{r}");
        assert_eq!(pearson(&[1.0, 2.0], &[3.0, 1.0]), Some(-1.0));
        assert_eq!(pearson(&[1.0], &[1.0]), None);
        assert_eq!(pearson(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]), None);
        assert_eq!(pearson(&[1.0, 2.0, 3.0], &[1.0, 2.0]), None);
        assert_eq!(pearson(&[1.0, f64::NAN, 3.0], &[1.0, 2.0, 3.0]), None);
    }

    #[test]
    fn spearman_like_scipy() {
        // scipy.stats.spearmanr([1, 2, 2, 3], [1, 3, 2, 4])[0] ->
        // 0.9486832980505139 (ranks [1, 2.5, 2.5, 4] and [1, 3, 2, 4]).
        let r = spearman(&[1.0, 2.0, 2.0, 3.0], &[1.0, 3.0, 2.0, 4.0]).unwrap();
        assert!(close(r, 0.9486832980505139), "{r}");
        // scipy.stats.spearmanr([5, 5, 9], [1, 2, 3])[0] -> 0.8660254037844387
        let r = spearman(&[5.0, 5.0, 9.0], &[1.0, 2.0, 3.0]).unwrap();
        assert!(close(r, 0.8660254037844387), "{r}");
        // scipy.stats.spearmanr([0.3, 0.1, 0.7, 0.7, 2.0, 1.1],
        //     [2.0, 0.5, 0.9, 3.0, 4.0, 0.0])[0] -> 0.3188740696088466
        let r = spearman(
            &[0.3, 0.1, 0.7, 0.7, 2.0, 1.1],
            &[2.0, 0.5, 0.9, 3.0, 4.0, 0.0],
        );
        assert!(close(r.unwrap(), 0.3188740696088466), "{r:?}");
        let x = [0.3f32, 0.1, 0.7, 0.7, 2.0];
        assert!(close(spearman(&x, &x).unwrap(), 1.0));
        let rev: Vec<f32> = x.iter().map(|v| -v).collect();
        assert!(close(spearman(&x, &rev).unwrap(), -1.0));
        // Monotone transforms leave it unchanged.
        let sq: Vec<f32> = x.iter().map(|v| v * v).collect();
        assert!(close(spearman(&x, &sq).unwrap(), 1.0));
        assert_eq!(spearman(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]), None);
        assert_eq!(spearman(&[1.0], &[1.0]), None);
    }
}
