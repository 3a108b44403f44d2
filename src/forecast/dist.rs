//! Count distributions: the exact Poisson-binomial of independent candidates, its
//! normal approximation for national totals, and the lognormal widening that keeps the
//! mean (Gauss-Hermite nodes, their weights tilted where capped probabilities would
//! lower it). Kept apart from the forecast's cells: they are the arithmetic every plan,
//! replay and baseline relies on.

/// The distribution of a count: `pmf[n]` = P(count = n).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CountDist {
    pub(crate) pmf: Vec<f64>,
}

/// Above this many candidates the exact convolution gives way to a normal approximation;
/// the Berry-Esseen bound (0.56 x sum p(1-p)(p^2+(1-p)^2) / sigma^3) is then below 1% for
/// any realistic probabilities, and only académie- or nation-wide totals get there.
const EXACT_LIMIT: usize = 5000;

/// Probabilists' Gauss-Hermite nodes and weights (7 points, weights normalised to 1).
const GH_NODES: [f64; 7] = [
    -3.750_439_717_725_742,
    -2.366_759_410_734_541,
    -1.154_405_394_739_968_2,
    0.0,
    1.154_405_394_739_968_2,
    2.366_759_410_734_541,
    3.750_439_717_725_742,
];
const GH_WEIGHTS: [f64; 7] = [
    0.000_548_268_855_972_218_4,
    0.030_757_123_967_586_5,
    0.240_123_178_605_012_75,
    0.457_142_857_142_857_1,
    0.240_123_178_605_012_75,
    0.030_757_123_967_586_5,
    0.000_548_268_855_972_218_4,
];

/// A lognormal factor of mean 1 and relative variance `rel_var` as Gauss-Hermite nodes:
/// (factor, weight) pairs whose weights sum to 1.
pub(crate) fn lognormal_nodes(rel_var: f64) -> Vec<(f64, f64)> {
    let s2 = (1.0 + rel_var.max(0.0)).ln();
    let s = s2.sqrt();
    GH_NODES
        .iter()
        .zip(GH_WEIGHTS)
        .map(|(x, w)| ((-0.5 * s2 + s * x).exp(), w))
        .collect()
}

impl CountDist {
    /// Exact distribution of a sum of independent Bernoulli(p_i).
    ///
    /// The recursion only visits a window of counts: above `mean + 12 sd + 20` the final
    /// distribution holds less than 1e-30 (Bernstein), and every partial sum is below the
    /// final one, so no partial distribution holds more there either; below, a count
    /// whose probability fell under 1e-20 can never rise above it again (each step
    /// averages two neighbours), so it is dropped, which loses less than 1e-20 per count.
    /// A subject with 5,000 eligible candidates costs a few hundred counts per step
    /// instead of 5,000.
    pub(crate) fn poisson_binomial(ps: &[f64]) -> CountDist {
        if ps.len() > EXACT_LIMIT {
            return CountDist::normal_approx(ps);
        }
        let clamped = || ps.iter().map(|p| p.clamp(0.0, 1.0));
        let mean: f64 = clamped().sum();
        let var: f64 = clamped().map(|p| p * (1.0 - p)).sum();
        let top = ((mean + 12.0 * var.sqrt() + 20.0).ceil() as usize).min(ps.len());
        // Two buffers, each step writing one from the other: `cur[n + 1]` = P(n), and
        // `cur[0]` stays 0 so that count 0 needs no special case. Written this way the
        // step has no bounds checks and no dependence between counts, and the compiler
        // vectorises it; the arithmetic is the same, term for term, as updating in place.
        let mut cur = vec![0.0; ps.len() + 2];
        let mut next = cur.clone();
        cur[1] = 1.0;
        let mut lo = 0;
        for (i, p) in clamped().enumerate() {
            let hi = (i + 1).min(top);
            let q = 1.0 - p;
            let (from, below) = (&cur[lo + 1..=hi + 1], &cur[lo..=hi]);
            for ((d, &a), &b) in next[lo + 1..=hi + 1].iter_mut().zip(from).zip(below) {
                *d = a * q + b * p;
            }
            std::mem::swap(&mut cur, &mut next);
            while lo < hi && cur[lo + 1] < 1e-20 {
                cur[lo + 1] = 0.0;
                next[lo + 1] = 0.0;
                lo += 1;
            }
        }
        cur.remove(0);
        CountDist { pmf: cur }
    }

