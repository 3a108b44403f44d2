//! Count: the number-of-orals model (0 = no-show, 1 or 2), a multinomial logistic
//! regression fitted by linfa-logistic on whitened features, with the centre's and
//! track's shrunk past rates among them.
//!
//! linfa does not report convergence, so the gradient of its objective is recomputed
//! here and a fit above tolerance is an error.

use linfa::prelude::*;
use linfa_logistic::MultiLogisticRegression;
use ndarray::{Array2, ArrayView1, ArrayView2};

use super::features::{count_features, own_count_features, COUNT_FEATURES, N_COUNT, N_OWN};
use super::{CountModel, FitReport, ModelError, Rates};
use crate::data::Sessions;
use crate::numeric::{cholesky, cholesky_floored, scaling, solve_l, solve_lt};

const SHRINK: f64 = 50.0;

/// Stopping tolerance of the count model (gradient norm per candidate); the fit is
/// accepted below [`COUNT_ACCEPT`].
const COUNT_TOL: f64 = 5e-5;
const COUNT_ACCEPT: f64 = 1e-4;

/// Each group's rates, shrunk towards `prior`; `key[i]` is candidate i's group.
fn rates_by(y: &[usize], key: &[u32], n: usize, prior: Rates) -> Vec<Rates> {
    let mut counts = vec![[0.0f64; 3]; n];
    for (&g, &k) in key.iter().zip(y) {
        counts[g as usize][k] += 1.0;
    }
    counts
        .iter()
        .map(|c| {
            let tot = c[0] + c[1] + c[2];
            Rates {
                no_show: (c[0] + SHRINK * prior.no_show) / (tot + SHRINK),
                two_orals: (c[2] + SHRINK * prior.two_orals) / (tot + SHRINK),
            }
        })
        .collect()
}

/// What the count fits of a chain need of each candidate, computed once for all of them
/// (each fit uses the first candidates: see [`Sessions`]). It owns everything, so the
/// chain can run on a thread of its own that the caller may stop waiting for.
pub(crate) struct CountInputs {
    /// Features of the candidate alone.
    pub(crate) own: Vec<[f64; N_OWN]>,
    /// Number of orals taken, at most 2.
    pub(crate) y: Vec<usize>,
    pub(crate) center: Vec<u32>,
    pub(crate) track: Vec<u32>,
    pub(crate) n_centers: usize,
    pub(crate) n_tracks: usize,
    /// The whitened features handed to linfa, refilled by each fit: one allocation of
    /// tens of megabytes for the chain instead of one per fit.
    pub(crate) z: Vec<f64>,
}

impl CountInputs {
    pub(crate) fn new(data: Sessions<'_>) -> CountInputs {
        let candidates = data.candidates;
        CountInputs {
            own: candidates.iter().map(own_count_features).collect(),
            y: candidates
                .iter()
                .map(|c| c.n_chosen().unwrap_or(0).min(2))
                .collect(),
            center: candidates.iter().map(|c| c.center).collect(),
            track: candidates.iter().map(|c| c.track).collect(),
            n_centers: data.names.centers.len(),
            n_tracks: data.names.tracks.len(),
            z: Vec::with_capacity(candidates.len() * (N_COUNT + 1)),
        }
    }
}

