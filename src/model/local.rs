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
    model.choice.subject_trend = trends(counts, opts.trend_sd);
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
    let (nc, ns) = (counts.n_centers, counts.n_subjects);
    let next = f64::from(counts.sessions.last().copied().unwrap_or(0) + 1);
    (0..ns)
        .map(|s| {
            let points: Vec<(f64, f64, f64)> = counts
                .sessions
                .iter()
                .enumerate()
                .map(|(t, &session)| {
                    let (a, e) = (0..nc)
                        .map(|c| (t * nc + c) * ns + s)
                        .fold((0.0, 0.0), |(a, e), k| {
                            (a + counts.taken[k], e + counts.expected[k])
                        });
                    let (a, e) = (a + 0.5, e + 0.5);
                    (f64::from(session), (a / e).ln(), 1.0 / (1.0 / a + 1.0 / e))
                })
                .collect();
            ridge_line(&points, 1.0 / (sd * sd)).map_or(0.0, |(a, b)| a + b * next)
        })
        .collect()
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
