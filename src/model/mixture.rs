//! Mixture: a latent class of candidates who choose by a rule of their marks (the lowest
//! first, the official advice of the most points to recover, or a rule between them whose
//! two weights are learnt: the data choose, [`super::Rule`]), beside the conditional
//! logit that describes everyone else.
//!
//! Some candidates follow a rule ("retake your worst marks") whatever their centre,
//! track or the subjects' coefficients; one logit for everybody then overstates the
//! rule for the others and understates it for them. The class is fitted by EM: each
//! candidate's posterior probability of following the rule (from both classes'
//! likelihoods of the choice made), then the class share, the rule's weights (secant
//! steps on each) and the logit refitted with each candidate weighted by its
//! probability of not following the rule (see [`class`] and [`refit`]). A fixed number of rounds keeps
//! the cost known and the result deterministic. Whether the class is kept at all is decided on held-out
//! sessions ([`select`](super::select)).

use super::choice::pl_loglik_into;
use super::fits::{session_weights, Fits};
use super::predict::Mapping;
use super::{Model, ModelError, Rule, RuleClass, Setting};
use crate::data::Candidate;
use crate::parallel;

/// Where EM starts for a stated rule: a fifth of the candidates, who pick their lowest
/// mark (or the subject with the most points to recover at coefficient 16) about three
/// times as often as one a point higher. A learnt rule starts from the better stated
/// one ([`learnt_from`]).
pub(crate) fn start(rule: Rule) -> RuleClass {
    RuleClass {
        share: 0.2,
        sharpness: 1.0,
        rule,
        points: 0.0,
    }
}

/// The scores a rule weighs, per subject: minus the mark, and the points the oral could
/// add, `coefficient x (20 - mark) / 16` (per point of a coefficient-16 spécialité, the
/// scale of the mark).
type Scores = [f64; 2];

impl RuleClass {
    pub(crate) fn utilities(&self, c: &Candidate) -> Vec<f64> {
        let w = self.weights();
        scores(c).map(|x| w[0] * x[0] + w[1] * x[1]).collect()
    }

    /// The weights of the two [`Scores`].
    fn weights(&self) -> Scores {
        match self.rule {
            Rule::LowestMark => [self.sharpness, 0.0],
            Rule::MostPoints => [0.0, self.sharpness],
            Rule::Learnt => [self.sharpness, self.points],
        }
    }

    /// The same class with weight `j` set to `v`.
    fn with_weight(self, j: usize, v: f64) -> RuleClass {
        match (self.rule, j) {
            (Rule::Learnt, 1) => RuleClass { points: v, ..self },
            _ => RuleClass {
                sharpness: v,
                ..self
            },
        }
    }

    /// The weights EM estimates, and the range each may take: a stated rule's sharpness
    /// is not negative (a class avoiding its rule is another class), a learnt rule's two
    /// weights may be (the points score already prefers low marks, the mark's weight may
    /// need to take some of that back).
    fn free(&self) -> &'static [(usize, f64)] {
        match self.rule {
            Rule::LowestMark => &[(0, 0.0)],
            Rule::MostPoints => &[(1, 0.0)],
            Rule::Learnt => &[(0, -MAX_SHARPNESS), (1, -MAX_SHARPNESS)],
        }
    }
}

/// The rules' scores of each of the candidate's subjects.
fn scores(c: &Candidate) -> impl Iterator<Item = Scores> + '_ {
    c.subjects.iter().map(|s| {
        [
            -s.grade,
            s.coefficient * (crate::data::MAX_MARK - s.grade) / 16.0,
        ]
    })
}

/// [`CLASS_ROUNDS`] rounds of EM on `data` from `rule`: the rule class with the logit
/// that made `data` held fixed ([`ClassData::sample`]).
///
/// That logit with this class is the mixture before its logit is refitted ([`refit`]):
/// the selection screens the rules on it, and refits only the one it keeps.
pub(crate) fn em(data: &ClassData, mut rule: RuleClass) -> RuleClass {
    for _ in 0..CLASS_ROUNDS {
        let resp = data.responsibilities(rule);
        rule = m_step(data, &resp, rule);
    }
    rule
}

/// Part `i`'s rule class of `opts.rule` from where EM starts: a stated rule from
/// [`start`], a learnt one from whichever stated rule's class fits the sample better.
pub(crate) fn class_from_start(
    fits: &Fits<'_>,
    i: usize,
    opts: &Setting,
    base: &Model,
) -> RuleClass {
    let data = ClassData::sample(fits, i, opts, base);
    if opts.rule != Rule::Learnt {
        return em(&data, start(opts.rule));
    }
    let [lowest, points] = [Rule::LowestMark, Rule::MostPoints].map(|r| em(&data, start(r)));
    let better = if data.log_likelihood(points) > data.log_likelihood(lowest) {
        points
    } else {
        lowest
    };
    em(&data, learnt_from(better))
}