/// Fits the number-of-orals model, from `init` when given (a fit on fewer sessions of
/// the same dataset), on the first `n` candidates of `inputs`.
///
/// The steps: the centre and track rates, the standardised features, a starting point,
/// the whitening, linfa's fit, our own convergence check, and the weights brought back
/// to the standardised features.
pub(crate) fn fit_count(
    n: usize,
    inputs: &mut CountInputs,
    max_iterations: u64,
    init: Option<&CountModel>,
) -> Result<CountModel, ModelError> {
    let z = &mut inputs.z;
    let (own, y) = (&inputs.own[..n], &inputs.y[..n]);
    let (center, track) = (&inputs.center[..n], &inputs.track[..n]);
    let rates = FitRates::new(y, [center, track], [inputs.n_centers, inputs.n_tracks]);
    let classes_present = rates.totals.iter().filter(|&&t| t > 0.0).count();
    if classes_present < 2 {
        return Err(ModelError::Data(
            "the history needs candidates with at least two different numbers of orals (0, 1, 2)"
                .into(),
        ));
    }
    let features = Features::new(own, [center, track], &rates);
    let start = starting_point(init, &rates.totals, classes_present, &features);
    let l = whitening(&features, &start, classes_present);
    let c = (n as f64).sqrt();
    features.whiten_into(z, &l, c);
    let za = ArrayView2::from_shape((n, N_AUG), &z[..]).expect("shape");
    let mut linfa_fit = fit_linfa(za, ArrayView1::from(y), &l, &start, max_iterations)?;
    let mut at = objective(&linfa_fit, za, y);
    if gradient_norm(&at.1, n) > COUNT_ACCEPT {
        at = newton_polish(&mut linfa_fit, za, y, at, max_iterations);
    }
    let (gnorm, loss) = check_gradient(at, n, max_iterations)?;
    let (weights, intercept) = unwhiten(&linfa_fit.weights, &l, c);
    Ok(CountModel {
        features: COUNT_FEATURES.iter().map(|s| s.to_string()).collect(),
        scale_mean: features.mean,
        scale_std: features.std,
        classes: linfa_fit.classes,
        intercept,
        weights,
        overall_rates: rates.overall,
        center_rates: rates.center,
        track_rates: rates.track,
        fit: FitReport {
            method: format!(
                "linfa-logistic multinomial on whitened features, L-BFGS, alpha {ALPHA}"
            ),
            iterations: None,
            final_gradient_norm: gnorm,
            objective: loss / n as f64,
            termination: "gradient checked after the fit".into(),
        },
    })
}

/// The objective is the summed log-loss + alpha/2 |(W, b)|^2 in the standardised
/// parameters, alpha = 1: a weak prior next to thousands of candidates. In linfa's
/// parameters that is nearly alpha / n (exactly, were the whitening orthogonal).
const ALPHA: f64 = 1.0;

/// The smallest squared pivot of the whitening, relative to the mean curvature: no
/// direction is amplified more than 100-fold.
const WHITENING_FLOOR: f64 = 1e-4;

/// The features with the intercept as their last column.
const N_AUG: usize = N_COUNT + 1;

/// How many candidates took 0, 1 and 2 orals, and the rates of no-shows and of double
/// orals académie-wide and per centre and track (shrunk towards the académie's).
struct FitRates {
    totals: [f64; 3],
    overall: Rates,
    center: Vec<Rates>,
    track: Vec<Rates>,
}

impl FitRates {
    /// `keys` are each candidate's centre and track, `sizes` the number of centres and
    /// tracks.
    fn new(y: &[usize], keys: [&[u32]; 2], sizes: [usize; 2]) -> FitRates {
        let mut totals = [0.0f64; 3];
        for &k in y {
            totals[k] += 1.0;
        }
        let nf = y.len() as f64;
        let overall = Rates {
            no_show: totals[0] / nf,
            two_orals: totals[2] / nf,
        };
        FitRates {
            totals,
            overall,
            center: rates_by(y, keys[0], sizes[0], overall),
            track: rates_by(y, keys[1], sizes[1], overall),
        }
    }
}

/// The features of one fit. They are built on the fly from the candidate's own and its
/// centre's and track's, never stored: a pass for their scaling, one for the whitening,
/// one for the matrix handed to linfa.
struct Features<'a> {
    own: &'a [[f64; N_OWN]],
    /// Each candidate's centre and track.
    keys: [&'a [u32]; 2],
    center_logits: Vec<[f64; 2]>,
    track_logits: Vec<[f64; 2]>,
    mean: Vec<f64>,
    std: Vec<f64>,
}

impl<'a> Features<'a> {
    fn new(own: &'a [[f64; N_OWN]], keys: [&'a [u32]; 2], rates: &FitRates) -> Features<'a> {
        let mut f = Features {
            own,
            keys,
            center_logits: rates.center.iter().map(|r| r.logits()).collect(),
            track_logits: rates.track.iter().map(|r| r.logits()).collect(),
            mean: Vec::new(),
            std: Vec::new(),
        };
        let mut sum = [0.0; N_COUNT];
        let mut sq = [0.0; N_COUNT];
        for i in 0..f.len() {
            for (k, v) in f.raw(i).into_iter().enumerate() {
                sum[k] += v;
                sq[k] += v * v;
            }
        }
        (f.mean, f.std) = scaling(sum, sq, f.len());
        f
    }

    fn len(&self) -> usize {
        self.own.len()
    }

    fn raw(&self, i: usize) -> [f64; N_COUNT] {
        count_features(
            &self.own[i],
            self.center_logits[self.keys[0][i] as usize],
            self.track_logits[self.keys[1][i] as usize],
        )
    }

    /// Candidate `i`'s standardised features, then 1 for the intercept.
    fn augmented(&self, i: usize) -> [f64; N_AUG] {
        let x = self.raw(i);
        let mut zr = [1.0; N_AUG];
        for f in 0..N_COUNT {
            zr[f] = (x[f] - self.mean[f]) / self.std[f];
        }
        zr
    }

    /// `z` = L^-1 (x, 1) / c for every candidate, row by row.
    fn whiten_into(&self, z: &mut Vec<f64>, l: &[f64], c: f64) {
        z.clear();
        for i in 0..self.len() {
            let mut zr = self.augmented(i);
            solve_l(l, N_AUG, &mut zr);
            z.extend(zr.iter().map(|v| v / c));
        }
    }
}

