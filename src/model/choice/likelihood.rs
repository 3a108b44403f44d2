//! Likelihood: the Plackett-Luce probability of a candidate's chosen set (one or two
//! subjects, unordered), its gradient and its curvature with respect to the utilities.
//! Pure functions of one candidate, tested against enumeration and finite differences.

/// The curvature of -log L with respect to the utilities, as terms (c_t = `coef[t]`,
/// v_t = `vecs[t * n..(t + 1) * n]`) with
/// Hessian = diag(sum_t c_t v_t) - sum_t c_t v_t v_t^T: one softmax for one pick; for two
/// picks {a, b}, the softmax over all subjects plus, weighted by the posterior of each
/// order (lambda, 1 - lambda), the softmax over the subjects other than the first pick.
/// The exact Hessian has one more term, -lambda (1 - lambda) (q^a - q^b)(q^a - q^b)^T,
/// left out so that every candidate's curvature is positive semi-definite.
pub(crate) fn pl_curvature(u: &[f64], chosen: &[u32], coef: &mut Vec<f64>, vecs: &mut Vec<f64>) {
    let lse = |skip: Option<usize>| {
        let it = || {
            u.iter()
                .enumerate()
                .filter(move |(k, _)| Some(*k) != skip)
                .map(|(_, &v)| v)
        };
        let mx = it().fold(f64::NEG_INFINITY, f64::max);
        mx + it().map(|v| (v - mx).exp()).sum::<f64>().ln()
    };
    let softmax = |skip: Option<usize>, l: f64, out: &mut Vec<f64>| {
        out.extend(
            u.iter()
                .enumerate()
                .map(|(k, &v)| if Some(k) == skip { 0.0 } else { (v - l).exp() }),
        );
    };
    coef.clear();
    vecs.clear();
    coef.push(1.0);
    softmax(None, lse(None), vecs);
    if let [a, b] = *chosen {
        let (a, b) = (a as usize, b as usize);
        let (la, lb) = (lse(Some(a)), lse(Some(b)));
        // P(a first) / P(b first) = R_b / R_a.
        let lambda = 1.0 / (1.0 + (la - lb).exp());
        coef.extend([lambda, 1.0 - lambda]);
        softmax(Some(a), la, vecs);
        softmax(Some(b), lb, vecs);
    }
}

/// Log-likelihood of the chosen set (1 or 2 local indices, unordered) under Plackett-Luce
/// draws without replacement, and its gradient with respect to the utilities.
///
/// One pick a: log L = u_a - log W.
/// Two picks {a, b}: L = (w_a w_b / W) (1/(W - w_a) + 1/(W - w_b)).
#[cfg(test)]
pub(crate) fn pl_loglik(u: &[f64], chosen: &[u32]) -> (f64, Vec<f64>) {
    let mut w = Vec::new();
    let mut g = Vec::new();
    let ll = pl_loglik_into(u, chosen, &mut w, &mut g);
    (ll, g)
}

