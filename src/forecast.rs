//! Forecast: from per-candidate probabilities to distributions of counts.
//!
//! Each candidate-subject probability comes from the model. The number of orals in a
//! (centre, subject) cell is then a sum of independent Bernoulli draws (Poisson-binomial),
//! computed exactly, and widened by the session-to-session drift stored in the model: all
//! candidates' probabilities in a cell are scaled by a common lognormal factor of mean 1
//! and relative variance `rel_var`, integrated with Gauss-Hermite nodes. Independent
//! candidates alone would give intervals far too narrow for a whole subject.

use crate::data::{Candidate, CellKey, Dataset};
use crate::model::Model;
use crate::parallel;

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

/// The central probability of the intervals printed when none is asked for: 5% to 95%.
pub(crate) const DEFAULT_INTERVAL: f64 = 0.9;

/// One candidate-subject forecast.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    /// Index into the dataset's candidates.
    pub(crate) candidate: usize,
    /// Index into the dataset's subjects.
    pub(crate) subject: u32,
    pub(crate) probability: f64,
}

/// The forecast count of orals of a group of candidate-subjects: a (centre, subject,
/// slot) cell ([`ForecastCell`]) or a subject's total ([`SubjectForecast`]).
#[derive(Debug, Clone)]
pub(crate) struct Counted<K> {
    pub(crate) key: K,
    /// Candidates eligible in the group.
    pub(crate) eligible: usize,
    pub(crate) dist: CountDist,
}

/// A (centre, subject, slot) cell's forecast.
pub(crate) type ForecastCell = Counted<CellKey>;
/// A subject's total over the académie, keyed by its id in the dataset.
pub(crate) type SubjectForecast = Counted<u32>;

impl<K> Counted<K> {
    pub(crate) fn expected(&self) -> f64 {
        self.dist.mean()
    }
}

/// Everything `forecast` produces before planning.
#[derive(Debug, Clone)]
pub(crate) struct Forecast {
    pub(crate) rows: Vec<Row>,
    /// Sorted by centre, subject, then slot.
    pub(crate) cells: Vec<ForecastCell>,
    /// Sorted by subject.
    pub(crate) subjects: Vec<SubjectForecast>,
    /// Expected number of orals per candidate, in candidate order.
    pub(crate) expected_orals: Vec<f64>,
    pub(crate) warnings: Vec<String>,
}

/// Names the subjects, centres and tracks the model never saw, for the warnings.
fn unseen(names: &[String], map: &[Option<usize>], used: &[bool], what: &str) -> Option<String> {
    let list = unseen_names(names, map, used);
    if list.is_empty() {
        return None;
    }
    let fallback = if what == "subject" {
        "forecast from marks and coefficients only, with an average subject effect"
    } else {
        "académie-wide behaviour used"
    };
    Some(format!(
        "{} {what}{} never seen in training ({fallback}): {}",
        list.len(),
        if list.len() == 1 { "" } else { "s" },
        list.join(", ")
    ))
}

/// The names the files use (`used`) that the model does not know (`map`), sorted: the
/// warnings and [`Familiarity`] both list them.
fn unseen_names<'a>(names: &'a [String], map: &[Option<usize>], used: &[bool]) -> Vec<&'a str> {
    let mut list: Vec<&str> = names
        .iter()
        .zip(map)
        .zip(used)
        .filter(|((_, m), u)| m.is_none() && **u)
        .map(|((n, _), _)| n.as_str())
        .collect();
    list.sort_unstable();
    list
}

/// How much of this year's files the model knows: the share of candidate-subject rows
/// whose subject it was trained on, the share of candidates whose centre it was, and
/// the names it does not know.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Familiarity {
    pub(crate) rows: usize,
    pub(crate) rows_known: usize,
    pub(crate) candidates: usize,
    pub(crate) candidates_known: usize,
    pub(crate) unseen_subjects: Vec<String>,
    pub(crate) unseen_centers: Vec<String>,
}

