//! Local: what a centre does with a subject that its slopes on marks and coefficients
//! cannot say (a lycée that steers its candidates to one subject, an examiner known to
//! be lenient), as one effect per (centre, subject) added to that subject's utility.
//!
//! The effects are not fitted inside the conditional logit: a national history has
//! hundreds of thousands of (centre, subject) pairs, which would swamp its Hessian. They
//! are estimated afterwards, by empirical Bayes on the fitted model's in-sample counts:
//! `ln((A + k) / (E + k))`, where A is the orals the centre's candidates took in the
//! subject and E what the model without the effect expected (both weighted by session
//! recency). The prior strength `k`, in orals, is chosen on held-out sessions like the
//! other settings ([`select`](super::select)): a small k trusts a centre's own counts,
//! `None` leaves the effects out. Each effect is an aggregate of a centre's counts, like
//! the centre's rates the count model already keeps, never a candidate's.
//!
//! The same counts, summed over centres, carry each subject one session on: along its
//! trend ([`trends`]) or to the level its random walk has reached ([`walks`]).

use std::collections::HashMap;

use super::{Model, Setting};
use crate::data::Sessions;
use crate::parallel;

/// Orals taken and expected per (session, centre, subject), numbered as in the
/// dataset, sessions in order.
pub(crate) struct Counts {
    sessions: Vec<i32>,
    n_centers: usize,
    n_subjects: usize,
    taken: Vec<f64>,
    expected: Vec<f64>,
}

/// The counts of `data` under `model`, its own (centre, subject) effects and trends
/// left out (both are estimated from these counts).
pub(crate) fn counts(model: &Model, data: Sessions<'_>) -> Counts {
    let mut plain = model.clone();
    plain.choice.center_subject = Vec::new();
    plain.choice.subject_trend = Vec::new();
    let map = plain.mapping(data.names);
    let (nc, ns) = (data.names.centers.len(), data.names.subjects.len());
    let probs = parallel::par_map(data.candidates.iter().collect(), |c| {
        plain.inclusion(c, &map)
    });
    let mut sessions: Vec<i32> = data.candidates.iter().map(|c| c.session).collect();
    sessions.dedup();
    let mut out = Counts {
        n_centers: nc,
        n_subjects: ns,
        taken: vec![0.0; sessions.len() * nc * ns],
        expected: vec![0.0; sessions.len() * nc * ns],
        sessions,
    };
    for (c, ps) in data.candidates.iter().zip(probs) {
        let t = out
            .sessions
            .binary_search(&c.session)
            .expect("a session of the data");
        for (s, p) in c.subjects.iter().zip(ps) {
            let k = (t * nc + c.center as usize) * ns + s.subject as usize;
            out.expected[k] += p;
            out.taken[k] += f64::from(u8::from(s.chosen == Some(true)));
        }
    }
    out
}

/// The (centre, subject) effects with prior strength `k` (none: no effect), per centre
/// then subject, in the dataset's numbering (which is the model's when the model was
/// fitted on it); each session's counts weighted by `weights`, as in the fit.
pub(crate) fn effects(
    counts: &Counts,
    weights: &HashMap<i32, f64>,
    k: Option<f64>,
) -> Vec<Vec<f64>> {
    let Some(k) = k else {
        return Vec::new();
    };
    let (nc, ns) = (counts.n_centers, counts.n_subjects);
    let (mut taken, mut expected) = (vec![0.0; nc * ns], vec![0.0; nc * ns]);
    for (t, session) in counts.sessions.iter().enumerate() {
        let w = weights.get(session).copied().unwrap_or(1.0);
        let range = t * nc * ns..(t + 1) * nc * ns;
        for (i, (a, e)) in counts.taken[range.clone()]
            .iter()
            .zip(&counts.expected[range])
            .enumerate()
        {
            taken[i] += w * a;
            expected[i] += w * e;
        }
    }
    taken
        .iter()
        .zip(&expected)
        .map(|(a, e)| ((a + k) / (e + k)).ln())
        .collect::<Vec<f64>>()
        .chunks(ns.max(1))
        .map(|c| c.to_vec())
        .collect()
}

/// Sets `model`'s subject trends and (centre, subject) effects from `counts` as `opts`
/// asks (each left out where it says none).
pub(crate) fn set_offsets(
    model: &mut Model,
    counts: &Counts,
    weights: &HashMap<i32, f64>,
    opts: &Setting,
) {
    model.choice.subject_trend = match opts.walk_sd {
        Some(_) => walks(counts, opts.walk_sd),
        None => trends(counts, opts.trend_sd),
    };
    model.choice.center_subject = effects(counts, weights, opts.center_subject);
}