/// [`pl_loglik`] writing into reusable buffers: the objective runs it for every
/// candidate at every iteration, and allocations there cost more than the arithmetic.
pub(crate) fn pl_loglik_into(u: &[f64], chosen: &[u32], w: &mut Vec<f64>, g: &mut Vec<f64>) -> f64 {
    let n = u.len();
    let m = u.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    w.clear();
    w.extend(u.iter().map(|v| (v - m).exp()));
    let total: f64 = w.iter().sum();
    g.clear();
    g.extend(w.iter().map(|wk| -wk / total));
    match *chosen {
        [a] => {
            let a = a as usize;
            g[a] += 1.0;
            u[a] - m - total.ln()
        }
        [a, b] => {
            let (a, b) = (a as usize, b as usize);
            // Sums over the subjects other than a (R_a) and b, relative to exp(m). When
            // a's utility dominates by hundreds (far from the optimum, in a line search)
            // R_a underflows to 0 and 1 / R_a would make the likelihood infinite: only
            // then are the logs of the sums computed the slow, safe way.
            let ra: f64 = (0..n).filter(|&k| k != a).map(|k| w[k]).sum();
            let rb: f64 = (0..n).filter(|&k| k != b).map(|k| w[k]).sum();
            let fast = ra > 1e-250 && rb > 1e-250;
            let (lra, lrb) = if fast {
                (m + ra.ln(), m + rb.ln())
            } else {
                let lse_without = |x: usize| {
                    let mx = (0..n)
                        .filter(|&k| k != x)
                        .map(|k| u[k])
                        .fold(f64::NEG_INFINITY, f64::max);
                    mx + (0..n)
                        .filter(|&k| k != x)
                        .map(|k| (u[k] - mx).exp())
                        .sum::<f64>()
                        .ln()
                };
                (lse_without(a), lse_without(b))
            };
            // log(1/R_a + 1/R_b), and the weight of a's term in it.
            let log_s = -lra.min(lrb) + (-(lra - lrb).abs()).exp().ln_1p();
            let lambda = 1.0 / (1.0 + (lra - lrb).exp()); // (1/R_a) / (1/R_a + 1/R_b)
                                                          // Softmax over the subjects other than a (resp. b): w_k / R_a, as exp(u_k - log R_a).
            let (ea, eb) = ((m - lra).exp(), (m - lrb).exp());
            let log_total = m + total.ln();
            let ll = u[a] + u[b] - log_total + log_s;
            // d log(1/R_a + 1/R_b) / du_k = -(lambda q_k^a + (1 - lambda) q_k^b), with q^x
            // the softmax over the subjects other than x.
            for (k, gk) in g.iter_mut().enumerate() {
                let (qa, qb) = if fast {
                    (w[k] * ea, w[k] * eb)
                } else {
                    ((u[k] - lra).exp(), (u[k] - lrb).exp())
                };
                let qa = if k == a { 0.0 } else { qa };
                let qb = if k == b { 0.0 } else { qb };
                *gk -= lambda * qa + (1.0 - lambda) * qb;
            }
            g[a] += 1.0;
            g[b] += 1.0;
            ll
        }
        _ => {
            g.iter_mut().for_each(|v| *v = 0.0);
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numeric::central_difference;

    #[test]
    fn pl_gradient_matches_finite_differences() {
        let u = [0.3, -1.2, 0.8, 2.0];
        for chosen in [&[1u32][..], &[0, 2], &[3, 1], &[2]] {
            let (_, g) = pl_loglik(&u, chosen);
            for (k, gk) in g.iter().enumerate() {
                let fd = central_difference(|x| pl_loglik(x, chosen).0, &u, k, 1e-6);
                assert!(
                    (fd - gk).abs() < 1e-7,
                    "chosen {chosen:?} k {k}: {fd} vs {gk}"
                );
            }
        }
    }

    /// Far from the optimum a line search tries utilities hundreds apart; the pair
    /// likelihood once returned +inf there (1 / (W - w_a) with W - w_a underflowing),
    /// which L-BFGS took for a perfect fit and followed to infinity.
    #[test]
    fn regression_pair_likelihood_stays_finite_when_one_subject_dominates() {
        for u in [[800.0, 0.0, 0.0], [0.0, -900.0, -900.0], [1e4, 1.0, -1e4]] {
            // The dominant subject is among the chosen: W - w_0 underflows.
            let (ll, g) = pl_loglik(&u, &[0, 1]);
            assert!(ll.is_finite() && ll <= 1e-9, "{u:?}: log-likelihood {ll}");
            assert!(g.iter().all(|v| v.is_finite()), "{u:?}: gradient {g:?}");
        }
    }

    #[test]
    fn pl_pair_probability_matches_enumeration() {
        let u = [0.3f64, -1.2, 0.8, 2.0];
        let w: Vec<f64> = u.iter().map(|v| v.exp()).collect();
        let tot: f64 = w.iter().sum();
        let p01 = w[0] / tot * w[1] / (tot - w[0]) + w[1] / tot * w[0] / (tot - w[1]);
        let (ll, _) = pl_loglik(&u, &[0, 1]);
        assert!((ll.exp() - p01).abs() < 1e-12);
    }
}