/// Below this share of rows with a known subject, or of candidates with a known centre,
/// `forecast` refuses the model unless `--allow-unseen`: the forecast would rest mostly
/// on académie-wide averages, the model was most likely trained on another académie.
pub(crate) const MIN_KNOWN_SHARE: f64 = 0.5;

impl Familiarity {
    pub(crate) fn of(model: &Model, data: &Dataset) -> Familiarity {
        let map = model.mapping(data);
        let mut f = Familiarity {
            rows: 0,
            rows_known: 0,
            candidates: data.candidates.len(),
            candidates_known: 0,
            unseen_subjects: Vec::new(),
            unseen_centers: Vec::new(),
        };
        let (mut used_s, mut used_c) = (
            vec![false; data.subjects.len()],
            vec![false; data.centers.len()],
        );
        for c in &data.candidates {
            used_c[c.center as usize] = true;
            f.candidates_known += usize::from(map.center[c.center as usize].is_some());
            for s in &c.subjects {
                used_s[s.subject as usize] = true;
                f.rows += 1;
                f.rows_known += usize::from(map.subject[s.subject as usize].is_some());
            }
        }
        let owned = |v: Vec<&str>| v.into_iter().map(String::from).collect();
        f.unseen_subjects = owned(unseen_names(&data.subjects, &map.subject, &used_s));
        f.unseen_centers = owned(unseen_names(&data.centers, &map.center, &used_c));
        f
    }

    /// Whether the model knows every subject and centre of the files.
    pub(crate) fn complete(&self) -> bool {
        self.unseen_subjects.is_empty() && self.unseen_centers.is_empty()
    }

    fn share(known: usize, total: usize) -> f64 {
        if total == 0 {
            1.0
        } else {
            known as f64 / total as f64
        }
    }

    /// The share of rows whose subject the model knows.
    pub(crate) fn row_share(&self) -> f64 {
        Self::share(self.rows_known, self.rows)
    }

    /// The share of candidates whose centre the model knows.
    pub(crate) fn candidate_share(&self) -> f64 {
        Self::share(self.candidates_known, self.candidates)
    }

    /// Why the model should be refused for these files, when it should.
    pub(crate) fn refusal(&self) -> Option<String> {
        let (rows, cands) = (self.row_share(), self.candidate_share());
        if rows >= MIN_KNOWN_SHARE && cands >= MIN_KNOWN_SHARE {
            return None;
        }
        Some(format!(
            "the model knows the subject of {:.0}% of the candidates' rows ({} subject{} unknown) \
             and the centre of {:.0}% of the candidates ({} centre{} unknown), below the {:.0}% \
             needed: it was most likely trained on another académie's history, and the forecast \
             would rest on its average behaviour. Train on this académie's history, or pass \
             --allow-unseen to forecast all the same",
            100.0 * rows,
            self.unseen_subjects.len(),
            if self.unseen_subjects.len() == 1 {
                ""
            } else {
                "s"
            },
            100.0 * cands,
            self.unseen_centers.len(),
            if self.unseen_centers.len() == 1 {
                ""
            } else {
                "s"
            },
            100.0 * MIN_KNOWN_SHARE
        ))
    }
}

/// How much wider than independent candidates each count is, from the model's drift
/// (see [`crate::model::Drift`]), per subject of the dataset being forecast.
#[derive(Debug, Clone)]
pub(crate) struct Widening {
    /// Per subject of the dataset: the relative variance of its total.
    pub(crate) subject: Vec<f64>,
    /// Added for a cell: relative, and linear (divided by the cell's expectation).
    pub(crate) cell_rel: f64,
    pub(crate) cell_linear: f64,
}

/// The variance, per expected oral, that each unit of a calibrated multiplier above 1
/// adds to a cell (at 3, a cell expecting one oral gets a standard deviation of 0.45
/// more): the small cells' tails, which the plan's coverage hangs on, are where a model
/// blind to its own drift errs.
pub(crate) const CALIBRATION_LINEAR: f64 = 0.1;

/// The widest relative variance a cell is given (a standard deviation of three times
/// its expectation): only a tiny cell under the linear term gets near it.
const MAX_REL_VAR: f64 = 9.0;

