//! Predict: a fitted model applied to one candidate: the probabilities of 0, 1 and 2
//! orals, the utilities of the eligible subjects, and from both the probability that
//! each subject is among the orals taken.

use std::collections::HashMap;

use super::features::{
    choice_features, count_features, own_count_features, N_DENSE, SLOPE_FEATURES,
};
use super::Model;
use crate::data::{Candidate, Dataset};

/// Maps a dataset's names onto a model's indices; unknown names map to `None`, which
/// means the académie-wide behaviour.
pub(crate) struct Mapping {
    pub(crate) subject: Vec<Option<usize>>,
    pub(crate) center: Vec<Option<usize>>,
    pub(crate) track: Vec<Option<usize>>,
}

fn map_names(data_names: &[String], model_names: &[String]) -> Vec<Option<usize>> {
    let idx: HashMap<&str, usize> = model_names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    data_names
        .iter()
        .map(|n| idx.get(n.as_str()).copied())
        .collect()
}

impl Model {
    pub(crate) fn mapping(&self, data: &Dataset) -> Mapping {
        let subjects: Vec<String> = self.subjects.iter().map(|s| s.code.clone()).collect();
        Mapping {
            subject: map_names(&data.subjects, &subjects),
            center: map_names(&data.centers, &self.centers),
            track: map_names(&data.tracks, &self.tracks),
        }
    }

    /// Probabilities of 0, 1 and 2 orals. A candidate with a single eligible subject
    /// cannot take two orals: that mass goes to one oral.
    fn count_probabilities(&self, c: &Candidate, map: &Mapping) -> [f64; 3] {
        let cm = &self.count;
        let cr = map.center[c.center as usize]
            .map(|i| cm.center_rates[i])
            .unwrap_or(cm.overall_rates);
        let tr = map.track[c.track as usize]
            .map(|i| cm.track_rates[i])
            .unwrap_or(cm.overall_rates);
        let x = count_features(&own_count_features(c), cr.logits(), tr.logits());
        let mut z: Vec<f64> = cm.intercept.clone();
        for (f, &xf) in x.iter().enumerate() {
            let xs = (xf - cm.scale_mean[f]) / cm.scale_std[f];
            for (k, zk) in z.iter_mut().enumerate() {
                *zk += xs * cm.weights[f][k];
            }
        }
        let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
        let s: f64 = e.iter().sum();
        let mut p = [0.0; 3];
        for (k, &n) in cm.classes.iter().enumerate() {
            p[n.min(2)] += e[k] / s;
        }
        if c.subjects.len() < 2 {
            p[1] += p[2];
            p[2] = 0.0;
        }
        p
    }

    /// Utilities of the candidate's subjects (in the candidate's order).
    pub(crate) fn utilities(&self, c: &Candidate, map: &Mapping) -> Vec<f64> {
        let ch = &self.choice;
        let feats = choice_features(c);
        let center = map.center[c.center as usize].map(|i| &ch.center_slopes[i]);
        let track = map.track[c.track as usize].map(|i| &ch.track_slopes[i]);
        let local = map.center[c.center as usize].and_then(|i| ch.center_subject.get(i));
        feats
            .iter()
            .zip(&c.subjects)
            .map(|(x, s)| {
                let mut u = 0.0;
                let mut xs = [0.0; N_DENSE];
                for f in 0..N_DENSE {
                    xs[f] = (x[f] - ch.scale_mean[f]) / ch.scale_std[f];
                    u += xs[f] * ch.beta[f];
                }
                if let Some(i) = map.subject[s.subject as usize] {
                    u += ch.subject_effects[i];
                    u += local.map_or(0.0, |v| v[i]);
                    u += ch.subject_trend.get(i).copied().unwrap_or(0.0);
                }
                for (k, &f) in SLOPE_FEATURES.iter().enumerate() {
                    if let Some(v) = center {
                        u += xs[f] * v[k];
                    }
                    if let Some(v) = track {
                        u += xs[f] * v[k];
                    }
                }
                u
            })
            .collect()
    }

    /// Probability that each of the candidate's subjects is among the orals taken.
    pub(crate) fn inclusion(&self, c: &Candidate, map: &Mapping) -> Vec<f64> {
        let pi = self.count_probabilities(c, map);
        let u = self.utilities(c, map);
        let p = inclusion_probabilities(pi, &u);
        match self.choice.rule {
            None => p,
            Some(r) => {
                let by_marks = inclusion_probabilities(pi, &r.utilities(c));
                p.iter()
                    .zip(by_marks)
                    .map(|(m, b)| (1.0 - r.share) * m + r.share * b)
                    .collect()
            }
        }
    }
}

