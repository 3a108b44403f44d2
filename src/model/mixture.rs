//! Mixture: a latent class of candidates who choose by a rule of their marks (the lowest
//! first, or the official advice, the most points to recover: the data choose,
//! [`super::Rule`]), beside the conditional logit that describes everyone else.
//!
//! Some candidates follow a rule ("retake your worst marks") whatever their centre,
//! track or the subjects' coefficients; one logit for everybody then overstates the
//! rule for the others and understates it for them. The class is fitted by EM: each
//! candidate's posterior probability of following the rule (from both classes'
//! likelihoods of the choice made), then the class share, the rule's sharpness (Newton
//! on its one parameter) and the logit refitted with each candidate weighted by its
//! probability of not following the rule (see [`fit`]). A fixed number of rounds keeps
//! the cost known and the result deterministic. Whether the class is kept at all is decided on held-out
//! sessions ([`select`](super::select)).

use super::choice::pl_loglik_into;
use super::fits::{session_weights, Fits};
use super::predict::Mapping;
use super::{Model, ModelError, Rule, RuleClass, Setting};
use crate::data::Candidate;
use crate::parallel;

/// Where EM starts: a fifth of the candidates, who pick their lowest mark about three
/// times as often as one a point higher.
const START: RuleClass = RuleClass {
    share: 0.2,
    sharpness: 1.0,
    rule: Rule::LowestMark,
};

impl RuleClass {
    pub(crate) fn utilities(&self, c: &Candidate) -> Vec<f64> {
        scores(c, self.rule).map(|x| self.sharpness * x).collect()
    }
}

/// The rule's score of each of the candidate's subjects.
fn scores(c: &Candidate, rule: Rule) -> impl Iterator<Item = f64> + '_ {
    c.subjects
        .iter()
        .map(move |s| rule.score(s.coefficient, s.grade))
}

/// Part `i`'s mixture with the settings `opts`, by EM from `base` (the logit alone,
/// fitted with the same settings, and its raw parameters `theta`).
///
/// The class's two numbers are estimated with the logit held fixed, on a sample of at
/// most [`CLASS_SAMPLE`] candidates (two numbers need no more); then the logit is
/// refitted once with every candidate's weight. Four refits, each after a round on
/// every candidate, changed the `rules` world's held-out log-loss by 3e-4 of itself
/// (0.56922 against 0.56940) and took 9.9 s for this stage on the simulated nation,
/// against 1.9 s.
pub(crate) fn fit(
    fits: &mut Fits<'_>,
    i: usize,
    opts: &Setting,
    base: &Model,
    theta: &[f64],
) -> Result<(Model, Vec<f64>), ModelError> {
    let part = fits.part(i);
    let weights = session_weights(part, opts);
    let all: Vec<Weighted> = part
        .candidates
        .iter()
        .filter(|c| c.revealed_choice().is_some())
        .map(|c| (c, weights[&c.session]))
        .collect();
    let step = all.len().div_ceil(CLASS_SAMPLE).max(1);
    let sample: Vec<Weighted> = all.iter().step_by(step).copied().collect();
    let map = base.mapping(part.names);
    let mut rule = RuleClass {
        rule: opts.rule,
        ..START
    };
    for _ in 0..CLASS_ROUNDS {
        let resp = responsibilities(base, &map, &sample, rule);
        rule = m_step(&sample, &resp, rule);
    }
    // The refit's weights, in the part's order: 1 for a candidate whose choice says
    // nothing (the logit does not see it anyway).
    let post: Vec<Weighted> = part.candidates.iter().map(|c| (c, 1.0)).collect();
    let each: Vec<f64> = responsibilities(base, &map, &post, rule)
        .iter()
        .map(|r| 1.0 - r)
        .collect();
    let (mut model, theta) = fits.fit_weighted(i, opts, Some(&each), Some(theta))?;
    model.choice.rule = Some(rule);
    Ok((model, theta))
}

/// A candidate and its session's weight.
type Weighted<'a> = (&'a Candidate, f64);

/// Candidates the class's share and sharpness are estimated on, at most (about).
const CLASS_SAMPLE: usize = 50_000;
/// EM rounds of the class's two numbers, the logit held fixed.
const CLASS_ROUNDS: usize = 5;

/// Each candidate's posterior probability of being in the rule class (0 for a
/// candidate whose choice says nothing).
fn responsibilities(
    model: &Model,
    map: &Mapping,
    items: &[Weighted<'_>],
    rule: RuleClass,
) -> Vec<f64> {
    parallel::par_map(items.to_vec(), |(c, _)| {
        let Some(k) = c.revealed_choice() else {
            return 0.0;
        };
        let (mut w, mut g) = (Vec::new(), Vec::new());
        let lm = pl_loglik_into(&model.utilities(c, map), &k, &mut w, &mut g);
        let lr = pl_loglik_into(&rule.utilities(c), &k, &mut w, &mut g);
        let odds = (1.0 - rule.share) / rule.share * (lm - lr).exp();
        1.0 / (1.0 + odds)
    })
}

/// The class share (the weighted mean responsibility) and the sharpness maximising the
/// class's weighted log-likelihood (secant steps on its derivative, from `prev`).
fn m_step(items: &[Weighted<'_>], resp: &[f64], prev: RuleClass) -> RuleClass {
    let (num, den) = items
        .iter()
        .zip(resp)
        .fold((0.0, 0.0), |(n, d), ((_, w), r)| (n + w * r, d + w));
    let share = if den > 0.0 {
        (num / den).clamp(1e-3, 0.999)
    } else {
        prev.share
    };
    let slope = |s: f64| rule_gradient(items, resp, s, prev.rule);
    let (mut s0, mut s1) = (prev.sharpness, prev.sharpness * 1.1 + 0.01);
    let (mut g0, mut g1) = (slope(s0), slope(s1));
    for _ in 0..8 {
        if !(g1.is_finite() && g0.is_finite()) || g1 == g0 || (s1 - s0).abs() < 1e-6 {
            break;
        }
        let next = (s1 - g1 * (s1 - s0) / (g1 - g0)).clamp(0.0, MAX_SHARPNESS);
        (s0, g0) = (s1, g1);
        s1 = next;
        g1 = slope(s1);
    }
    RuleClass {
        share,
        sharpness: if s1.is_finite() { s1 } else { prev.sharpness },
        rule: prev.rule,
    }
}

/// The sharpest rule considered (per point of mark): beyond it the lowest mark is always
/// first anyway.
const MAX_SHARPNESS: f64 = 20.0;

/// The derivative of the rule class's weighted log-likelihood with respect to its
/// sharpness: the utilities are `s * score`, so it is the scores weighted by the
/// gradient with respect to the utilities.
fn rule_gradient(items: &[Weighted<'_>], resp: &[f64], s: f64, kind: Rule) -> f64 {
    let rule = RuleClass {
        share: 0.5,
        sharpness: s,
        rule: kind,
    };
    let each = parallel::par_map(items.iter().zip(resp).collect(), |((c, w), r)| {
        let Some(k) = c.revealed_choice() else {
            return 0.0;
        };
        let (mut lw, mut g) = (Vec::new(), Vec::new());
        pl_loglik_into(&rule.utilities(c), &k, &mut lw, &mut g);
        let d: f64 = g.iter().zip(scores(c, kind)).map(|(gk, x)| gk * x).sum();
        w * *r * d
    });
    each.iter().sum()
}