impl Widening {
    /// No widening: independent candidates only (the baselines, the oracle).
    pub(crate) fn none(data: &Dataset) -> Widening {
        Widening {
            subject: vec![0.0; data.subjects.len()],
            cell_rel: 0.0,
            cell_linear: 0.0,
        }
    }

    /// The model's drift for `data`'s subjects; a subject the model never saw gets the
    /// académie-wide drift.
    pub(crate) fn of(model: &Model, data: &Dataset) -> Widening {
        let d = &model.drift;
        let map = model.mapping(data);
        Widening {
            subject: map
                .subject
                .iter()
                .map(|j| j.and_then(|j| d.subject_rel_vars.get(j)).copied())
                .map(|r| r.unwrap_or(d.subject_rel_var))
                .collect(),
            cell_rel: d.cell_rel_var,
            cell_linear: d.cell_linear,
        }
    }

    /// The drift `d` for subjects numbered `0..subjects` as a model numbers them: a
    /// replayed session's own ([`crate::model::Replay::drift`], `promise.rs`).
    pub(crate) fn of_drift(d: &crate::model::Drift, subjects: usize) -> Widening {
        Widening {
            subject: (0..subjects)
                .map(|j| {
                    d.subject_rel_vars
                        .get(j)
                        .copied()
                        .unwrap_or(d.subject_rel_var)
                })
                .collect(),
            cell_rel: d.cell_rel_var,
            cell_linear: d.cell_linear,
        }
    }

    /// Every part of the widening times `k` (the calibrated multiplier, `promise.rs`),
    /// and beyond 1 a linear term of its own, [`CALIBRATION_LINEAR`] per unit: a model
    /// that saw no drift at all (a widening of 0, which no multiplier moves) can still
    /// be widened where its past sessions show it too narrow.
    pub(crate) fn scaled(&self, k: f64) -> Widening {
        Widening {
            subject: self.subject.iter().map(|r| r * k).collect(),
            cell_rel: self.cell_rel * k,
            cell_linear: self.cell_linear * k + (k - 1.0).max(0.0) * CALIBRATION_LINEAR,
        }
    }

    /// The relative variance of a cell of `subject` expecting `expected` orals.
    pub(crate) fn cell(&self, subject: usize, expected: f64) -> f64 {
        let linear = if expected > 0.0 {
            self.cell_linear / expected
        } else {
            0.0
        };
        (self.subject[subject] + self.cell_rel + linear).min(MAX_REL_VAR)
    }
}

/// One count per non-empty group of probabilities, its key from `key(group number)`
/// and its relative variance from `rel_var(group number, expectation)`, the
/// distributions computed on every core.
fn group_cells<K: Send>(
    groups: Vec<Vec<f64>>,
    rel_var: impl Fn(usize, f64) -> f64 + Sync,
    key: impl Fn(usize) -> K + Sync,
) -> Vec<Counted<K>> {
    let groups = groups
        .into_iter()
        .enumerate()
        .filter(|(_, ps)| !ps.is_empty())
        .collect();
    parallel::par_map(groups, |(i, ps)| {
        let expected = ps.iter().sum();
        Counted {
            key: key(*i),
            eligible: ps.len(),
            dist: CountDist::with_drift(ps, rel_var(*i, expected)),
        }
    })
}

