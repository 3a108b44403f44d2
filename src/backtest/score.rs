//! Score: a method's cells (forecast distributions and examiner counts) set against what
//! the session really had, per cell and per subject.

use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;

use super::metrics::{calibration, log_loss, metrics, outside_share, Metrics};
use super::{BacktestError, BacktestOptions, Method, MethodResult, ScoredCell};
use crate::confirm::share;
use crate::data::{CellKey, Dataset, Hosts};
use crate::forecast::{self, CountDist, ForecastCell, SubjectForecast};
use crate::numeric::LOSS_CLIP;
use crate::planning::{self, PoolPlan};

/// Per-candidate-subject probabilities of one method, in `test` row order.
pub(crate) type Probs = Vec<Vec<f64>>;

/// Actual orals per (centre, subject, slot) of the test session, each at the centre
/// `hosts` holds it in.
fn actual_counts(test: &Dataset, hosts: &Hosts) -> BTreeMap<CellKey, usize> {
    let mut m = BTreeMap::new();
    for c in &test.candidates {
        for s in &c.subjects {
            let key = CellKey::hosted(c, s, hosts);
            *m.entry(key).or_insert(0) += usize::from(s.chosen == Some(true));
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
    subjects: &[SubjectForecast],
    names: &Dataset,
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
        Column::new("reserve".into(), col_u(|c| c.reserve)),
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
            "reserve",
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
    let (act, exm, ned, res, capx) = (
        get("actual_sum")?,
        get("examiners_sum")?,
        get("needed_sum")?,
        get("reserve_sum")?,
        get("capacity_x_examiners_sum")?,
    );
    let dists: HashMap<&str, &CountDist> = subjects
        .iter()
        .map(|c| (names.subjects[c.key as usize].as_str(), &c.dist))
        .collect();
    let lo_q = (1.0 - q) / 2.0;
    Ok((0..agg.height())
        .map(|i| {
            let s = subj.get(i).unwrap_or("").to_string();
            let d = dists.get(s.as_str());
            ScoredCell {
                center: String::new(),
                day: String::new(),
                half_day: String::new(),
                reserve: res[i],
                with_moves: exm[i],
                moved_in: 0,
                calls: 0,
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

/// Scores a method's cells with their examiner counts, firm and in reserve, against the
/// session `test` whose orals are held where `hosts` says.
pub(crate) fn score(
    method: Method,
    (test, hosts): (&Dataset, &Hosts),
    cells: &[ForecastCell],
    subjects: &[SubjectForecast],
    examiners: &[(usize, usize)],
    opts: &BacktestOptions,
    pairs: Option<Vec<(f64, bool)>>,
) -> Result<MethodResult, PolarsError> {
    let (plan, q) = (&opts.plan, opts.interval);
    let actual = actual_counts(test, hosts);
    let lo_q = (1.0 - q) / 2.0;
    let scored: Vec<ScoredCell> = cells
        .iter()
        .zip(examiners)
        .map(|(c, &(e, r))| {
            let a = actual.get(&c.key).copied().unwrap_or(0);
            let [center, subject, day, half_day] = test.cell_names(&c.key);
            let cap = plan.capacity_for(subject);
            ScoredCell {
                center: center.to_string(),
                subject: subject.to_string(),
                day: day.to_string(),
                half_day: half_day.to_string(),
                reserve: 0,
                with_moves: e,
                moved_in: 0,
                calls: 0,
                expected: c.expected(),
                low: c.dist.quantile(lo_q),
                high: c.dist.quantile(1.0 - lo_q),
                actual: a,
                examiners: e,
                needed: a.div_ceil(cap),
                capacity: cap,
            }
            .with_reserve(r)
        })
        .collect();
    let ll = pairs.as_ref().map(|p| log_loss(p, LOSS_CLIP));
    let calibration = pairs.map(|p| calibration(&p, 10)).unwrap_or_default();
    let subjects = subject_totals(&scored, subjects, test, q)?;
    let mut m = metrics(&scored, ll);
    m.subjects_outside_interval = outside_share(&subjects);
    Ok(MethodResult {
        method,
        metrics: m,
        subjects,
        cells: scored,
        calibration,
    })
}

pub(crate) fn pairs_of(test: &Dataset, probs: &Probs) -> Vec<(f64, bool)> {
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

/// A method given as probabilities of independent candidates (no widening), planned
/// with the shared planning code.
pub(crate) fn probabilistic(
    method: Method,
    test: &Dataset,
    probs: &Probs,
    opts: &BacktestOptions,
) -> Result<MethodResult, BacktestError> {
    let none = forecast::Widening::none(test);
    let (cells, subjects) = forecast::cells_from(test, probs, &none);
    planned(method, test, &cells, &subjects, pairs_of(test, probs), opts)
}

/// A method given as its cells' count distributions (and its probabilities, for the
/// log-loss), planned with the shared planning code.
pub(crate) fn planned(
    method: Method,
    test: &Dataset,
    cells: &[ForecastCell],
    subjects: &[SubjectForecast],
    pairs: Vec<(f64, bool)>,
    opts: &BacktestOptions,
) -> Result<MethodResult, BacktestError> {
    planned_with_reserve(method, test, (cells, cells), subjects, pairs, opts)
}

/// [`planned`] with the reserve sized on cells of its own (`cells.1`, the same cells
/// widened by the reserve's calibrated multiplier).
pub(crate) fn planned_with_reserve(
    method: Method,
    test: &Dataset,
    cells: (&[ForecastCell], &[ForecastCell]),
    subjects: &[SubjectForecast],
    pairs: Vec<(f64, bool)>,
    opts: &BacktestOptions,
) -> Result<MethodResult, BacktestError> {
    let hosted = Hosted {
        cells,
        hosts: &Hosts::default(),
    };
    planned_hosted(method, test, hosted, subjects, pairs, opts)
}

/// Cells, firm and reserve, with some orals held at another centre (`hosts`).
pub(crate) struct Hosted<'a> {
    pub(crate) cells: (&'a [ForecastCell], &'a [ForecastCell]),
    pub(crate) hosts: &'a Hosts,
}

/// [`planned_with_reserve`] on cells whose orals `hosts` moved: the session's orals are
/// counted where the plan holds them.
pub(crate) fn planned_hosted(
    method: Method,
    test: &Dataset,
    hosted: Hosted<'_>,
    subjects: &[SubjectForecast],
    pairs: Vec<(f64, bool)>,
    opts: &BacktestOptions,
) -> Result<MethodResult, BacktestError> {
    let (cells, reserve_cells) = hosted.cells;
    let plan = planning::plan_with_reserve(cells, reserve_cells, &opts.plan, test);
    let ex: Vec<(usize, usize)> = plan
        .cells
        .iter()
        .map(|c| (c.examiners, c.reserve))
        .collect();
    let mut scored = score(
        method,
        (test, hosted.hosts),
        cells,
        subjects,
        &ex,
        opts,
        Some(pairs),
    )?;
    if !plan.pools.is_empty() {
        replay_pools(&mut scored.cells, &plan.pools);
        scored.metrics = Metrics {
            subjects_outside_interval: scored.metrics.subjects_outside_interval,
            ..metrics(&scored.cells, scored.metrics.log_loss)
        };
    }
    Ok(scored)
}

/// Results day replayed in each pool's cells (`cells` in the plan's order): idle firm
/// examiners moved where the zone is short, then the pool's reserves sent, as `confirm`
/// does ([`share::replay`]).
fn replay_pools(cells: &mut [ScoredCell], pools: &[PoolPlan]) {
    for p in pools {
        let own: Vec<(usize, usize, usize)> = p
            .cells
            .iter()
            .map(|&i| (cells[i].needed, cells[i].examiners, cells[i].reserve))
            .collect();
        let r = share::replay(&own, p.reserve);
        for (k, &i) in p.cells.iter().enumerate() {
            let c = &mut cells[i];
            c.with_moves = r.with_moves[k];
            c.moved_in = r.with_moves[k] - c.needed.min(c.examiners);
            c.calls = r.hearing[k] - r.with_moves[k];
        }
    }
}