/// The starting point, weights and intercept in one (N_COUNT + 1) x K matrix on this
/// fit's standardised features: a previous fit's logits when there is one.
fn starting_point(
    init: Option<&CountModel>,
    totals: &[f64; 3],
    classes_present: usize,
    features: &Features<'_>,
) -> Array2<f64> {
    if let Some(p) = init.filter(|p| p.classes.len() == classes_present) {
        return restandardise(p, &features.mean, &features.std);
    }
    // Without one, the class frequencies (the intercepts' optimum when the features say
    // nothing), not equal odds: fewer iterations for linfa.
    let nf = features.len() as f64;
    let logs: Vec<f64> = totals
        .iter()
        .filter(|&&t| t > 0.0)
        .map(|t| (t / nf).ln())
        .collect();
    let mean = logs.iter().sum::<f64>() / logs.len() as f64;
    let mut v = Array2::zeros((N_AUG, logs.len()));
    for (k, l) in logs.iter().enumerate() {
        v[[N_COUNT, k]] = l - mean;
    }
    v
}

/// The lower Cholesky factor L of the second moment of (x, 1), weighted by each
/// candidate's curvature (the sum over classes of p (1 - p) under the starting point).
///
/// linfa's L-BFGS is quick only on a problem whose curvature is about the same in every
/// direction, so it is given whitened features z = L^-1 (x, 1). On the raw features
/// (points missing and their square, centre and track rates, all correlated) it took
/// hundreds of iterations. And as linfa minimises the *summed* log-loss, whose curvature
/// grows with the number of candidates, while its L-BFGS starts with a unit step, z is
/// also divided by sqrt(n): otherwise the first step overshoots a million-fold at
/// national scale and the line search spends tens of evaluations coming back. The
/// intercept is the last column of z, so linfa's own is off and the prior reaches the
/// intercept too, which with thousands of candidates changes nothing measurable.
fn whitening(features: &Features<'_>, start: &Array2<f64>, classes_present: usize) -> Vec<f64> {
    let mut m2 = vec![0.0; N_AUG * N_AUG];
    let mut wsum = 0.0;
    let mut logit = vec![0.0; classes_present];
    // The starting point class by class, out of ndarray's checked 2-D indexing.
    let columns: Vec<[f64; N_AUG]> = (0..classes_present)
        .map(|k| std::array::from_fn(|f| start[[f, k]]))
        .collect();
    for i in 0..features.len() {
        let zr = features.augmented(i);
        for (l, v) in logit.iter_mut().zip(&columns) {
            *l = v[N_COUNT] + (0..N_COUNT).map(|f| zr[f] * v[f]).sum::<f64>();
        }
        let mx = logit.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        for l in logit.iter_mut() {
            *l = (*l - mx).exp();
        }
        let t: f64 = logit.iter().sum();
        let q: f64 = logit.iter().map(|v| v / t * (1.0 - v / t)).sum();
        wsum += q;
        for i in 0..N_AUG {
            let qz = q * zr[i];
            for j in 0..=i {
                m2[i * N_AUG + j] += qz * zr[j];
            }
        }
    }
    for i in 0..N_AUG {
        for j in 0..=i {
            m2[i * N_AUG + j] /= wsum;
            m2[j * N_AUG + i] = m2[i * N_AUG + j];
        }
    }
    cholesky_floored(&mut m2, N_AUG, WHITENING_FLOOR);
    m2
}

/// What linfa returned: the weights on the whitened features and the classes they are
/// for.
struct LinfaFit {
    weights: Array2<f64>,
    classes: Vec<usize>,
}