/// Cells (centre, subject, slot) and subject totals with their count distributions,
/// from per-candidate probabilities (`probs[k]` in the order of candidate k's subjects).
///
/// A cell is widened by its subject's drift and the cells' own: a subject's drift is
/// shared by its cells across centres and slots, which the plan need not model jointly,
/// since the expected number of uncovered orals it minimises is a sum of the cells'
/// expectations whatever their correlation.
pub(crate) fn cells_from(
    data: &Dataset,
    probs: &[Vec<f64>],
    widening: &Widening,
) -> (Vec<ForecastCell>, Vec<SubjectForecast>) {
    // Indexed by (centre, subject, slot) numbers: the dataset's names and the slots are
    // sorted, so number order is name order.
    let ns = data.subjects.len();
    let slots = data.slots();
    let nt = slots.len();
    let slot_of = |c: &Candidate| slots.binary_search(&c.slot).expect("a slot of the data");
    let mut by_cell: Vec<Vec<f64>> = vec![Vec::new(); data.centers.len() * ns * nt];
    let mut by_subject: Vec<Vec<f64>> = vec![Vec::new(); ns];
    for (c, ps) in data.candidates.iter().zip(probs) {
        let t = slot_of(c);
        for (s, &p) in c.subjects.iter().zip(ps) {
            by_cell[(c.center as usize * ns + s.subject as usize) * nt + t].push(p);
            by_subject[s.subject as usize].push(p);
        }
    }
    let cell_var = |i: usize, e: f64| widening.cell(i / nt % ns, e);
    let cells = group_cells(by_cell, cell_var, |i| CellKey {
        center: (i / nt / ns) as u32,
        subject: (i / nt % ns) as u32,
        slot: slots[i % nt],
    });
    let subject_var = |i: usize, _| widening.subject[i];
    let subjects = group_cells(by_subject, subject_var, |i| i as u32);
    (cells, subjects)
}

impl Forecast {
    /// An error unless every probability lies in [0, 1] and every expected count is
    /// finite: a validated model cannot give anything else, and should it, nothing is
    /// written (exit 1) rather than NaN in a convocation list.
    pub(crate) fn check(&self, data: &Dataset) -> Result<(), String> {
        if let Some(r) = self
            .rows
            .iter()
            .find(|r| !(0.0..=1.0).contains(&r.probability))
        {
            return Err(format!("a probability of {} was computed", r.probability));
        }
        let cells = self.cells.iter().map(|c| (c.key.subject, c.expected()));
        let subjects = self.subjects.iter().map(|c| (c.key, c.expected()));
        if let Some((s, e)) = cells.chain(subjects).find(|(_, e)| !e.is_finite()) {
            let subject = &data.subjects[s as usize];
            return Err(format!("an expected count of {e} for {subject}"));
        }
        Ok(())
    }
}

impl Forecast {
    /// The cells again with the model's widening times `k`: the reserve's, when its
    /// calibrated multiplier differs from the firm plan's (`promise.rs`).
    pub(crate) fn cells_widened(&self, model: &Model, data: &Dataset, k: f64) -> Vec<ForecastCell> {
        let probs = self.probabilities(data);
        cells_from(data, &probs, &Widening::of(model, data).scaled(k)).0
    }

    /// The probabilities per candidate of `data` (the forecast's), each in the order of
    /// the candidate's subjects.
    pub(crate) fn probabilities(&self, data: &Dataset) -> Vec<Vec<f64>> {
        let mut probs: Vec<Vec<f64>> = data
            .candidates
            .iter()
            .map(|c| Vec::with_capacity(c.subjects.len()))
            .collect();
        for r in &self.rows {
            probs[r.candidate].push(r.probability);
        }
        probs
    }
}

