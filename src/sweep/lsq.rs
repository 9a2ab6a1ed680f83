//! Small least-squares problems for the cost model: non-negative
//! coefficients minimising the weighted relative error, by trying every
//! subset of the (few) columns.

/// A weighted design: rows scaled so that ordinary least squares
/// minimises `sum w ((x.b - y) / y)^2`, columns scaled to unit max.
struct Design {
    /// Columns of the scaled design (each `m` long).
    cols: Vec<Vec<f64>>,
    /// Scaled targets (all `sqrt(w)`).
    target: Vec<f64>,
    /// Each column's scale (divide a coefficient by it).
    scale: Vec<f64>,
}

impl Design {
    fn new(rows: &[Vec<f64>], ys: &[f64], ws: &[f64]) -> Design {
        let k = rows.first().map_or(0, Vec::len);
        let sw: Vec<f64> = ys
            .iter()
            .zip(ws)
            .map(|(y, w)| w.max(0.0).sqrt() / y)
            .collect();
        let mut cols: Vec<Vec<f64>> = (0..k)
            .map(|j| rows.iter().zip(&sw).map(|(r, s)| r[j] * s).collect())
            .collect();
        let scale: Vec<f64> = cols
            .iter_mut()
            .map(|c| {
                let m = c.iter().fold(0.0f64, |m, x| m.max(x.abs()));
                let m = if m > 0.0 { m } else { 1.0 };
                c.iter_mut().for_each(|x| *x /= m);
                m
            })
            .collect();
        let target = ys.iter().zip(&sw).map(|(y, s)| y * s).collect();
        Design {
            cols,
            target,
            scale,
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// `Q` (orthonormal columns) and `R` (upper triangular, by rows) of a
/// set of columns.
type Qr = (Vec<Vec<f64>>, Vec<Vec<f64>>);

/// Orthonormalises `cols` (modified Gram-Schmidt); `None` when one of
/// them is (nearly) a combination of the ones before it.
fn orthonormal(cols: &[&[f64]]) -> Option<Qr> {
    let k = cols.len();
    let mut q: Vec<Vec<f64>> = Vec::with_capacity(k);
    let mut r = vec![vec![0.0; k]; k];
    for (j, c) in cols.iter().enumerate() {
        let mut v = c.to_vec();
        for (i, qi) in q.iter().enumerate() {
            r[i][j] = dot(qi, &v);
            v.iter_mut().zip(qi).for_each(|(x, y)| *x -= r[i][j] * y);
        }
        let n = norm(&v);
        if n <= 1e-10 * norm(c).max(f64::MIN_POSITIVE) {
            return None;
        }
        r[j][j] = n;
        v.iter_mut().for_each(|x| *x /= n);
        q.push(v);
    }
    Some((q, r))
}

/// Least squares over the columns `cols`: their coefficients, `None`
/// when they are not independent.
fn solve(cols: &[&[f64]], target: &[f64]) -> Option<Vec<f64>> {
    let (q, r) = orthonormal(cols)?;
    let qtb: Vec<f64> = q.iter().map(|qi| dot(qi, target)).collect();
    let k = cols.len();
    let mut x = vec![0.0; k];
    for i in (0..k).rev() {
        let s: f64 = (i + 1..k).map(|j| r[i][j] * x[j]).sum();
        x[i] = (qtb[i] - s) / r[i][i];
    }
    Some(x)
}

/// Non-negative coefficients minimising `sum w ((x.b - y) / y)^2` over
/// the design `rows`; the columns in `drop`, and any the best subset
/// leaves out, get 0.
pub(super) fn nnls_relative(rows: &[Vec<f64>], ys: &[f64], ws: &[f64], drop: &[usize]) -> Vec<f64> {
    let d = Design::new(rows, ys, ws);
    let k = d.cols.len();
    let mut best = (vec![0.0; k], f64::INFINITY);
    for mask in 1u32..(1 << k) {
        let idx: Vec<usize> = (0..k)
            .filter(|j| mask >> j & 1 == 1 && !drop.contains(j))
            .collect();
        if idx.len() != mask.count_ones() as usize {
            continue;
        }
        let cols: Vec<&[f64]> = idx.iter().map(|&j| d.cols[j].as_slice()).collect();
        let Some(x) = solve(&cols, &d.target) else {
            continue;
        };
        if x.iter().any(|&v| v < 0.0) {
            continue;
        }
        let mut full = vec![0.0; k];
        idx.iter().zip(&x).for_each(|(&j, &v)| full[j] = v);
        let res: f64 = (0..d.target.len())
            .map(|i| {
                let p: f64 = (0..k).map(|j| d.cols[j][i] * full[j]).sum();
                (p - d.target[i]).powi(2)
            })
            .sum();
        if res < best.1 - 1e-15 {
            best = (full, res);
        }
    }
    best.0.iter().zip(&d.scale).map(|(b, s)| b / s).collect()
}

/// Whether column `col` of the weighted design is not (nearly) a
/// combination of the others: what is left of it after projecting it on
/// them is at least 2% of it.
pub(super) fn identifiable(rows: &[Vec<f64>], ys: &[f64], ws: &[f64], col: usize) -> bool {
    let d = Design::new(rows, ys, ws);
    let u = &d.cols[col];
    if norm(u) == 0.0 {
        return false;
    }
    // The others' span, skipping any that depend on earlier ones.
    let mut basis: Vec<&[f64]> = vec![];
    for (j, c) in d.cols.iter().enumerate() {
        let mut trial = basis.clone();
        trial.push(c);
        if j != col && orthonormal(&trial).is_some() {
            basis = trial;
        }
    }
    let Some((q, _)) = orthonormal(&basis) else {
        return true;
    };
    let mut v = u.clone();
    for qi in &q {
        let c = dot(qi, &v);
        v.iter_mut().zip(qi).for_each(|(x, y)| *x -= c * y);
    }
    norm(&v) >= 0.02 * norm(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_data_gives_back_its_coefficients() {
        let rows: Vec<Vec<f64>> = (1..8)
            .map(|i| vec![i as f64, (i * i) as f64, 1.0])
            .collect();
        let ys: Vec<f64> = rows.iter().map(|r| 2.0 * r[0] + 0.5 * r[1] + 3.0).collect();
        let b = nnls_relative(&rows, &ys, &[1.0; 7], &[]);
        for (got, want) in b.iter().zip([2.0, 0.5, 3.0]) {
            assert!((got - want).abs() < 1e-9, "{b:?}");
        }
        assert!(identifiable(&rows, &ys, &[1.0; 7], 1));
        // A column that is twice another is not identifiable.
        let twin: Vec<Vec<f64>> = rows.iter().map(|r| vec![r[0], 2.0 * r[0], 1.0]).collect();
        assert!(!identifiable(&twin, &ys, &[1.0; 7], 1));
    }

    #[test]
    fn negative_coefficients_are_not_chosen() {
        let rows: Vec<Vec<f64>> = (1..6).map(|i| vec![i as f64, 1.0]).collect();
        let ys: Vec<f64> = rows.iter().map(|r| 10.0 - r[0]).collect();
        let b = nnls_relative(&rows, &ys, &[1.0; 5], &[]);
        assert!(b.iter().all(|&x| x >= 0.0), "{b:?}");
        let b = nnls_relative(&rows, &ys, &[1.0; 5], &[1]);
        assert_eq!(b[1], 0.0);
    }
}
