//! Backtest: replaying a past session with its choices hidden, and scoring the plan.
//!
//! Every method (bacpredict, the baselines, the oracle) goes through the same planning
//! code ([`score`]) and the same metric code ([`metrics`]), so the comparison is only
//! about the probabilities. [`baselines`] holds the methods bacpredict is compared with.

mod baselines;
mod metrics;
mod score;

use polars::prelude::PolarsError;
use serde::Serialize;

use self::baselines::{last_year_plus_25, plain_logistic, two_lowest};
use self::score::{pairs_of, planned_hosted, planned_with_reserve, probabilistic, Hosted, Probs};
use crate::data::Dataset;
use crate::forecast;
use crate::input::Truth;
use crate::model::{self, FitOptions, ModelError};
use crate::planning::PlanOptions;
use crate::promise::{self, Promise};
use crate::zones::{self, Zones};

pub(crate) use metrics::{CalibrationBin, Metrics};

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
    #[error("table computation failed")]
    Table(#[from] PolarsError),
    #[error("internal error in the forecast: {0}")]
    Forecast(String),
}

impl BacktestError {
    /// Whether the user's input is at fault (a session not in the history, a history too
    /// short, or a history the model cannot learn from): exit 2, else exit 1. A training
    /// error classifies itself, so it exits the same from `train` and `backtest`.
    pub(crate) fn is_bad_input(&self) -> bool {
        match self {
            BacktestError::NoSession(..)
            | BacktestError::NoEarlier(_)
            | BacktestError::TooFewSessions => true,
            BacktestError::Model(e) => e.is_bad_input(),
            BacktestError::Baseline(..) | BacktestError::Table(_) | BacktestError::Forecast(_) => {
                false
            }
        }
    }
}

/// A (centre, subject) cell as scored.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct ScoredCell {
    pub(crate) center: String,
    pub(crate) subject: String,
    /// The slot's labels, empty without slots.
    pub(crate) day: String,
    pub(crate) half_day: String,
    pub(crate) expected: f64,
    pub(crate) low: usize,
    pub(crate) high: usize,
    pub(crate) actual: usize,
    /// Firm examiners.
    pub(crate) examiners: usize,
    pub(crate) needed: usize,
    pub(crate) capacity: usize,
    /// Reserve examiners on call (for a cell of a zone's pool, none of its own).
    pub(crate) reserve: usize,
    /// Examiners hearing its orals once the zone's idle firm examiners moved (the firm
    /// ones without zones), before any reserve is called.
    pub(crate) with_moves: usize,
    /// Examiners moved in from another centre of the zone.
    pub(crate) moved_in: usize,
    /// Reserves called to it: its own, or from its zone's pool.
    pub(crate) calls: usize,
}

impl ScoredCell {
    /// The cell with `reserve` of its own on call: those needed beyond the firm
    /// examiners are called.
    pub(crate) fn with_reserve(self, reserve: usize) -> ScoredCell {
        ScoredCell {
            reserve,
            calls: reserve.min(self.needed.saturating_sub(self.examiners)),
            ..self
        }
    }
}

/// A way of forecasting the orals that the backtest scores: bacpredict, a baseline it
/// is compared with, or the true probabilities of a simulated académie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Bacpredict,
    /// Last year's count per cell, plus 25%: what offices do by hand.
    LastYearPlus25,
    /// Every candidate takes the two subjects with the most points to recover.
    TwoLowest,
    /// A logistic regression of each row on its own, without the choice structure.
    PlainLogistic,
    /// The simulator's true probabilities (`--oracle`).
    Oracle,
    /// bacpredict with a subject's orals of a zone's centres held at one of them where
    /// that saves examiners (`--zones`).
    Zones,
}

impl Method {
    /// The method's name in the text tables, the JSON and `methods.csv`: stable for
    /// scripts (the pages show the label of their language).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Method::Bacpredict => "bacpredict",
            Method::LastYearPlus25 => "last year +25%",
            Method::TwoLowest => "two lowest weighted marks",
            Method::PlainLogistic => "plain logistic",
            Method::Oracle => "oracle (true probabilities)",
            Method::Zones => "bacpredict, regrouped by zone",
        }
    }
}

