//! Backtest: replaying a past session with its choices hidden, and scoring the plan.
//!
//! Metrics (per (centre, subject) cell: `actual` orals, `expected` orals, `examiners`,
//! `needed = ceil(actual / capacity)`), exactly as documented in the README:
//! coverage, cell_coverage, redundancy, surplus, wape_subject, wape_cell, log_loss.
//! Every method (bacpredict, the baselines, the oracle) goes through the same planning
//! code and the same metric code, so the comparison is only about the probabilities.

use std::collections::{BTreeMap, HashMap};

use linfa::prelude::*;
use linfa_logistic::MultiLogisticRegression;
use ndarray::{Array1, Array2};
use polars::prelude::*;
use serde::Serialize;

use crate::forecast::{self, Cell, CountDist};
use crate::input::{Candidate, Dataset};
use crate::model::{self, FitOptions, ModelError};
use crate::planning::{self, PlanOptions};

#[derive(Debug, thiserror::Error)]
pub enum BacktestError {
    #[error("session {0} is not in the history (sessions present: {1})")]
    NoSession(i32, String),
    #[error("session {0} has no earlier session to train on")]
    NoEarlier(i32),
    #[error("no session has at least two earlier sessions: --all needs three sessions or more")]
    TooFewSessions,
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("baseline '{0}' failed: {1}")]
    Baseline(&'static str, String),
    #[error("table computation failed: {0}")]
    Table(#[from] PolarsError),
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Metrics {
    pub coverage: f64,
    pub cell_coverage: f64,
    pub redundancy: f64,
    pub surplus: f64,
    pub wape_subject: f64,
    pub wape_cell: f64,
    /// `None` for a method that gives no probabilities.
    pub log_loss: Option<f64>,
    pub examiners: usize,
    pub needed: usize,
}

/// One row of the calibration table.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CalibrationBin {
    pub from: f64,
    pub to: f64,
    pub count: usize,
    pub mean_predicted: f64,
    pub observed_rate: f64,
}

/// A (centre, subject) cell as scored.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ScoredCell {
    pub center: String,
    pub subject: String,
    pub expected: f64,
    pub low: usize,
    pub high: usize,
    pub actual: usize,
    pub examiners: usize,
    pub needed: usize,
    pub capacity: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct MethodResult {
    pub name: String,
    pub metrics: Metrics,
    #[serde(skip)]
    pub cells: Vec<ScoredCell>,
    #[serde(skip)]
    pub subjects: Vec<ScoredCell>,
    #[serde(skip)]
    pub calibration: Vec<CalibrationBin>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionResult {
    pub session: i32,
    pub trained_on: Vec<i32>,
    pub bacpredict: MethodResult,
    pub baselines: Vec<MethodResult>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct BacktestOptions {
    pub fit: FitOptions,
    pub plan: PlanOptions,
    /// Central probability of the forecast intervals (0.9 = 5%-95%).
    pub interval: f64,
}

/// Mean Bernoulli log-loss, probabilities clipped to [eps, 1 - eps].
pub fn log_loss(pairs: &[(f64, bool)], eps: f64) -> f64 {
    let n = pairs.len().max(1) as f64;
    pairs
        .iter()
        .map(|&(p, y)| {
            let p = p.clamp(eps, 1.0 - eps);
            -(if y { p.ln() } else { (1.0 - p).ln() })
        })
        .sum::<f64>()
        / n
}

pub fn calibration(pairs: &[(f64, bool)], bins: usize) -> Vec<CalibrationBin> {
    let mut acc = vec![(0usize, 0.0f64, 0usize); bins];
    for &(p, y) in pairs {
        let b = ((p * bins as f64) as usize).min(bins - 1);
        acc[b].0 += 1;
        acc[b].1 += p;
        acc[b].2 += usize::from(y);
    }
    acc.iter()
        .enumerate()
        .map(|(i, &(n, sp, sy))| CalibrationBin {
            from: i as f64 / bins as f64,
            to: (i + 1) as f64 / bins as f64,
            count: n,
            mean_predicted: if n > 0 { sp / n as f64 } else { 0.0 },
            observed_rate: if n > 0 { sy as f64 / n as f64 } else { 0.0 },
        })
        .collect()
}

/// The metrics of a set of scored cells (see the module doc for the definitions).
pub fn metrics(cells: &[ScoredCell], log_loss: Option<f64>) -> Metrics {
    let actual: usize = cells.iter().map(|c| c.actual).sum();
    let needed: usize = cells.iter().map(|c| c.needed).sum();
    let examiners: usize = cells.iter().map(|c| c.examiners).sum();
    let covered: usize = cells
        .iter()
        .map(|c| (c.examiners * c.capacity).min(c.actual))
        .sum();
    let needing: Vec<&ScoredCell> = cells.iter().filter(|c| c.needed > 0).collect();
    let ok = needing.iter().filter(|c| c.examiners >= c.needed).count();
    let surplus: usize = cells
        .iter()
        .map(|c| c.examiners.saturating_sub(c.needed))
        .sum();
    let mut by_subject: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for c in cells {
        let e = by_subject.entry(&c.subject).or_default();
        e.0 += c.expected;
        e.1 += c.actual as f64;
    }
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let wape_subject = ratio(
        by_subject.values().map(|(e, a)| (e - a).abs()).sum(),
        actual as f64,
    );
    let wape_cell = ratio(
        cells
            .iter()
            .map(|c| (c.expected - c.actual as f64).abs())
            .sum(),
        actual as f64,
    );
    Metrics {
        coverage: if actual > 0 {
            covered as f64 / actual as f64
        } else {
            1.0
        },
        cell_coverage: if needing.is_empty() {
            1.0
        } else {
            ok as f64 / needing.len() as f64
        },
        redundancy: ratio(examiners as f64 - needed as f64, needed as f64),
        surplus: ratio(surplus as f64, needed as f64),
        wape_subject,
        wape_cell,
        log_loss,
        examiners,
        needed,
    }
}

/// Per-candidate-subject probabilities of one method, in `test` row order.
type Probs = Vec<Vec<f64>>;

/// Actual orals per (centre, subject) of the test session.
fn actual_counts(test: &Dataset) -> BTreeMap<(String, String), usize> {
    let mut m = BTreeMap::new();
    for c in &test.candidates {
        for s in &c.subjects {
            *m.entry((
                test.center_name(c).to_string(),
                test.subject_name(s).to_string(),
            ))
            .or_insert(0) += usize::from(s.chosen == Some(true));
        }
    }
    m
}

/// Sums the cells per subject with polars' eager group-by. The eager aggregation methods
/// are deprecated in favour of lazy frames, but the lazy engine would pull an HTTP and
/// cloud stack into an offline tool that handles pupils' marks.
#[allow(deprecated)]
fn subject_totals(
    cells: &[ScoredCell],
    subjects: &[Cell],
    q: f64,
) -> Result<Vec<ScoredCell>, PolarsError> {
    let col_u =
        |f: fn(&ScoredCell) -> usize| cells.iter().map(|c| f(c) as u64).collect::<Vec<u64>>();
    let df = DataFrame::new_infer_height(vec![
        Column::new(
            "subject".into(),
            cells.iter().map(|c| c.subject.as_str()).collect::<Vec<_>>(),
        ),
        Column::new(
            "expected".into(),
            cells.iter().map(|c| c.expected).collect::<Vec<f64>>(),
        ),
        Column::new("actual".into(), col_u(|c| c.actual)),
        Column::new("examiners".into(), col_u(|c| c.examiners)),
        Column::new("needed".into(), col_u(|c| c.needed)),
        Column::new(
            "capacity_x_examiners".into(),
            col_u(|c| c.capacity * c.examiners),
        ),
    ])?;
    let agg = df
        .group_by_stable(["subject"])?
        .select([
            "expected",
            "actual",
            "examiners",
            "needed",
            "capacity_x_examiners",
        ])
        .sum()?
        .sort(["subject"], SortMultipleOptions::default())?;
    let subj = agg.column("subject")?.str()?.clone();
    let exp = agg.column("expected_sum")?.f64()?.clone();
    let get = |name: &str| -> Result<Vec<usize>, PolarsError> {
        let col = agg.column(name)?.u64()?.clone();
        Ok((0..col.len())
            .map(|i| col.get(i).unwrap_or(0) as usize)
            .collect())
    };
    let (act, exm, ned, capx) = (
        get("actual_sum")?,
        get("examiners_sum")?,
        get("needed_sum")?,
        get("capacity_x_examiners_sum")?,
    );
    let dists: HashMap<&str, &CountDist> = subjects
        .iter()
        .map(|c| (c.subject.as_str(), &c.dist))
        .collect();
    let lo_q = (1.0 - q) / 2.0;
    Ok((0..agg.height())
        .map(|i| {
            let s = subj.get(i).unwrap_or("").to_string();
            let d = dists.get(s.as_str());
            ScoredCell {
                center: String::new(),
                expected: exp.get(i).unwrap_or(0.0),
                low: d.map(|d| d.quantile(lo_q)).unwrap_or(0),
                high: d.map(|d| d.quantile(1.0 - lo_q)).unwrap_or(0),
                actual: act[i],
                examiners: exm[i],
                needed: ned[i],
                capacity: capx[i].checked_div(exm[i]).unwrap_or(0),
                subject: s,
            }
        })
        .collect())
}

/// Scores a method's cells with their examiner counts.
fn score(
    name: &str,
    test: &Dataset,
    cells: &[Cell],
    subjects: &[Cell],
    examiners: &[usize],
    opts: &BacktestOptions,
    pairs: Option<Vec<(f64, bool)>>,
) -> Result<MethodResult, PolarsError> {
    let (plan, q) = (&opts.plan, opts.interval);
    let actual = actual_counts(test);
    let lo_q = (1.0 - q) / 2.0;
    let scored: Vec<ScoredCell> = cells
        .iter()
        .zip(examiners)
        .map(|(c, &e)| {
            let center = c.center.clone().unwrap_or_default();
            let a = actual
                .get(&(center.clone(), c.subject.clone()))
                .copied()
                .unwrap_or(0);
            let cap = plan.capacity_for(&c.subject);
            ScoredCell {
                center,
                subject: c.subject.clone(),
                expected: c.expected(),
                low: c.dist.quantile(lo_q),
                high: c.dist.quantile(1.0 - lo_q),
                actual: a,
                examiners: e,
                needed: a.div_ceil(cap),
                capacity: cap,
            }
        })
        .collect();
    let ll = pairs.as_ref().map(|p| log_loss(p, 1e-3));
    let calibration = pairs.map(|p| calibration(&p, 10)).unwrap_or_default();
    Ok(MethodResult {
        name: name.to_string(),
        metrics: metrics(&scored, ll),
        subjects: subject_totals(&scored, subjects, q)?,
        cells: scored,
        calibration,
    })
}

fn pairs_of(test: &Dataset, probs: &Probs) -> Vec<(f64, bool)> {
    test.candidates
        .iter()
        .zip(probs)
        .flat_map(|(c, ps)| {
            c.subjects
                .iter()
                .zip(ps)
                .map(|(s, &p)| (p, s.chosen == Some(true)))
        })
        .collect()
}

/// A method given as probabilities, planned with the shared planning code.
fn probabilistic(
    name: &str,
    test: &Dataset,
    probs: &Probs,
    cell_var: f64,
    subject_var: f64,
    opts: &BacktestOptions,
) -> Result<MethodResult, BacktestError> {
    let (cells, subjects) = forecast::cells_from(test, probs, cell_var, subject_var);
    let plan = planning::plan(&cells, &opts.plan);
    let ex: Vec<usize> = plan.cells.iter().map(|c| c.examiners).collect();
    Ok(score(
        name,
        test,
        &cells,
        &subjects,
        &ex,
        opts,
        Some(pairs_of(test, probs)),
    )?)
}

/// "Last year's counts per cell, scaled to this year's candidates, + 25%".
fn last_year_plus_25(
    train: &Dataset,
    test: &Dataset,
    opts: &BacktestOptions,
) -> Result<MethodResult, BacktestError> {
    let last = train
        .candidates
        .iter()
        .map(|c| c.session)
        .max()
        .unwrap_or(0);
    let mut prev: HashMap<(String, String), (f64, f64)> = HashMap::new();
    let mut prev_subject: HashMap<String, (f64, f64)> = HashMap::new();
    for c in train.candidates.iter().filter(|c| c.session == last) {
        for s in &c.subjects {
            let ch = f64::from(u8::from(s.chosen == Some(true)));
            let key = (
                train.center_name(c).to_string(),
                train.subject_name(s).to_string(),
            );
            let e = prev.entry(key).or_default();
            e.0 += ch;
            e.1 += 1.0;
            let e = prev_subject
                .entry(train.subject_name(s).to_string())
                .or_default();
            e.0 += ch;
            e.1 += 1.0;
        }
    }
    // The rate per eligible candidate of last year's cell (or subject, for a new cell),
    // applied to this year's eligible candidates: that is the scaling.
    let rate = |center: &str, subject: &str| -> f64 {
        let key = (center.to_string(), subject.to_string());
        match prev.get(&key) {
            Some(&(k, n)) if n > 0.0 => k / n,
            _ => match prev_subject.get(subject) {
                Some(&(k, n)) if n > 0.0 => k / n,
                _ => 0.0,
            },
        }
    };
    let probs: Probs = test
        .candidates
        .iter()
        .map(|c| {
            c.subjects
                .iter()
                .map(|s| rate(test.center_name(c), test.subject_name(s)))
                .collect()
        })
        .collect();
    let (cells, subjects) = forecast::cells_from(test, &probs, 0.0, 0.0);
    let ex: Vec<usize> = cells
        .iter()
        .map(|c| {
            (1.25 * c.expected() / opts.plan.capacity_for(&c.subject) as f64 - 1e-9)
                .ceil()
                .max(0.0) as usize
        })
        .collect();
    Ok(score(
        "last year +25%",
        test,
        &cells,
        &subjects,
        &ex,
        opts,
        Some(pairs_of(test, &probs)),
    )?)
}

/// "Two lowest coefficient-weighted marks": every candidate takes the two subjects with
/// the most points to recover, coefficient x (20 - mark). A rule, not a probability: the
/// plan is exactly ceil(count / capacity), and its log-loss is on probabilities clipped
/// to [0.001, 0.999] like every other method's.
fn two_lowest(test: &Dataset, opts: &BacktestOptions) -> Result<MethodResult, BacktestError> {
    let probs: Probs = test
        .candidates
        .iter()
        .map(|c| {
            let mut idx: Vec<usize> = (0..c.subjects.len()).collect();
            let room = |i: usize| c.subjects[i].coefficient * (20.0 - c.subjects[i].grade);
            idx.sort_by(|&a, &b| room(b).total_cmp(&room(a)).then(a.cmp(&b)));
            let mut p = vec![0.0; c.subjects.len()];
            for &i in idx.iter().take(2) {
                p[i] = 1.0;
            }
            p
        })
        .collect();
    let (cells, subjects) = forecast::cells_from(test, &probs, 0.0, 0.0);
    let ex: Vec<usize> = cells
        .iter()
        .map(|c| (c.expected().round() as usize).div_ceil(opts.plan.capacity_for(&c.subject)))
        .collect();
    Ok(score(
        "two lowest weighted marks",
        test,
        &cells,
        &subjects,
        &ex,
        opts,
        Some(pairs_of(test, &probs)),
    )?)
}

fn plain_features(data: &Dataset, c: &Candidate, n_subjects: usize, n_tracks: usize) -> Vec<f64> {
    let mut x = vec![0.0; 1 + n_tracks + 2 * n_subjects];
    x[0] = 10.0 - c.average;
    if (c.track as usize) < n_tracks {
        x[1 + c.track as usize] = 1.0;
    }
    let _ = data;
    for s in &c.subjects {
        let i = s.subject as usize;
        if i < n_subjects {
            x[1 + n_tracks + i] = 1.0;
            x[1 + n_tracks + n_subjects + i] = (s.grade - 10.0) / 5.0;
        }
    }
    x
}

/// A plain multinomial logistic regression (linfa-logistic), one class per subject, on
/// candidate-level features (points missing, track, which subjects are eligible and their
/// marks); at prediction its probabilities are restricted to the eligible subjects and
/// scaled by the training mean number of orals.
fn plain_logistic(
    train: &Dataset,
    test: &Dataset,
    opts: &BacktestOptions,
) -> Result<MethodResult, BacktestError> {
    let ns = train.subjects.len();
    let nt = train.tracks.len();
    let mut x = Vec::new();
    let mut y = Vec::new();
    let mut orals = 0usize;
    for c in &train.candidates {
        let f = plain_features(train, c, ns, nt);
        for s in c.subjects.iter().filter(|s| s.chosen == Some(true)) {
            x.extend_from_slice(&f);
            y.push(s.subject as usize);
            orals += 1;
        }
    }
    let nf = 1 + nt + 2 * ns;
    let rows = y.len();
    let xa = Array2::from_shape_vec((rows, nf), x)
        .map_err(|e| BacktestError::Baseline("plain logistic", e.to_string()))?;
    let ds = DatasetBase::new(xa, Array1::from(y));
    let fitted = MultiLogisticRegression::default()
        .alpha(1.0)
        .max_iterations(100)
        // Per-sample tolerance: linfa's absolute default never triggers on a summed loss.
        .gradient_tolerance(1e-4 * rows as f64)
        .fit(&ds)
        .map_err(|e| BacktestError::Baseline("plain logistic", e.to_string()))?;
    let mean_orals = orals as f64 / train.candidates.len().max(1) as f64;
    let classes = fitted.classes().to_vec();
    // Test subjects and tracks are matched to training ones by name.
    let train_subject: HashMap<&str, usize> = train
        .subjects
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let train_track: HashMap<&str, usize> = train
        .tracks
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let probs: Probs = test
        .candidates
        .iter()
        .map(|c| {
            let mut cc = c.clone();
            cc.track = train_track
                .get(test.track_name(c))
                .map(|&t| t as u32)
                .unwrap_or(u32::MAX);
            for s in cc.subjects.iter_mut() {
                s.subject = train_subject
                    .get(test.subjects[s.subject as usize].as_str())
                    .map(|&i| i as u32)
                    .unwrap_or(u32::MAX);
            }
            let f =
                Array2::from_shape_vec((1, nf), plain_features(train, &cc, ns, nt)).expect("shape");
            let p = fitted.predict_probabilities(&f);
            let raw: Vec<f64> = cc
                .subjects
                .iter()
                .map(|s| {
                    classes
                        .iter()
                        .position(|&k| k == s.subject as usize)
                        .map(|k| p[[0, k]])
                        .unwrap_or(0.0)
                })
                .collect();
            let tot: f64 = raw.iter().sum();
            raw.iter()
                .map(|r| {
                    let q = if tot > 0.0 {
                        r / tot
                    } else {
                        1.0 / raw.len() as f64
                    };
                    (q * mean_orals).min(1.0)
                })
                .collect()
        })
        .collect();
    probabilistic("plain logistic", test, &probs, 0.0, 0.0, opts)
}

/// Backtests one session: trains on the sessions before it, forecasts it with the
/// choices hidden, plans, and scores bacpredict and the baselines.
pub fn backtest_session(
    history: &Dataset,
    session: i32,
    opts: &BacktestOptions,
    truth: Option<&HashMap<(i32, String, String), f64>>,
) -> Result<SessionResult, BacktestError> {
    let sessions = history.sessions();
    if !sessions.contains_key(&session) {
        let list: Vec<String> = sessions.keys().map(|s| s.to_string()).collect();
        return Err(BacktestError::NoSession(session, list.join(", ")));
    }
    let train = history.filter_sessions(|s| s < session);
    if train.candidates.is_empty() {
        return Err(BacktestError::NoEarlier(session));
    }
    let test = history.filter_sessions(|s| s == session);
    let model = model::train(&train, &opts.fit)?;
    let fc = forecast::forecast(&model, &test);
    let probs: Probs = {
        let mut v: Probs = test
            .candidates
            .iter()
            .map(|c| Vec::with_capacity(c.subjects.len()))
            .collect();
        for r in &fc.rows {
            v[r.candidate].push(r.probability);
        }
        v
    };
    let bp = probabilistic(
        "bacpredict",
        &test,
        &probs,
        model.drift.subject_rel_var + model.drift.cell_rel_var,
        model.drift.subject_rel_var,
        opts,
    )?;
    let mut baselines = vec![
        last_year_plus_25(&train, &test, opts)?,
        two_lowest(&test, opts)?,
        plain_logistic(&train, &test, opts)?,
    ];
    if let Some(truth) = truth {
        let mut missing = 0usize;
        let tp: Probs = test
            .candidates
            .iter()
            .map(|c| {
                c.subjects
                    .iter()
                    .map(|s| {
                        let key = (c.session, c.id.clone(), test.subject_name(s).to_string());
                        truth.get(&key).copied().unwrap_or_else(|| {
                            missing += 1;
                            0.0
                        })
                    })
                    .collect()
            })
            .collect();
        if missing == 0 {
            baselines.push(probabilistic(
                "oracle (true probabilities)",
                &test,
                &tp,
                0.0,
                0.0,
                opts,
            )?);
        }
    }
    Ok(SessionResult {
        session,
        trained_on: train.sessions().keys().copied().collect(),
        bacpredict: bp,
        baselines,
        warnings: fc.warnings,
    })
}

/// The sessions `--all` replays: those with at least two earlier sessions.
pub fn rolling_sessions(history: &Dataset) -> Result<Vec<i32>, BacktestError> {
    let s: Vec<i32> = history.sessions().keys().copied().collect();
    let out: Vec<i32> = s.iter().skip(2).copied().collect();
    if out.is_empty() {
        Err(BacktestError::TooFewSessions)
    } else {
        Ok(out)
    }
}

/// Mean of each metric over sessions, per method name.
pub fn average(results: &[SessionResult]) -> Vec<(String, Metrics)> {
    let mut names: Vec<String> = vec!["bacpredict".to_string()];
    for r in results {
        for b in &r.baselines {
            if !names.contains(&b.name) {
                names.push(b.name.clone());
            }
        }
    }
    names
        .into_iter()
        .filter_map(|name| {
            let ms: Vec<&Metrics> = results
                .iter()
                .flat_map(|r| std::iter::once(&r.bacpredict).chain(&r.baselines))
                .filter(|m| m.name == name)
                .map(|m| &m.metrics)
                .collect();
            if ms.is_empty() {
                return None;
            }
            let n = ms.len() as f64;
            let mean = |f: fn(&Metrics) -> f64| ms.iter().map(|m| f(m)).sum::<f64>() / n;
            let ll: Option<f64> = if ms.iter().all(|m| m.log_loss.is_some()) {
                Some(ms.iter().map(|m| m.log_loss.unwrap_or(0.0)).sum::<f64>() / n)
            } else {
                None
            };
            Some((
                name,
                Metrics {
                    coverage: mean(|m| m.coverage),
                    cell_coverage: mean(|m| m.cell_coverage),
                    redundancy: mean(|m| m.redundancy),
                    surplus: mean(|m| m.surplus),
                    wape_subject: mean(|m| m.wape_subject),
                    wape_cell: mean(|m| m.wape_cell),
                    log_loss: ll,
                    examiners: ms.iter().map(|m| m.examiners).sum::<usize>() / ms.len(),
                    needed: ms.iter().map(|m| m.needed).sum::<usize>() / ms.len(),
                },
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(
        subject: &str,
        expected: f64,
        actual: usize,
        examiners: usize,
        capacity: usize,
    ) -> ScoredCell {
        ScoredCell {
            center: "C".into(),
            subject: subject.into(),
            expected,
            low: 0,
            high: 0,
            actual,
            examiners,
            needed: actual.div_ceil(capacity),
            capacity,
        }
    }

    /// The metric definitions, worked by hand on three cells.
    #[test]
    fn metrics_match_hand_computation() {
        let cells = vec![
            cell("A", 10.0, 12, 1, 10), // needed 2, covers 10 of 12
            cell("A", 3.0, 2, 1, 10),   // needed 1, covers 2
            cell("B", 1.0, 0, 1, 10),   // needed 0, surplus 1
        ];
        let m = metrics(&cells, None);
        assert!((m.coverage - 12.0 / 14.0).abs() < 1e-12);
        assert!((m.cell_coverage - 0.5).abs() < 1e-12);
        assert_eq!((m.examiners, m.needed), (3, 3));
        assert!(m.redundancy.abs() < 1e-12);
        assert!((m.surplus - 1.0 / 3.0).abs() < 1e-12);
        // Subjects: A expected 13 vs 14, B 1 vs 0 -> (1 + 1) / 14.
        assert!((m.wape_subject - 2.0 / 14.0).abs() < 1e-12);
        // Cells: 2 + 1 + 1 = 4 over 14.
        assert!((m.wape_cell - 4.0 / 14.0).abs() < 1e-12);
    }

    #[test]
    fn log_loss_and_calibration() {
        let pairs = [(0.5, true), (0.5, false), (0.9, true)];
        let ll = log_loss(&pairs, 1e-3);
        let expect = (-(0.5f64.ln()) * 2.0 - 0.9f64.ln()) / 3.0;
        assert!((ll - expect).abs() < 1e-12);
        let cal = calibration(&pairs, 10);
        assert_eq!(cal[5].count, 2);
        assert!((cal[5].observed_rate - 0.5).abs() < 1e-12);
        assert_eq!(cal[9].count, 1);
    }
}