/// Part `i`'s mixture: `base`'s logit (raw parameters `theta`) refitted once, every
/// candidate weighted by their probability of not following `rule`.
///
/// Four refits, each after a round on every candidate, changed the `rules` world's
/// held-out log-loss by 3e-4 of itself (0.56922 against 0.56940) and took 9.9 s for
/// this stage on the simulated nation, against 1.9 s.
pub(crate) fn refit(
    fits: &mut Fits<'_>,
    i: usize,
    opts: &Setting,
    (base, theta): (&Model, &[f64]),
    rule: RuleClass,
) -> Result<(Model, Vec<f64>), ModelError> {
    let part = fits.part(i);
    // The refit's weights, in the part's order: 1 for a candidate whose choice says
    // nothing (the logit does not see it anyway).
    let all: Vec<Weighted> = part.candidates.iter().map(|c| (c, 1.0)).collect();
    let data = ClassData::of(&all, base, &base.mapping(part.names));
    let mut each = vec![1.0; part.candidates.len()];
    for (&row, r) in data.rows.iter().zip(data.responsibilities(rule)) {
        each[row] = 1.0 - r;
    }
    let (mut model, theta) = fits.fit_weighted(i, opts, Some(&each), Some(theta))?;
    model.choice.rule = Some(rule);
    Ok((model, theta))
}

/// A learnt rule starting where the stated `rule` ended: the learnt one then climbs
/// from the stated one's likelihood instead of searching from afar (from halfway
/// between the two scores, EM left the `rules` world's class worse than lowest marks).
pub(crate) fn learnt_from(rule: RuleClass) -> RuleClass {
    let [marks, points] = rule.weights();
    RuleClass {
        rule: Rule::Learnt,
        sharpness: marks,
        points,
        ..rule
    }
}

/// A candidate and its session's weight.
type Weighted<'a> = (&'a Candidate, f64);

/// Candidates the class's share and weights are estimated on, at most (about): the
/// standard error of a share estimated on 20,000 is under half a point, and the EM
/// passes of the three rules screened were the costliest step of the search with
/// 50,000 (2.2 s of a 15.8 s national training).
const CLASS_SAMPLE: usize = 20_000;
/// EM rounds of the class's numbers, the logit held fixed.
const CLASS_ROUNDS: usize = 5;
/// Candidates per block of the parallel passes: fixed, so that sums do not depend on
/// the number of cores.
const BLOCK: usize = 2048;

/// The candidates EM reads, as it reads them, computed once: with the logit held fixed
/// its log-likelihood of each choice is a constant, and a pass only scores the rule.
pub(crate) struct ClassData {
    /// Each entry's index in the list it was made from.
    rows: Vec<usize>,
    weight: Vec<f64>,
    /// The logit's log-likelihood of the entry's choice.
    logit: Vec<f64>,
    /// The entry's subjects' scores are `scores[bounds[e]..bounds[e + 1]]`.
    bounds: Vec<usize>,
    scores: Vec<Scores>,
    /// The subjects chosen, first then second, as indices among the entry's.
    chosen: Vec<Vec<u32>>,
}

impl ClassData {
    /// The candidates of part `i` whose choice is known, every `k`-th of them so that
    /// at most about [`CLASS_SAMPLE`] remain, each with their session's weight under
    /// `opts`, and the logit `base`'s likelihood of their choices (two or three numbers
    /// need no more candidates).
    pub(crate) fn sample(fits: &Fits<'_>, i: usize, opts: &Setting, base: &Model) -> ClassData {
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
        ClassData::of(&sample, base, &base.mapping(part.names))
    }

