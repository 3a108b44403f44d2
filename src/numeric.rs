//! Numeric: the small dense linear algebra and scaling helpers the fits share (Cholesky
//! factor and triangular solves, standardisation, a clamped logit).
//!
//! Hand-written because the matrices are tiny (a few dozen rows) or block-structured,
//! and one copy keeps the arithmetic, hence the model bytes, the same everywhere.

/// Where every log-loss clips its probabilities, [LOSS_CLIP, 1 - LOSS_CLIP]: one
/// confident miss must not decide a comparison (the backtest's, the selection's).
pub(crate) const LOSS_CLIP: f64 = 1e-3;

/// The Bernoulli log-loss of probability `p` for outcome `y`, `p` clipped to
/// [eps, 1 - eps].
pub(crate) fn bernoulli_loss(p: f64, y: bool, eps: f64) -> f64 {
    let p = p.clamp(eps, 1.0 - eps);
    -(if y { p.ln() } else { (1.0 - p).ln() })
}

pub(crate) fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-4, 1.0 - 1e-4);
    (p / (1.0 - p)).ln()
}

/// In-place lower Cholesky factor of a symmetric positive-definite n x n matrix; a
/// jitter on the diagonal keeps it defined when a direction has almost no curvature.
pub(crate) fn cholesky(a: &mut [f64], n: usize) {
    cholesky_floored(a, n, 0.0);
}

/// [`cholesky`] with every squared pivot at least `floor` times the mean diagonal: a
/// whitening by L^-1 then amplifies no direction more than 1 / sqrt(floor)-fold, where a
/// nearly constant feature would otherwise be blown up by its tiny pivot (a 100,000-fold
/// amplification turned linfa's objective into NaN on an 18-candidate history, and its
/// line search never returned).
pub(crate) fn cholesky_floored(a: &mut [f64], n: usize, floor: f64) {
    let trace: f64 = (0..n).map(|i| a[i * n + i]).sum();
    let mean = trace / n.max(1) as f64;
    let jitter = 1e-10 * mean.max(1e-300);
    let floor = (floor * mean).max(jitter);
    for j in 0..n {
        let mut d = a[j * n + j] + jitter;
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        let d = d.max(floor).sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut v = a[i * n + j];
            for k in 0..j {
                v -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = v / d;
        }
        for k in j + 1..n {
            a[j * n + k] = 0.0;
        }
    }
}

/// Solves L^T x = b in place (back substitution).
pub(crate) fn solve_lt(l: &[f64], n: usize, b: &mut [f64]) {
    for i in (0..n).rev() {
        let mut v = b[i];
        for k in i + 1..n {
            v -= l[k * n + i] * b[k];
        }
        b[i] = v / l[i * n + i];
    }
}

/// Solves L x = b in place (forward substitution).
pub(crate) fn solve_l(l: &[f64], n: usize, b: &mut [f64]) {
    for i in 0..n {
        let mut v = b[i];
        for k in 0..i {
            v -= l[i * n + k] * b[k];
        }
        b[i] = v / l[i * n + i];
    }
}

pub(crate) fn standardise(rows: &mut [f64], width: usize) -> (Vec<f64>, Vec<f64>) {
    let n = rows.len() / width;
    let mut sum = vec![0.0; width];
    let mut sq = vec![0.0; width];
    for r in 0..n {
        for f in 0..width {
            let v = rows[r * width + f];
            sum[f] += v;
            sq[f] += v * v;
        }
    }
    let (mean, std) = scaling(sum, sq, n);
    for r in 0..n {
        for f in 0..width {
            let v = &mut rows[r * width + f];
            *v = (*v - mean[f]) / std[f];
        }
    }
    (mean, std)
}

/// Mean and standard deviation (1 for a constant feature) from the sums of `n` values
/// and of their squares.
pub(crate) fn scaling(
    sum: impl Into<Vec<f64>>,
    sq: impl Into<Vec<f64>>,
    n: usize,
) -> (Vec<f64>, Vec<f64>) {
    let (mut mean, sq) = (sum.into(), sq.into());
    let nf = n.max(1) as f64;
    let std = mean
        .iter_mut()
        .zip(sq)
        .map(|(m, s)| {
            *m /= nf;
            let var = s / nf - *m * *m;
            if var > 1e-12 {
                var.sqrt()
            } else {
                1.0
            }
        })
        .collect();
    (mean, std)
}

/// (f(x + h e_i) - f(x - h e_i)) / 2h: the tests check analytic gradients with it.
#[cfg(test)]
pub(crate) fn central_difference(f: impl Fn(&[f64]) -> f64, x: &[f64], i: usize, h: f64) -> f64 {
    let mut up = x.to_vec();
    up[i] += h;
    let mut dn = x.to_vec();
    dn[i] -= h;
    (f(&up) - f(&dn)) / (2.0 * h)
}