/// linfa's fit on the whitened features `za`, started from `start` (on the standardised
/// features) carried through the whitening L.
fn fit_linfa<'a>(
    za: ArrayView2<'a, f64>,
    ya: ArrayView1<'a, usize>,
    l: &[f64],
    start: &Array2<f64>,
    max_iterations: u64,
) -> Result<LinfaFit, ModelError> {
    let nf = za.nrows() as f64;
    let c = nf.sqrt();
    let classes_present = start.ncols();
    // z^T (c L^T v) = (x, 1)^T v: the same logits as the starting point.
    let mut w0 = Array2::zeros((N_AUG, classes_present));
    for k in 0..classes_present {
        for i in 0..N_AUG {
            w0[[i, k]] = c
                * (i..N_AUG)
                    .map(|r| l[r * N_AUG + i] * start[[r, k]])
                    .sum::<f64>();
        }
    }
    let params = MultiLogisticRegression::default()
        .alpha(ALPHA / nf)
        .with_intercept(false)
        .max_iterations(max_iterations)
        .gradient_tolerance(COUNT_TOL * c)
        .initial_params(w0);
    let fitted = params
        .fit(&LinfaData::new(za, ya))
        .map_err(|e| ModelError::Optimiser(format!("count model: {e}")))?;
    Ok(LinfaFit {
        weights: fitted.params().clone(),
        classes: fitted.classes().to_vec(),
    })
}

/// linfa's objective at its weights: the summed log-loss plus its ridge (alpha / n)/2
/// |W|^2, and the gradient, one row per feature and one column per class.
fn objective(fit: &LinfaFit, za: ArrayView2<'_, f64>, y: &[usize]) -> (f64, Array2<f64>) {
    let ws = &fit.weights;
    let nf = za.nrows() as f64;
    let mut diff = za.dot(ws);
    let mut loss = 0.0;
    for (i, mut row) in diff.rows_mut().into_iter().enumerate() {
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let s: f64 = row.iter().map(|v| (v - m).exp()).sum();
        let yi = fit
            .classes
            .iter()
            .position(|&cl| cl == y[i])
            .expect("class");
        loss -= row[yi] - m - s.ln();
        row.mapv_inplace(|v| (v - m).exp() / s);
        row[yi] -= 1.0;
    }
    let g = za.t().dot(&diff) + &(ws * (ALPHA / nf));
    loss += 0.5 * (ALPHA / nf) * ws.iter().map(|v| v * v).sum::<f64>();
    (loss, g)
}

/// The gradient norm per candidate, in the whitened parameters without the 1/sqrt(n)
/// scaling: the figure [`COUNT_TOL`] and [`COUNT_ACCEPT`] are about.
fn gradient_norm(g: &Array2<f64>, n: usize) -> f64 {
    let nf = n as f64;
    g.iter().map(|v| v * v).sum::<f64>().sqrt() * nf.sqrt() / nf
}

/// Newton's method with a backtracking line search on linfa's own objective, from
/// linfa's point, for the fits linfa's L-BFGS leaves short of the optimum: on a few
/// dozen candidates whose classes separate along some feature (18 to 50 candidates of the
/// sample: a third of such draws), it stopped with a gradient norm of 1 to 100 per
/// candidate. The ridge makes the objective strictly convex, so its optimum exists and
/// Newton reaches it; with (N_COUNT + 1) x 3 parameters its Hessian is a 51 x 51 matrix,
/// cheap at the sizes where this runs. Fits linfa finishes never come here, so their
/// models are unchanged.
fn newton_polish(
    fit: &mut LinfaFit,
    za: ArrayView2<'_, f64>,
    y: &[usize],
    (mut loss, mut g): (f64, Array2<f64>),
    max_iterations: u64,
) -> (f64, Array2<f64>) {
    let n = za.nrows();
    for _ in 0..max_iterations {
        if gradient_norm(&g, n) <= COUNT_TOL {
            break;
        }
        let step = newton_step(fit, za, &g);
        let start = fit.weights.clone();
        let slope: f64 = step.iter().zip(g.iter()).map(|(d, gi)| d * gi).sum();
        let mut t = 1.0;
        let improved = loop {
            fit.weights = &start - &(&step * t);
            let (l2, g2) = objective(fit, za, y);
            if l2.is_finite() && l2 <= loss - 1e-4 * t * slope {
                (loss, g) = (l2, g2);
                break true;
            }
            t *= 0.5;
            if t < 1e-12 {
                break false;
            }
        };
        if !improved {
            fit.weights = start;
            break;
        }
    }
    (loss, g)
}