/// The forecast of `data` by `model`, its count distributions widened by the model's
/// drift times `widen` (1 = the model's own; the calibrated multiplier of the firm plan,
/// `promise.rs`).
pub(crate) fn forecast(model: &Model, data: &Dataset, widen: f64) -> Forecast {
    let map = model.mapping(data);
    let mut rows = Vec::new();
    let mut used_s = vec![false; data.subjects.len()];
    let mut used_c = vec![false; data.centers.len()];
    let mut used_t = vec![false; data.tracks.len()];
    // The marks as the model reads them (shifted by their session's, when it was fitted
    // so); names and candidates are the file's.
    let read = model.reads(data);
    let probs: Vec<Vec<f64>> = parallel::par_map(read.candidates.iter().collect(), |c| {
        model.inclusion(c, &map)
    });
    for (ci, (c, p)) in data.candidates.iter().zip(&probs).enumerate() {
        used_c[c.center as usize] = true;
        used_t[c.track as usize] = true;
        for (s, &pj) in c.subjects.iter().zip(p) {
            used_s[s.subject as usize] = true;
            rows.push(Row {
                candidate: ci,
                subject: s.subject,
                probability: pj,
            });
        }
    }
    let expected_orals = probs.iter().map(|p| p.iter().sum()).collect();
    let widening = Widening::of(model, data).scaled(widen);
    let (cells, subjects) = cells_from(data, &probs, &widening);
    let warnings = [
        unseen(&data.subjects, &map.subject, &used_s, "subject"),
        unseen(&data.centers, &map.center, &used_c, "centre"),
        unseen(&data.tracks, &map.track, &used_t, "track"),
    ]
    .into_iter()
    .flatten()
    .collect();
    Forecast {
        rows,
        cells,
        subjects,
        expected_orals,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variance(d: &CountDist) -> f64 {
        let m = d.mean();
        d.pmf
            .iter()
            .enumerate()
            .map(|(n, p)| (n as f64 - m).powi(2) * p)
            .sum()
    }

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
        let extra = variance(&wide) - variance(&plain);
        assert!((extra - 0.04 * 144.0).abs() < 0.3, "extra variance {extra}");
        assert!((wide.pmf.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }

    /// The widening spreads a count without moving its mean, even where scaled
    /// probabilities hit 1: a lone candidate of 0.52 at the model file's bound on the
    /// subject drift (4) plus the cells' (the widest a cell is given, 9), probabilities
    /// near 1, and a mixed cell.
    #[test]
    fn widening_keeps_the_mean_at_the_bounds() {
        let cases: [(&[f64], f64); 6] = [
            (&[0.52], 3.5),
            (&[0.52], 4.0),
            (&[0.52], MAX_REL_VAR),
            (&[0.99, 0.98, 0.97], 0.04),
            (&[0.9, 0.05, 0.6, 0.001, 0.3], MAX_REL_VAR),
            (&[1.0, 1.0], 2.0),
        ];
        for (ps, rel) in cases {
            let d = CountDist::with_drift(ps, rel);
            let sum: f64 = ps.iter().sum();
            assert!(
                (d.mean() - sum).abs() < 1e-9,
                "{ps:?} at {rel}: {} for {sum}",
                d.mean()
            );
            assert!((d.pmf.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            assert!(d.pmf.iter().all(|p| *p >= 0.0));
        }
        // Still wider than independent candidates where there is room to widen.
        let ps = [0.3; 5];
        assert!(
            variance(&CountDist::with_drift(&ps, 4.0))
                > variance(&CountDist::poisson_binomial(&ps))
        );
    }

    /// The sample's model with its drift at the model file's bounds (every subject's and
    /// the cells' relative variance 4, the cells' linear term 4) and widened further by
    /// a calibrated multiplier: every subject's and every cell's expected count is still
    /// the sum of its candidates' probabilities.
    #[test]
    fn expected_counts_are_the_sums_of_probabilities_at_the_bounds() {
        let path = std::path::Path::new("models/sample.json");
        let mut model = Model::load(path).unwrap();
        let d = &mut model.drift;
        d.subject_rel_var = 4.0;
        d.subject_rel_vars.iter_mut().for_each(|r| *r = 4.0);
        (d.cell_rel_var, d.cell_linear) = (4.0, 4.0);
        let opts = crate::input::ReadOptions {
            require_chosen: false,
            ..crate::input::ReadOptions::default()
        };
        let file = std::path::PathBuf::from("data/sample/candidates.csv");
        let data = crate::input::read_files(&[file], &opts).unwrap();
        for widen in [1.0, 16.0] {
            let fc = forecast(&model, &data, widen);
            let mut by_subject = vec![0.0; data.subjects.len()];
            for r in &fc.rows {
                by_subject[r.subject as usize] += r.probability;
            }
            for s in &fc.subjects {
                let sum = by_subject[s.key as usize];
                assert!(
                    (s.expected() - sum).abs() < 1e-6,
                    "{} for {sum}",
                    s.expected()
                );
            }
            let cells: f64 = fc.cells.iter().map(|c| c.expected()).sum();
            let all: f64 = by_subject.iter().sum();
            assert!((cells - all).abs() < 1e-6 * all, "{cells} for {all}");
        }
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