    fn normal_approx(ps: &[f64]) -> CountDist {
        let mean: f64 = ps.iter().sum();
        let var: f64 = ps.iter().map(|p| p * (1.0 - p)).sum();
        let sd = var.sqrt().max(1e-9);
        let cdf = |x: f64| 0.5 * erfc(-(x - mean) / (sd * std::f64::consts::SQRT_2));
        let mut pmf = vec![0.0; ps.len() + 1];
        let lo = (mean - 12.0 * sd).floor().max(0.0) as usize;
        let hi = ((mean + 12.0 * sd).ceil() as usize).min(ps.len());
        for (n, v) in pmf.iter_mut().enumerate().take(hi + 1).skip(lo) {
            *v = cdf(n as f64 + 0.5) - cdf(n as f64 - 0.5);
        }
        CountDist { pmf }
    }

    /// The Poisson-binomial of `ps` with every probability scaled by a common lognormal
    /// factor of mean 1 and relative variance `rel_var`.
    ///
    /// A scaled probability cannot exceed 1, so at the high nodes the capped
    /// probabilities sum to less than the scaled mean, and the mixture would expect fewer
    /// orals than the candidates' probabilities add up to (0.40 for a lone candidate of
    /// probability 0.52 at a relative variance of 3.5). The nodes' weights are therefore
    /// tilted, `w_k e^(lambda r_k)` renormalised, with the one `lambda` that brings the
    /// mixture's mean back to the sum of the probabilities: the widening spreads the
    /// count, never moves its mean (the 7-node rule's own error on the mean, which grows
    /// with the relative variance, is corrected by the same step).
    pub(crate) fn with_drift(ps: &[f64], rel_var: f64) -> CountDist {
        if rel_var <= 0.0 || ps.is_empty() {
            return CountDist::poisson_binomial(ps);
        }
        let s2 = (1.0 + rel_var).ln();
        let s = s2.sqrt();
        let mut scaled = vec![0.0; ps.len()];
        let nodes: Vec<(f64, CountDist)> = GH_NODES
            .iter()
            .map(|x| {
                let r = (-0.5 * s2 + s * x).exp();
                for (d, p) in scaled.iter_mut().zip(ps) {
                    *d = (p * r).min(1.0);
                }
                (r, CountDist::poisson_binomial(&scaled))
            })
            .collect();
        let target: f64 = ps.iter().map(|p| p.clamp(0.0, 1.0)).sum();
        let means: Vec<f64> = nodes.iter().map(|(_, d)| d.mean()).collect();
        let weights = tilted(
            &nodes.iter().map(|(r, _)| *r).collect::<Vec<_>>(),
            &means,
            target,
        );
        let mut pmf = vec![0.0; ps.len() + 1];
        for (w, (_, d)) in weights.iter().zip(&nodes) {
            for (a, b) in pmf.iter_mut().zip(&d.pmf) {
                *a += w * b;
            }
        }
        CountDist { pmf }
    }

    pub(crate) fn mean(&self) -> f64 {
        self.pmf.iter().enumerate().map(|(n, p)| n as f64 * p).sum()
    }

    /// The tests check widenings by it; nothing else needs it.
    #[cfg(test)]
    pub(crate) fn variance(&self) -> f64 {
        let m = self.mean();
        self.pmf
            .iter()
            .enumerate()
            .map(|(n, p)| (n as f64 - m).powi(2) * p)
            .sum()
    }

    /// Smallest n with P(count <= n) >= q.
    pub(crate) fn quantile(&self, q: f64) -> usize {
        let mut acc = 0.0;
        for (n, p) in self.pmf.iter().enumerate() {
            acc += p;
            if acc >= q - 1e-12 {
                return n;
            }
        }
        self.pmf.len().saturating_sub(1)
    }

    /// P(count > n).
    pub(crate) fn tail(&self, n: usize) -> f64 {
        self.pmf.iter().skip(n + 1).sum()
    }

    /// Expected count beyond `cap`: E[max(N - cap, 0)].
    pub(crate) fn expected_excess(&self, cap: usize) -> f64 {
        self.pmf
            .iter()
            .enumerate()
            .skip(cap + 1)
            .map(|(n, p)| (n - cap) as f64 * p)
            .sum()
    }
}