impl Serialize for Method {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct MethodResult {
    #[serde(rename = "name")]
    pub(crate) method: Method,
    pub(crate) metrics: Metrics,
    #[serde(skip)]
    pub(crate) cells: Vec<ScoredCell>,
    #[serde(skip)]
    pub(crate) subjects: Vec<ScoredCell>,
    #[serde(skip)]
    pub(crate) calibration: Vec<CalibrationBin>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct SessionResult {
    pub(crate) session: i32,
    pub(crate) trained_on: Vec<i32>,
    pub(crate) bacpredict: MethodResult,
    pub(crate) baselines: Vec<MethodResult>,
    pub(crate) warnings: Vec<String>,
    /// The calibration of bacpredict's widening on the sessions its model held out.
    pub(crate) promise: Promise,
    /// With `--zones`: per zone, bacpredict without and with zones.
    pub(crate) zones: Vec<ZoneSaving>,
}

/// One zone of one session, bacpredict without zones beside bacpredict with them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct ZoneSaving {
    pub(crate) zone: String,
    pub(crate) orals: usize,
    /// Examiner half-days needed in hindsight, cell by cell, without and with the
    /// regrouping.
    pub(crate) needed_apart: usize,
    pub(crate) needed: usize,
    /// Examiner half-days used (firm + reserves called), without and with zones.
    pub(crate) used_apart: usize,
    pub(crate) used: usize,
    /// With zones: firm examiners moved, reserves called.
    pub(crate) moves: usize,
    pub(crate) calls: usize,
}

/// Per zone, [`ZoneSaving`] summed over the sessions `results` replayed.
pub(crate) fn zone_totals(results: &[SessionResult]) -> Vec<ZoneSaving> {
    let mut by: std::collections::BTreeMap<&str, ZoneSaving> = Default::default();
    for z in results.iter().flat_map(|r| &r.zones) {
        let e = by.entry(&z.zone).or_default();
        e.zone.clone_from(&z.zone);
        e.orals += z.orals;
        e.needed_apart += z.needed_apart;
        e.needed += z.needed;
        e.used_apart += z.used_apart;
        e.used += z.used;
        e.moves += z.moves;
        e.calls += z.calls;
    }
    by.into_values().collect()
}

/// Per zone of `zones`, the cells of bacpredict without (`apart`) and with zones.
fn zone_savings(
    (apart, zoned): (&[ScoredCell], &[ScoredCell]),
    zones: &Zones,
    test: &Dataset,
) -> Vec<ZoneSaving> {
    let mut by: std::collections::BTreeMap<u32, ZoneSaving> = Default::default();
    let zone = |c: &ScoredCell| {
        let center = test.center_id(&c.center).expect("a centre of the session");
        zones.of_center(center)
    };
    for z in apart.iter().chain(zoned).map(zone) {
        by.entry(z).or_default().zone = zones.map.names[z as usize].clone();
    }
    for c in apart {
        let e = by.get_mut(&zone(c)).expect("a zone of the cells");
        e.orals += c.actual;
        e.needed_apart += c.needed;
        e.used_apart += c.examiners + c.calls;
    }
    for c in zoned {
        let e = by.get_mut(&zone(c)).expect("a zone of the cells");
        e.needed += c.needed;
        e.used += c.examiners + c.calls;
        e.moves += c.moved_in;
        e.calls += c.calls;
    }
    by.into_values().collect()
}

#[derive(Debug, Clone)]
pub(crate) struct BacktestOptions {
    pub(crate) fit: FitOptions,
    pub(crate) plan: PlanOptions,
    /// Central probability of the forecast intervals (0.9 = 5%-95%).
    pub(crate) interval: f64,
    /// With `--zones`: the history's centres by zone, and bacpredict replayed with the
    /// regrouping beside it.
    pub(crate) zones: Option<Zones>,
}

/// Backtests one session: trains on the sessions before it, forecasts it with the
/// choices hidden, plans, and scores bacpredict and the baselines.
pub(crate) fn backtest_session(
    history: &Dataset,
    session: i32,
    opts: &BacktestOptions,
    truth: Option<&Truth>,
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
    // Calibrated on the sessions the model held out, all before this one: no peeking.
    let promise = promise::calibrate(&model, &opts.plan, test.slot_kind());
    let fc = forecast::forecast(&model, &test, promise.firm);
    fc.check(&test).map_err(BacktestError::Forecast)?;
    let probs = fc.probabilities(&test);
    let reserve_cells =
        (promise.reserve != promise.firm).then(|| fc.cells_widened(&model, &test, promise.reserve));
    // The forecast's own cells are scored, not recomputed from its probabilities.
    let aimed = BacktestOptions {
        plan: promise.plan_options(&opts.plan),
        ..opts.clone()
    };
    let bp = planned_with_reserve(
        Method::Bacpredict,
        &test,
        (&fc.cells, reserve_cells.as_deref().unwrap_or(&fc.cells)),
        &fc.subjects,
        pairs_of(&test, &probs),
        &aimed,
    )?;
    let regrouped = match &opts.zones {
        Some(z) => {
            let widenings = (promise.firm, promise.reserve);
            let r = zones::regrouped(z, &fc, (&model, &test), widenings, &aimed.plan);
            let zoned = BacktestOptions {
                plan: PlanOptions {
                    zones: z.map.clone(),
                    ..aimed.plan.clone()
                },
                ..aimed.clone()
            };
            let pairs = pairs_of(&test, &probs);
            let hosted = Hosted {
                cells: (&r.firm, &r.reserve),
                hosts: &r.hosts,
            };
            Some(planned_hosted(
                Method::Zones,
                &test,
                hosted,
                &fc.subjects,
                pairs,
                &zoned,
            )?)
        }
        None => None,
    };
    let zones = match (&opts.zones, &regrouped) {
        (Some(z), Some(r)) => zone_savings((&bp.cells, &r.cells), z, &test),
        _ => Vec::new(),
    };
    let mut baselines: Vec<MethodResult> = regrouped.into_iter().collect();
    baselines.extend([
        last_year_plus_25(&train, &test, opts)?,
        two_lowest(&test, opts)?,
        plain_logistic(&train, &test, opts)?,
    ]);
    if let Some(tp) = truth.and_then(|t| oracle_probs(&test, t)) {
        baselines.push(probabilistic(Method::Oracle, &test, &tp, opts)?);
    }
    Ok(SessionResult {
        session,
        trained_on: train.sessions().keys().copied().collect(),
        bacpredict: bp,
        baselines,
        warnings: fc.warnings,
        promise,
        zones,
    })
}

/// The simulator's true probabilities of `test`, if the file covers every candidate.
fn oracle_probs(test: &Dataset, truth: &Truth) -> Option<Probs> {
    test.candidates
        .iter()
        .map(|c| {
            c.subjects
                .iter()
                .map(|s| {
                    let key = (c.session, c.id.clone(), test.subject_name(s).to_string());
                    truth.get(&key).copied()
                })
                .collect()
        })
        .collect()
}

/// The sessions `--all` replays: those with at least two earlier sessions.
pub(crate) fn rolling_sessions(history: &Dataset) -> Result<Vec<i32>, BacktestError> {
    let s: Vec<i32> = history.sessions().keys().copied().collect();
    let out: Vec<i32> = s.iter().skip(2).copied().collect();
    if out.is_empty() {
        Err(BacktestError::TooFewSessions)
    } else {
        Ok(out)
    }
}

/// Mean of each metric over sessions, per method.
pub(crate) fn average(results: &[SessionResult]) -> Vec<(Method, Metrics)> {
    let mut methods: Vec<Method> = vec![Method::Bacpredict];
    for r in results {
        for b in &r.baselines {
            if !methods.contains(&b.method) {
                methods.push(b.method);
            }
        }
    }
    methods
        .into_iter()
        .filter_map(|method| {
            let ms: Vec<&Metrics> = results
                .iter()
                .flat_map(|r| std::iter::once(&r.bacpredict).chain(&r.baselines))
                .filter(|m| m.method == method)
                .map(|m| &m.metrics)
                .collect();
            if ms.is_empty() {
                return None;
            }
            let n = ms.len() as f64;
            let mean = |f: fn(&Metrics) -> f64| ms.iter().map(|m| f(m)).sum::<f64>() / n;
            // Counts averaged to the nearest whole examiner.
            let mean_count = |f: fn(&Metrics) -> usize| {
                (ms.iter().map(|m| f(m)).sum::<usize>() as f64 / n).round() as usize
            };
            let ll: Option<f64> = if ms.iter().all(|m| m.log_loss.is_some()) {
                Some(ms.iter().map(|m| m.log_loss.unwrap_or(0.0)).sum::<f64>() / n)
            } else {
                None
            };
            Some((
                method,
                Metrics {
                    coverage: mean(|m| m.coverage),
                    cell_coverage: mean(|m| m.cell_coverage),
                    redundancy: mean(|m| m.redundancy),
                    surplus: mean(|m| m.surplus),
                    wape_subject: mean(|m| m.wape_subject),
                    wape_cell: mean(|m| m.wape_cell),
                    log_loss: ll,
                    examiners: mean_count(|m| m.examiners),
                    needed: mean_count(|m| m.needed),
                    reserve: mean_count(|m| m.reserve),
                    coverage_with_reserve: mean(|m| m.coverage_with_reserve),
                    reserve_calls: mean_count(|m| m.reserve_calls),
                    moves: mean_count(|m| m.moves),
                    coverage_with_moves: mean(|m| m.coverage_with_moves),
                    used: mean_count(|m| m.used),
                    idle_share: mean(|m| m.idle_share),
                    subjects_outside_interval: mean(|m| m.subjects_outside_interval),
                    cells_outside_interval: mean(|m| m.cells_outside_interval),
                },
            ))
        })
        .collect()
}