/// Inclusion probabilities of a Plackett-Luce draw of K items, K in {0, 1, 2} with
/// probabilities `pi`, from items with utilities `u`.
///
/// P(j first) = w_j / W; P(j second) = sum over i != j of (w_i / W) (w_j / (W - w_i)).
fn inclusion_probabilities(pi: [f64; 3], u: &[f64]) -> Vec<f64> {
    let n = u.len();
    if n == 0 {
        return Vec::new();
    }
    let m = u.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    // Weights floored at e^-700: where one subject dominates by more, the others' sum
    // would underflow to 0 and the second pick divide by it.
    let w: Vec<f64> = u.iter().map(|v| (v - m).max(-700.0).exp()).collect();
    let total: f64 = w.iter().sum();
    let first: Vec<f64> = w.iter().map(|wj| wj / total).collect();
    if n == 1 {
        return vec![pi[1] + pi[2]];
    }
    // Sum over i of first_i / (W - w_i), with W - w_i summed directly: subtracting from W
    // loses everything when one subject dominates.
    let rest: Vec<f64> = (0..n)
        .map(|i| (0..n).filter(|&k| k != i).map(|k| w[k]).sum::<f64>())
        .collect();
    let s: f64 = (0..n).map(|i| first[i] / rest[i]).sum();
    (0..n)
        .map(|j| {
            let second = w[j] * (s - first[j] / rest[j]);
            let p = pi[1] * first[j] + pi[2] * (first[j] + second);
            // A subject sure to be taken sums to 1 give or take rounding (1 + 1.5e-11
            // was seen by the fuzzer); anything further off is left for the forecast's
            // own check to refuse.
            if p > 1.0 && p < 1.0 + 1e-9 {
                1.0
            } else {
                p
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inclusion probabilities against brute-force enumeration of ordered picks.
    #[test]
    fn inclusion_matches_enumeration_of_ordered_picks() {
        let u = [0.1f64, -0.7, 1.3, 0.4, -2.0];
        let pi = [0.1, 0.3, 0.6];
        let w: Vec<f64> = u.iter().map(|v| v.exp()).collect();
        let tot: f64 = w.iter().sum();
        let mut expect = vec![0.0; u.len()];
        for a in 0..u.len() {
            expect[a] += pi[1] * w[a] / tot;
            for b in 0..u.len() {
                if a != b {
                    let p = pi[2] * w[a] / tot * w[b] / (tot - w[a]);
                    expect[a] += p;
                    expect[b] += p;
                }
            }
        }
        let got = inclusion_probabilities(pi, &u);
        for (g, e) in got.iter().zip(&expect) {
            assert!((g - e).abs() < 1e-12, "{g} vs {e}");
        }
        let sum: f64 = got.iter().sum();
        assert!((sum - (pi[1] + 2.0 * pi[2])).abs() < 1e-12);
    }

    #[test]
    fn inclusion_stays_in_bounds_when_one_subject_dominates() {
        let got = inclusion_probabilities([0.0, 0.0, 1.0], &[40.0, 0.0, -1.0]);
        assert!(
            got.iter().all(|p| (0.0..=1.0 + 1e-12).contains(p)),
            "{got:?}"
        );
        assert!((got[0] - 1.0).abs() < 1e-9);
        assert!((got.iter().sum::<f64>() - 2.0).abs() < 1e-9);
    }

    /// A rounding excess over 1 found by the fuzzer (a candidate certain to take a
    /// subject) is clamped; the forecast then refuses nothing that is only rounding.
    #[test]
    fn regression_a_certain_subject_gives_a_probability_of_at_most_one() {
        for u in [[30.0, 0.0, -30.0], [700.0, 1.0, 0.0], [0.0, 0.0, 0.0]] {
            for pi in [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [0.1, 0.2, 0.7]] {
                let p = inclusion_probabilities(pi, &u);
                assert!(
                    p.iter().all(|v| (0.0..=1.0).contains(v)),
                    "{u:?} {pi:?}: {p:?}"
                );
            }
        }
    }
}