    /// The entries of `items` whose choice is known.
    fn of(items: &[Weighted<'_>], model: &Model, map: &Mapping) -> ClassData {
        let logits = parallel::par_map(items.to_vec(), |(c, _)| {
            let k = c.revealed_choice()?;
            let (mut w, mut g) = (Vec::new(), Vec::new());
            Some((
                pl_loglik_into(&model.utilities(c, map), &k, &mut w, &mut g),
                k,
            ))
        });
        let mut data = ClassData {
            rows: Vec::new(),
            weight: Vec::new(),
            logit: Vec::new(),
            bounds: vec![0],
            scores: Vec::new(),
            chosen: Vec::new(),
        };
        for (row, ((c, w), logit)) in items.iter().zip(logits).enumerate() {
            let Some((lm, k)) = logit else { continue };
            data.rows.push(row);
            data.weight.push(*w);
            data.logit.push(lm);
            data.scores.extend(scores(c));
            data.bounds.push(data.scores.len());
            data.chosen.push(k);
        }
        data
    }

    /// `f(entry, rule's log-likelihood of its choice, its gradient by utility)` for
    /// every entry, in order, on the available cores.
    fn each(&self, rule: RuleClass, f: impl Fn(usize, f64, &[f64]) -> f64 + Sync) -> Vec<f64> {
        let w = rule.weights();
        let blocks: Vec<usize> = (0..self.weight.len()).step_by(BLOCK).collect();
        let per_block = parallel::par_map(blocks, |&start| {
            let (mut u, mut lw, mut g) = (Vec::new(), Vec::new(), Vec::new());
            (start..(start + BLOCK).min(self.weight.len()))
                .map(|e| {
                    let x = &self.scores[self.bounds[e]..self.bounds[e + 1]];
                    u.clear();
                    u.extend(x.iter().map(|x| w[0] * x[0] + w[1] * x[1]));
                    let lr = pl_loglik_into(&u, &self.chosen[e], &mut lw, &mut g);
                    f(e, lr, &g)
                })
                .collect::<Vec<f64>>()
        });
        per_block.into_iter().flatten().collect()
    }

    /// Each entry's posterior probability of being in the rule class.
    fn responsibilities(&self, rule: RuleClass) -> Vec<f64> {
        self.each(rule, |e, lr, _| {
            let odds = (1.0 - rule.share) / rule.share * (self.logit[e] - lr).exp();
            1.0 / (1.0 + odds)
        })
    }

    /// The mixture's weighted log-likelihood of the entries' choices.
    fn log_likelihood(&self, rule: RuleClass) -> f64 {
        let each = self.each(rule, |e, lr, _| {
            let lm = self.logit[e];
            // log(share e^lr + (1 - share) e^lm), without overflow.
            let top = lm.max(lr);
            let mix = rule.share * (lr - top).exp() + (1.0 - rule.share) * (lm - top).exp();
            self.weight[e] * (top + mix.ln())
        });
        each.iter().sum()
    }

    /// The derivative of the rule class's log-likelihood, each entry weighted by its
    /// session's weight and its responsibility `resp`, with respect to the rule's
    /// weight `j`: the utilities are linear in the weights, so it is score `j` weighted
    /// by the gradient with respect to the utilities.
    fn gradient(&self, resp: &[f64], rule: RuleClass, j: usize) -> f64 {
        let each = self.each(rule, |e, _, g| {
            let x = &self.scores[self.bounds[e]..self.bounds[e + 1]];
            let d: f64 = g.iter().zip(x).map(|(gk, x)| gk * x[j]).sum();
            self.weight[e] * resp[e] * d
        });
        each.iter().sum()
    }
}

/// The class share (the weighted mean responsibility) and the weights maximising the
/// class's weighted log-likelihood, from `prev`: secant steps on its derivative, one
/// weight after the other (a learnt rule's two, in [`SWEEPS`] sweeps; the likelihood is
/// concave in them, so coordinate steps climb to its top).
fn m_step(data: &ClassData, resp: &[f64], prev: RuleClass) -> RuleClass {
    let (num, den) = data
        .weight
        .iter()
        .zip(resp)
        .fold((0.0, 0.0), |(n, d), (w, r)| (n + w * r, d + w));
    let share = if den > 0.0 {
        (num / den).clamp(1e-3, 0.999)
    } else {
        prev.share
    };
    let mut rule = RuleClass { share, ..prev };
    let sweeps = if rule.free().len() > 1 { SWEEPS } else { 1 };
    for _ in 0..sweeps {
        for &(j, lo) in rule.free() {
            rule = secant(data, resp, rule, j, lo);
        }
    }
    rule
}

/// Coordinate sweeps of a learnt rule's M-step.
const SWEEPS: usize = 2;
/// A secant step shorter than this (per point of mark) ends the search: a thousandth
/// of a point moves no probability that a plan can see.
const STEP_TOL: f64 = 1e-3;

/// Weight `j` of `rule` moved by secant steps to where the weighted log-likelihood's
/// derivative along it vanishes, within `lo..=MAX_SHARPNESS`.
fn secant(data: &ClassData, resp: &[f64], rule: RuleClass, j: usize, lo: f64) -> RuleClass {
    let slope = |v: f64| data.gradient(resp, rule.with_weight(j, v), j);
    let w = rule.weights()[j];
    let (mut s0, mut s1) = (w, w * 1.1 + 0.01);
    let (mut g0, mut g1) = (slope(s0), slope(s1));
    for _ in 0..8 {
        if !(g1.is_finite() && g0.is_finite()) || g1 == g0 || (s1 - s0).abs() < STEP_TOL {
            break;
        }
        let next = (s1 - g1 * (s1 - s0) / (g1 - g0)).clamp(lo, MAX_SHARPNESS);
        (s0, g0) = (s1, g1);
        s1 = next;
        g1 = slope(s1);
    }
    rule.with_weight(j, if s1.is_finite() { s1 } else { w })
}

/// The sharpest rule considered (per point of mark): beyond it the lowest mark is always
/// first anyway.
const MAX_SHARPNESS: f64 = 20.0;