/// The Gauss-Hermite weights tilted towards the high nodes (`lambda > 0`) or the low
/// ones until the nodes' conditional means `means` average to `target`: the mixture
/// mean is increasing in `lambda` (the means grow with the node's factor `r`), so a
/// bisection finds it. A target beyond every node's mean (all probabilities 1) gets the
/// nearest end.
fn tilted(r: &[f64], means: &[f64], target: f64) -> Vec<f64> {
    let at = |lambda: f64| -> Vec<f64> {
        let top = r
            .iter()
            .map(|x| lambda * x)
            .fold(f64::NEG_INFINITY, f64::max);
        let w: Vec<f64> = GH_WEIGHTS
            .iter()
            .zip(r)
            .map(|(w, x)| w * (lambda * x - top).exp())
            .collect();
        let total: f64 = w.iter().sum();
        w.into_iter().map(|x| x / total).collect()
    };
    let mean = |w: &[f64]| w.iter().zip(means).map(|(w, m)| w * m).sum::<f64>();
    let plain = at(0.0);
    let gap = mean(&plain) - target;
    if gap.abs() <= 1e-10 * target.max(1.0) {
        return plain;
    }
    // The bracket grows until it holds the target (a narrow widening of probabilities
    // near 1 needs a steep tilt), up to where one end node holds all the weight.
    let mut far = 4.0;
    let reached = |l: f64| (mean(&at(l)) - target) * gap.signum() <= 0.0;
    while !reached(-far * gap.signum()) && far < 1e6 {
        far *= 4.0;
    }
    let (mut lo, mut hi) = if gap > 0.0 { (-far, 0.0) } else { (0.0, far) };
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if mean(&at(mid)) < target {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-13 {
            break;
        }
    }
    at(0.5 * (lo + hi))
}

/// Complementary error function (Numerical Recipes' erfcc, relative error < 1.2e-7),
/// enough for an approximation that is only used on very large counts.
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The count distribution against enumeration of all 2^n outcomes.
    #[test]
    fn poisson_binomial_matches_enumeration() {
        let ps = [0.1, 0.5, 0.93, 0.02, 0.4, 0.77];
        let mut brute = vec![0.0; ps.len() + 1];
        for mask in 0u32..(1 << ps.len()) {
            let mut pr = 1.0;
            for (i, p) in ps.iter().enumerate() {
                pr *= if mask & (1 << i) != 0 { *p } else { 1.0 - p };
            }
            brute[mask.count_ones() as usize] += pr;
        }
        let d = CountDist::poisson_binomial(&ps);
        for (a, b) in d.pmf.iter().zip(&brute) {
            assert!((a - b).abs() < 1e-14);
        }
    }

    #[test]
    fn drift_keeps_the_mean_and_widens() {
        let ps = vec![0.3; 40];
        let plain = CountDist::poisson_binomial(&ps);
        let wide = CountDist::with_drift(&ps, 0.04);
        assert!((plain.mean() - wide.mean()).abs() < 1e-6);
        // Extra variance ~ rel_var * mean^2 = 0.04 * 144.
        let extra = wide.variance() - plain.variance();
        assert!((extra - 0.04 * 144.0).abs() < 0.3, "extra variance {extra}");
        assert!((wide.pmf.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn normal_approximation_is_close_on_large_counts() {
        let ps: Vec<f64> = (0..4000)
            .map(|i| 0.05 + 0.9 * (i % 17) as f64 / 17.0)
            .collect();
        let exact = CountDist::poisson_binomial(&ps);
        let approx = CountDist::normal_approx(&ps);
        let (mut ca, mut cb, mut worst) = (0.0, 0.0, 0.0f64);
        for (a, b) in exact.pmf.iter().zip(&approx.pmf) {
            ca += a;
            cb += b;
            worst = worst.max((ca - cb).abs());
        }
        assert!(worst < 0.01, "largest CDF gap {worst}");
    }

    #[test]
    fn quantile_and_excess() {
        let d = CountDist {
            pmf: vec![0.5, 0.25, 0.25],
        };
        assert_eq!(d.quantile(0.5), 0);
        assert_eq!(d.quantile(0.6), 1);
        assert_eq!(d.quantile(0.95), 2);
        assert!((d.expected_excess(0) - 0.75).abs() < 1e-12);
        assert!((d.expected_excess(1) - 0.25).abs() < 1e-12);
        assert_eq!(d.expected_excess(2), 0.0);
    }
}
