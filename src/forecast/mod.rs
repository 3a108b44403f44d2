//! Forecast: from per-candidate probabilities to distributions of counts.
//!
//! Each candidate-subject probability comes from the model. The number of orals in a
//! (centre, subject) cell is then a sum of independent Bernoulli draws (Poisson-binomial),
//! computed exactly, and widened by the session-to-session drift stored in the model: all
//! candidates' probabilities in a cell are scaled by a common lognormal factor of mean 1
//! and relative variance `rel_var`, integrated with Gauss-Hermite nodes. Independent
//! candidates alone would give intervals far too narrow for a whole subject. The
//! distributions themselves are [`dist`]'s; what the model knows of the files is
//! [`familiarity`]'s.

mod dist;
mod familiarity;

pub(crate) use dist::{lognormal_nodes, CountDist};
pub(crate) use familiarity::Familiarity;

use self::familiarity::unseen;
use crate::data::{Candidate, CellKey, Dataset, Hosts};
use crate::model::Model;
use crate::parallel;

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
    /// For a cell of the forecast: what it shares with its subject's other cells.
    pub(crate) shared: Option<Shared>,
}

/// What a cell shares with the other cells of its subject, for the plan to count a
/// zone's cells jointly (`planning/pools.rs`): a subject's drift is one factor common to
/// all its cells, which a sum of the cells' distributions taken as independent would
/// average away. Its candidates' probabilities, the subject's relative variance and the
/// cell's own (together, the cell's widening).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Shared {
    pub(crate) ps: Vec<f64>,
    pub(crate) subject_var: f64,
    pub(crate) own_var: f64,
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

/// What a cell shares, from its group number, probabilities and expectation.
type SharedOf<'a> = dyn Fn(usize, &[f64], f64) -> Shared + Sync + 'a;

/// One count per non-empty group of probabilities, its key from `key(group number)`
/// and its relative variance from `rel_var(group number, expectation)`, the
/// distributions computed on every core; with `shared`, each with what it shares
/// ([`Shared`], from its group number, probabilities and expectation).
fn group_cells<K: Send>(
    groups: Vec<Vec<f64>>,
    rel_var: impl Fn(usize, f64) -> f64 + Sync,
    key: impl Fn(usize) -> K + Sync,
    shared: Option<&SharedOf<'_>>,
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
            shared: shared.map(|f| f(*i, ps, expected)),
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
    (
        cell_counts(data, probs, widening, &Hosts::default()),
        subject_counts(data, probs, widening),
    )
}

/// The (centre, subject, slot) cells of [`cells_from`] alone, each oral at the centre
/// `hosts` holds it in.
pub(crate) fn cell_counts(
    data: &Dataset,
    probs: &[Vec<f64>],
    widening: &Widening,
    hosts: &Hosts,
) -> Vec<ForecastCell> {
    // Indexed by (centre, subject, slot) numbers: the dataset's names and the slots are
    // sorted, so number order is name order.
    let ns = data.subjects.len();
    let slots = data.slots();
    let nt = slots.len();
    let slot_of = |c: &Candidate| slots.binary_search(&c.slot).expect("a slot of the data");
    let mut by_cell: Vec<Vec<f64>> = vec![Vec::new(); data.centers.len() * ns * nt];
    for (c, ps) in data.candidates.iter().zip(probs) {
        let t = slot_of(c);
        for (s, &p) in c.subjects.iter().zip(ps) {
            let center = hosts.of(c.center, s.subject) as usize;
            by_cell[(center * ns + s.subject as usize) * nt + t].push(p);
        }
    }
    let cell_var = |i: usize, e: f64| widening.cell(i / nt % ns, e);
    let shared = |i: usize, ps: &[f64], e: f64| {
        let (subject, total) = (widening.subject[i / nt % ns], cell_var(i, e));
        Shared {
            ps: ps.to_vec(),
            subject_var: subject.min(total),
            own_var: (total - subject).max(0.0),
        }
    };
    let key = |i: usize| CellKey {
        center: (i / nt / ns) as u32,
        subject: (i / nt % ns) as u32,
        slot: slots[i % nt],
    };
    group_cells(by_cell, cell_var, key, Some(&shared))
}

/// The subject totals of [`cells_from`] alone.
fn subject_counts(data: &Dataset, probs: &[Vec<f64>], widening: &Widening) -> Vec<SubjectForecast> {
    let mut by_subject: Vec<Vec<f64>> = vec![Vec::new(); data.subjects.len()];
    for (c, ps) in data.candidates.iter().zip(probs) {
        for (s, &p) in c.subjects.iter().zip(ps) {
            by_subject[s.subject as usize].push(p);
        }
    }
    group_cells(by_subject, |i, _| widening.subject[i], |i| i as u32, None)
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
        self.cells_hosted(model, data, k, &Hosts::default())
    }

    /// [`Forecast::cells_widened`] with each oral at the centre `hosts` holds it in.
    pub(crate) fn cells_hosted(
        &self,
        model: &Model,
        data: &Dataset,
        k: f64,
        hosts: &Hosts,
    ) -> Vec<ForecastCell> {
        let probs = self.probabilities(data);
        cell_counts(data, &probs, &Widening::of(model, data).scaled(k), hosts)
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
            CountDist::with_drift(&ps, 4.0).variance()
                > CountDist::poisson_binomial(&ps).variance()
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
}