/// The Newton step H^-1 g of linfa's objective at `fit`'s weights (parameters ordered
/// feature by feature, class within feature, as the weights).
fn newton_step(fit: &LinfaFit, za: ArrayView2<'_, f64>, g: &Array2<f64>) -> Array2<f64> {
    let (f_n, k_n) = fit.weights.dim();
    let d = f_n * k_n;
    let nf = za.nrows() as f64;
    let mut h = vec![0.0; d * d];
    let logits = za.dot(&fit.weights);
    let mut p = vec![0.0; k_n];
    for (z, row) in za.rows().into_iter().zip(logits.rows()) {
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let s: f64 = row.iter().map(|v| (v - m).exp()).sum();
        for (pk, v) in p.iter_mut().zip(row) {
            *pk = (v - m).exp() / s;
        }
        for a in 0..f_n {
            for b in 0..=a {
                let zz = z[a] * z[b];
                for k in 0..k_n {
                    for l in 0..k_n {
                        let w = p[k] * (f64::from(u8::from(k == l)) - p[l]);
                        h[(a * k_n + k) * d + b * k_n + l] += zz * w;
                    }
                }
            }
        }
    }
    for i in 0..d {
        for j in 0..i {
            h[j * d + i] = h[i * d + j];
        }
        h[i * d + i] += ALPHA / nf;
    }
    cholesky(&mut h, d);
    let mut step: Vec<f64> = g.iter().copied().collect();
    solve_l(&h, d, &mut step);
    solve_lt(&h, d, &mut step);
    Array2::from_shape_vec((f_n, k_n), step).expect("shape")
}

/// The gradient norm per candidate and the objective, from linfa's objective and
/// gradient at the solution (recomputed here, since linfa does not report convergence);
/// an error above [`COUNT_ACCEPT`].
fn check_gradient(
    (loss, g): (f64, Array2<f64>),
    n: usize,
    max_iterations: u64,
) -> Result<(f64, f64), ModelError> {
    let gnorm = gradient_norm(&g, n);
    if !gnorm.is_finite() || gnorm > COUNT_ACCEPT {
        return Err(ModelError::NotConverged {
            part: "number-of-orals (linfa multinomial logistic)",
            detail: format!(
                "gradient norm per candidate {gnorm:.2e} after at most {max_iterations} iterations"
            ),
        });
    }
    Ok((gnorm, loss))
}

/// linfa's weights back on the standardised features: logits = z^T W =
/// (x, 1)^T (L^-T W / c). Returns the weights per feature and class, and the intercepts.
fn unwhiten(ws: &Array2<f64>, l: &[f64], c: f64) -> (Vec<Vec<f64>>, Vec<f64>) {
    let k_classes = ws.ncols();
    let mut weights = vec![vec![0.0; k_classes]; N_COUNT];
    let mut intercept = vec![0.0; k_classes];
    for k in 0..k_classes {
        let mut col: Vec<f64> = (0..N_AUG).map(|f| ws[[f, k]] / c).collect();
        solve_lt(l, N_AUG, &mut col);
        for f in 0..N_COUNT {
            weights[f][k] = col[f];
        }
        intercept[k] = col[N_COUNT];
    }
    (weights, intercept)
}

type LinfaData<'a> = linfa::DatasetBase<ArrayView2<'a, f64>, ArrayView1<'a, usize>>;

/// `prev`'s weights (rows 0..N_COUNT) and intercept (row N_COUNT) for features standardised by
/// `mean` and `std` instead of its own scaling: the same logits on the raw features.
fn restandardise(prev: &CountModel, mean: &[f64], std: &[f64]) -> Array2<f64> {
    let k = prev.classes.len();
    let mut out = Array2::zeros((N_COUNT + 1, k));
    for j in 0..k {
        // Logit = b0 + sum_f a_f x_f on the raw features.
        let a: Vec<f64> = (0..N_COUNT)
            .map(|f| prev.weights[f][j] / prev.scale_std[f])
            .collect();
        let b0 = prev.intercept[j] - (0..N_COUNT).map(|f| a[f] * prev.scale_mean[f]).sum::<f64>();
        for f in 0..N_COUNT {
            out[[f, j]] = a[f] * std[f];
        }
        out[[N_COUNT, j]] = b0 + (0..N_COUNT).map(|f| a[f] * mean[f]).sum::<f64>();
    }
    out
}