/// Per subject, the shift of its utility that carries its trend one session on: the
/// log-ratio of orals taken to expected, session by session, regressed on the session
/// (weighted by the ratio's precision, the slope shrunk by a normal prior of standard
/// deviation `sd` per session), and read one session after the last. Empty for none.
///
/// A model that weighs recent sessions more still lags a subject that keeps moving the
/// same way by about a session; this takes the next step. Chosen only where held-out
/// sessions show it helps ([`select`](super::select)).
pub(crate) fn trends(counts: &Counts, sd: Option<f64>) -> Vec<f64> {
    let Some(sd) = sd else {
        return Vec::new();
    };
    let next = f64::from(counts.sessions.last().copied().unwrap_or(0) + 1);
    (0..counts.n_subjects)
        .map(|s| {
            let points: Vec<(f64, f64, f64)> = counts
                .sessions
                .iter()
                .zip(log_ratios(counts, s))
                .map(|(&session, (y, w))| (f64::from(session), y, w))
                .collect();
            ridge_line(&points, 1.0 / (sd * sd)).map_or(0.0, |(a, b)| a + b * next)
        })
        .collect()
}

/// Per subject, the level its random walk has reached at the last session, which is the
/// walk's forecast of the next: the log-ratios of orals taken to expected, session by
/// session (the observations, each with its own precision), filtered by a local-level
/// Kalman filter whose level steps by `sd` a session. Empty for none.
///
/// Where a subject's taste wanders rather than trends, the last sessions say more of the
/// next than a line through all of them; how much more is the ratio of the step to the
/// observations' noise, which the filter weighs session by session. A model that
/// forgets old sessions (the half-life) does the same for every parameter at once; this
/// does it for subject tastes alone. Chosen only where held-out sessions show it helps.
pub(crate) fn walks(counts: &Counts, sd: Option<f64>) -> Vec<f64> {
    let Some(sd) = sd else {
        return Vec::new();
    };
    let step = sd * sd;
    (0..counts.n_subjects)
        .map(|s| {
            // The model's own subject effect centres the log-ratios: start at 0, one
            // step away.
            let (mut level, mut var) = (0.0, step);
            for (y, precision) in log_ratios(counts, s) {
                let gain = var / (var + 1.0 / precision);
                level += gain * (y - level);
                var = (1.0 - gain) * var + step;
            }
            level
        })
        .collect()
}

/// Subject `s`'s log-ratio of orals taken to expected in each session, with its
/// precision (both counts given half an oral, so that an empty session says little).
fn log_ratios(counts: &Counts, s: usize) -> impl Iterator<Item = (f64, f64)> + '_ {
    let (nc, ns) = (counts.n_centers, counts.n_subjects);
    (0..counts.sessions.len()).map(move |t| {
        let (a, e) = (0..nc)
            .map(|c| (t * nc + c) * ns + s)
            .fold((0.0, 0.0), |(a, e), k| {
                (a + counts.taken[k], e + counts.expected[k])
            });
        let (a, e) = (a + 0.5, e + 0.5);
        ((a / e).ln(), 1.0 / (1.0 / a + 1.0 / e))
    })
}

/// Weighted least squares of y on (1, x) for points `(x, y, w)`, the slope's penalty
/// `lambda * b^2`: intercept and slope; `None` without weight.
fn ridge_line(points: &[(f64, f64, f64)], lambda: f64) -> Option<(f64, f64)> {
    let sw: f64 = points.iter().map(|p| p.2).sum();
    if sw <= 0.0 {
        return None;
    }
    let xm = points.iter().map(|p| p.2 * p.0).sum::<f64>() / sw;
    let ym = points.iter().map(|p| p.2 * p.1).sum::<f64>() / sw;
    let sxx: f64 = points.iter().map(|p| p.2 * (p.0 - xm).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| p.2 * (p.0 - xm) * (p.1 - ym)).sum();
    let b = sxy / (sxx + lambda);
    Some((ym - b * xm, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One centre, one subject, sessions whose orals taken are `ratios` times the
    /// `expected` ones.
    fn counts(ratios: &[f64], expected: f64) -> Counts {
        Counts {
            sessions: (0..ratios.len() as i32).map(|t| 2020 + t).collect(),
            n_centers: 1,
            n_subjects: 1,
            taken: ratios.iter().map(|r| r * expected).collect(),
            expected: vec![expected; ratios.len()],
        }
    }

    /// A taste that stepped up two sessions ago and stayed there: the walk ends near the
    /// new level where a line through every session would not, and a walk allowed
    /// tiny steps hardly moves from the model's own effect.
    #[test]
    fn a_walk_follows_a_level_that_moved_and_stays_put_when_steps_are_small() {
        let c = counts(&[0.8, 0.8, 0.8, 1.5, 1.5], 400.0);
        let target = (1.5f64).ln();
        let walk = walks(&c, Some(0.3))[0];
        assert!((walk - target).abs() < 0.05, "walk {walk} for {target}");
        let line = trends(&c, Some(0.3))[0];
        assert!(
            (line - target).abs() > 2.0 * (walk - target).abs(),
            "line {line}"
        );
        let still = walks(&c, Some(0.01))[0];
        assert!(still.abs() < 0.1, "{still}");
        assert!(walks(&c, None).is_empty());
    }

    /// With few orals the observations are noisy: the walk trusts them less.
    #[test]
    fn a_walk_trusts_a_thin_subject_less() {
        let ratios = [1.0, 1.0, 1.0, 1.0, 2.0];
        let thick = walks(&counts(&ratios, 400.0), Some(0.2))[0];
        let thin = walks(&counts(&ratios, 4.0), Some(0.2))[0];
        assert!(thin < thick && thin > 0.0, "thin {thin}, thick {thick}");
    }
}
