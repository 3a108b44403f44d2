//! Promise: the coverage a plan promises, checked and calibrated on the office's own
//! past sessions.
//!
//! The model keeps each held-out session of its rolling origin as its cells' forecast
//! and outcome ([`crate::model::Replay`]): each was forecast from the sessions before it
//! only. For the capacity and targets asked for, the plan rule is replayed on every one
//! of those sessions with the cells' widening (their variance beyond independent
//! candidates) scaled by a multiplier, and the realised coverage of each replayed plan
//! is read off what the session really had. The multiplier kept is the smallest whose
//! replayed plans reach the target on average: a conformal step on the widening, not a
//! new model. Where the model is wrong in a way its own drift did not see (an académie
//! unlike any it was designed on), the widening grows until the plan would have kept its
//! promise on this académie's past; it never narrows below the model's own widening
//! (see [`GRID`]). The reserve target gets a multiplier of its own, the firm plan fixed.
//! Each replayed session is widened by the drift estimated from the other held-out
//! sessions, never by one it helped estimate.
//!
//! Widening keeps every cell's mean, so it cannot reach a cell of one or two candidates
//! whose probabilities are too low (its expected uncovered orals are its expectation
//! however spread): where no multiplier reaches the target on the past sessions, the
//! plan keeps the model's own widening and aims at a tighter expected coverage instead,
//! the loosest of [`TIGHTENING`] that reaches it.
//!
//! With fewer than [`MIN_SESSIONS`] replayed sessions the promise cannot be checked:
//! the model's own widening is kept, and the outputs say so.

use std::cell::RefCell;

use crate::data::{CellKey, Dataset, Slot, SlotKind};
use crate::forecast::{CountDist, Counted, ForecastCell, Widening};
use crate::model::{Model, Replay, ReplayCell};
use crate::parallel;
use crate::planning::{self, Plan, PlanOptions};

/// The fewest replayed sessions a calibration is made on: one session says too little
/// of the next.
pub(crate) const MIN_SESSIONS: usize = 2;

/// The multipliers tried, smallest first; between the last that fails and the first
/// that reaches the target a bisection refines it. The smallest is 1, the model's own
/// widening: the replayed sessions are two or three, and a widening narrowed on so few
/// to where they just reach the target on average would fall short on the next session
/// about as often as not. Calibration only widens where the past shows the model's
/// widening too narrow.
const GRID: [f64; 13] = [
    1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.5, 8.0, 10.0, 13.0, 16.0,
];
const REFINE_STEPS: usize = 4;

/// How far below the target one replayed session may fall while the average reaches
/// it: half a point (99.0% for the default 99.5%). An average over two or three
/// sessions can hide one session far short, and an office judges the tool by its worst
/// July, not by its mean.
const FLOOR: f64 = 0.005;

/// What one replayed plan would have achieved on its session.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct Replayed {
    pub(crate) session: i32,
    /// Orals the session really had.
    pub(crate) orals: usize,
    pub(crate) examiners: usize,
    pub(crate) reserve: usize,
    /// Share of those orals the firm examiners would have heard.
    pub(crate) coverage: f64,
    /// With every reserve called.
    pub(crate) coverage_with_reserve: f64,
}

/// Whether the promise could be calibrated, and if not why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Outcome {
    /// The multipliers are the smallest reaching both targets on average.
    Calibrated,
    /// Even the widest multiplier tried falls short on the replayed sessions: it is
    /// used, and the promise is said not to hold.
    Unreachable,
    /// Fewer than [`MIN_SESSIONS`] sessions were held out at train time.
    TooFew(usize),
    /// The model was trained by an earlier bacpredict, which kept no held-out session
    /// to replay (format 2): retraining makes the check.
    NotKept,
    /// The history's cells are by another slot unit than this forecast's (a half-day
    /// history cannot be replayed by day).
    OtherSlots { history: String },
}

/// The widening multipliers a forecast uses and what they would have achieved.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct Promise {
    /// Multiplies the cells' widening for the firm plan (1 = the model's own).
    #[serde(rename = "firm_multiplier")]
    pub(crate) firm: f64,
    /// Multiplies it for the reserve.
    #[serde(rename = "reserve_multiplier")]
    pub(crate) reserve: f64,
    pub(crate) outcome: Outcome,
    /// Each replayed session under the chosen multipliers (empty unless calibrated or
    /// unreachable).
    pub(crate) sessions: Vec<Replayed>,
    /// The same under the model's own widening, for comparison.
    pub(crate) uncalibrated: Vec<Replayed>,
    /// The expected coverage the firm plan aims at under the calibrated widening: the
    /// target asked for, or higher where no widening reaches it on the past sessions.
    pub(crate) plan_coverage: f64,
    /// The same for the reserve.
    pub(crate) plan_reserve_coverage: f64,
    /// Whether either target was raised above what was asked.
    pub(crate) tightened: bool,
}

impl Promise {
    /// The model's own widening and the targets asked for, unchecked.
    fn unchecked(outcome: Outcome, opts: &PlanOptions) -> Promise {
        Promise {
            firm: 1.0,
            reserve: 1.0,
            outcome,
            sessions: Vec::new(),
            uncalibrated: Vec::new(),
            plan_coverage: opts.coverage,
            plan_reserve_coverage: opts.reserve_coverage,
            tightened: false,
        }
    }

    /// `opts` with the targets the plan aims at to keep the promise.
    pub(crate) fn plan_options(&self, opts: &PlanOptions) -> PlanOptions {
        PlanOptions {
            coverage: self.plan_coverage,
            reserve_coverage: self.plan_reserve_coverage,
            ..opts.clone()
        }
    }

    /// Whether the replayed sessions back the promise.
    pub(crate) fn checked(&self) -> bool {
        matches!(self.outcome, Outcome::Calibrated | Outcome::Unreachable)
    }

    /// The mean replayed coverage, firm and with every reserve called.
    #[cfg(test)]
    pub(crate) fn replayed_coverage(&self) -> Option<(f64, f64)> {
        (!self.sessions.is_empty()).then(|| {
            (
                mean(self.sessions.iter().map(|r| r.coverage)),
                mean(self.sessions.iter().map(|r| r.coverage_with_reserve)),
            )
        })
    }
}

fn mean(xs: impl ExactSizeIterator<Item = f64>) -> f64 {
    let n = xs.len().max(1) as f64;
    xs.sum::<f64>() / n
}

/// The multipliers for a plan of `opts` by cells of `kind`, calibrated on `model`'s
/// replayed sessions.
pub(crate) fn calibrate(model: &Model, opts: &PlanOptions, kind: SlotKind) -> Promise {
    match sessions_for(model, kind) {
        Ok(sessions) => {
            let codes = model.subjects.iter().map(|s| s.code.clone()).collect();
            calibrate_on(codes, &sessions, opts)
        }
        Err(outcome) => Promise::unchecked(outcome, opts),
    }
}

/// A replayed session: its year, its cells (their subjects numbered as the model's) and
/// the widening estimated without it.
type Past<'a> = (i32, &'a [ReplayCell], Widening);

/// [`calibrate`] on `sessions`, their subjects' codes `subjects`.
fn calibrate_on(subjects: Vec<String>, sessions: &[Past<'_>], opts: &PlanOptions) -> Promise {
    let replay = Replayer::new(subjects, sessions);
    let mut plan = opts.clone();
    let mut reached = true;
    // A per-cell service level is not a coverage target: only the reserve is calibrated.
    let firm = if opts.service_level.is_some() {
        1.0
    } else {
        let widened = smallest(|k| replay.reaches(&plan, k, k, |r| r.coverage, opts.coverage));
        widened.unwrap_or_else(|| {
            let aim = |t: f64| PlanOptions {
                coverage: t,
                reserve_coverage: opts.reserve_coverage.max(t),
                ..opts.clone()
            };
            let t = tighter(opts.coverage, |t| {
                replay.reaches(&aim(t), 1.0, 1.0, |r| r.coverage, opts.coverage)
            });
            reached &= t.is_some();
            plan = aim(t.unwrap_or_else(|| tightest(opts.coverage)));
            1.0
        })
    };
    let reserve_reaches = |p: &PlanOptions, k: f64| {
        replay.reaches(
            p,
            firm,
            k,
            |r| r.coverage_with_reserve,
            opts.reserve_coverage,
        )
    };
    let reserve = smallest(|k| reserve_reaches(&plan, k)).unwrap_or_else(|| {
        let aim = |t: f64| PlanOptions {
            reserve_coverage: t,
            ..plan.clone()
        };
        let t = tighter(plan.reserve_coverage, |t| reserve_reaches(&aim(t), 1.0));
        reached &= t.is_some();
        plan = aim(t.unwrap_or_else(|| tightest(plan.reserve_coverage)));
        1.0
    });
    Promise {
        firm,
        reserve,
        outcome: if reached {
            Outcome::Calibrated
        } else {
            Outcome::Unreachable
        },
        sessions: replay.all(&plan, firm, reserve),
        uncalibrated: replay.all(opts, 1.0, 1.0),
        plan_coverage: plan.coverage,
        plan_reserve_coverage: plan.reserve_coverage,
        tightened: (plan.coverage, plan.reserve_coverage) != (opts.coverage, opts.reserve_coverage),
    }
}

/// Shares of the uncovered orals a target allows that a tightened target keeps, the
/// loosest first: where no widening is enough (the small cells, whose expected
/// uncovered orals are their expectation whatever the spread, since the widening keeps
/// the mean), the plan aims higher under the model's own widening instead. A tighter
/// target adds examiners to the same plan (the marginal rule continues), so the
/// replayed coverage only grows along this list.
const TIGHTENING: [f64; 6] = [0.8, 0.6, 0.45, 0.3, 0.2, 0.1];

/// The loosest tightening of `target` for which `reaches` holds.
fn tighter(target: f64, reaches: impl Fn(f64) -> bool) -> Option<f64> {
    TIGHTENING
        .iter()
        .map(|m| 1.0 - (1.0 - target) * m)
        .find(|&t| reaches(t))
}

fn tightest(target: f64) -> f64 {
    1.0 - (1.0 - target) * TIGHTENING[TIGHTENING.len() - 1]
}

/// The replayed sessions whose cells a plan by `kind` replays on, or why there are none
/// to calibrate on.
fn sessions_for(model: &Model, kind: SlotKind) -> Result<Vec<Past<'_>>, Outcome> {
    let n = model.replays.len();
    let validated = model
        .training
        .selection
        .as_ref()
        .map_or(0, |s| s.validated_on.len());
    if n == 0 && validated >= MIN_SESSIONS {
        return Err(Outcome::NotKept);
    }
    if n < MIN_SESSIONS {
        return Err(Outcome::TooFew(n));
    }
    model
        .replays
        .iter()
        .map(|r: &Replay| {
            let widening = Widening::of_drift(&r.drift, model.subjects.len());
            if r.slots == kind.code() {
                Ok((r.session, &r.cells[..], widening))
            } else if kind == SlotKind::Period && !r.period.is_empty() {
                Ok((r.session, &r.period[..], widening))
            } else {
                Err(Outcome::OtherSlots {
                    history: r.slots.clone(),
                })
            }
        })
        .collect()
}

/// The smallest multiplier of [`GRID`] for which `reaches` holds, refined by bisection
/// towards the largest that fails; `None` if none does.
fn smallest(reaches: impl Fn(f64) -> bool) -> Option<f64> {
    let i = GRID.iter().position(|&k| reaches(k))?;
    if i == 0 {
        return Some(GRID[0]);
    }
    let (mut lo, mut hi) = (GRID[i - 1], GRID[i]);
    for _ in 0..REFINE_STEPS {
        let mid = 0.5 * (lo + hi);
        if reaches(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi)
}

/// The replayed sessions ready to be planned at any multiplier.
struct Replayer {
    /// Replays already made, by their plan targets and multipliers: the search asks for
    /// the same one several times (the firm check, the reserve's, the result and the
    /// comparison are one replay when nothing needs widening).
    made: RefCell<Vec<([u64; 4], Vec<Replayed>)>>,
    /// The model's subjects by code, as the plan's capacities are keyed.
    names: Dataset,
    sessions: Vec<(i32, Vec<PastCell>, Widening)>,
}

/// One replayed cell: pseudo-probabilities with its expectation and variance, its
/// subject and the orals it had.
struct PastCell {
    ps: Vec<f64>,
    subject: u32,
    actual: usize,
}

impl Replayer {
    fn new(subjects: Vec<String>, sessions: &[Past<'_>]) -> Self {
        let names = Dataset {
            subjects,
            ..Dataset::default()
        };
        let sessions = sessions
            .iter()
            .map(|(year, cells, widening)| {
                let cells = cells
                    .iter()
                    .map(|c| PastCell {
                        ps: pseudo_probabilities(c),
                        subject: c.subject,
                        actual: c.actual as usize,
                    })
                    .collect();
                (*year, cells, widening.clone())
            })
            .collect();
        Replayer {
            made: RefCell::new(Vec::new()),
            names,
            sessions,
        }
    }

    /// The cells of one session widened by `widening` times `k`, keyed by their place
    /// in the session.
    fn cells(cells: &[PastCell], widening: &Widening, k: f64) -> Vec<ForecastCell> {
        let widening = widening.scaled(k);
        let items: Vec<(usize, &PastCell)> = cells.iter().enumerate().collect();
        parallel::par_map(items, |&(i, c)| {
            let expected: f64 = c.ps.iter().sum();
            Counted {
                key: CellKey {
                    center: i as u32,
                    subject: c.subject,
                    slot: Slot::PERIOD,
                },
                eligible: c.ps.len(),
                dist: CountDist::with_drift(&c.ps, widening.cell(c.subject as usize, expected)),
                shared: None,
            }
        })
    }

    /// Every session replayed by the plan rule of `opts`: the firm plan at multiplier
    /// `firm`, the reserve at `reserve`.
    fn all(&self, opts: &PlanOptions, firm: f64, reserve: f64) -> Vec<Replayed> {
        let key = [opts.coverage, opts.reserve_coverage, firm, reserve].map(f64::to_bits);
        if let Some((_, r)) = self.made.borrow().iter().find(|(k, _)| *k == key) {
            return r.clone();
        }
        let replayed = self.replay(opts, firm, reserve);
        self.made.borrow_mut().push((key, replayed.clone()));
        replayed
    }

    fn replay(&self, opts: &PlanOptions, firm: f64, reserve: f64) -> Vec<Replayed> {
        self.sessions
            .iter()
            .map(|(year, cells, widening)| {
                let fc = Self::cells(cells, widening, firm);
                let plan = if reserve == firm {
                    planning::plan(&fc, opts, &self.names)
                } else {
                    let rc = Self::cells(cells, widening, reserve);
                    planning::plan_with_reserve(&fc, &rc, opts, &self.names)
                };
                realised(*year, &plan, cells)
            })
            .collect()
    }

    /// Whether the sessions replayed by `opts` at `firm` and `reserve` reach `target`
    /// on average,
    /// each of them no further below it than [`FLOOR`].
    fn reaches(
        &self,
        opts: &PlanOptions,
        firm: f64,
        reserve: f64,
        what: fn(&Replayed) -> f64,
        target: f64,
    ) -> bool {
        let all: Vec<f64> = self.all(opts, firm, reserve).iter().map(what).collect();
        mean(all.iter().copied()) >= target - 1e-12
            && all.iter().all(|&c| c >= target - FLOOR - 1e-12)
    }
}

/// What `plan` would have heard of the orals the session had.
fn realised(session: i32, plan: &Plan, cells: &[PastCell]) -> Replayed {
    let (mut orals, mut firm, mut all) = (0, 0, 0);
    for (p, c) in plan.cells.iter().zip(cells) {
        orals += c.actual;
        firm += c.actual.min(p.examiners * p.capacity);
        all += c.actual.min((p.examiners + p.reserve) * p.capacity);
    }
    let share = |x: usize| {
        if orals > 0 {
            x as f64 / orals as f64
        } else {
            1.0
        }
    };
    Replayed {
        session,
        orals,
        examiners: plan.examiners,
        reserve: plan.reserve,
        coverage: share(firm),
        coverage_with_reserve: share(all),
    }
}

/// Probabilities with the cell's number of candidates, expectation and variance: half
/// of them above the mean and half below by the spread that the variance leaves (one at
/// the mean when the number is odd). The count's distribution depends on the
/// probabilities through little more than these two moments.
fn pseudo_probabilities(c: &ReplayCell) -> Vec<f64> {
    let n = c.eligible as usize;
    if n == 0 {
        return Vec::new();
    }
    let nf = n as f64;
    let mean = (c.expected / nf).clamp(0.0, 1.0);
    // The squared deviations from the mean sum to `e - v - e^2 / n`; they are shared
    // by the candidates set off the mean (all but one when the number is odd).
    let squares = (c.expected - c.variance - c.expected * c.expected / nf).max(0.0);
    let off = (n - n % 2).max(1) as f64;
    let d = (squares / off).sqrt().min(mean).min(1.0 - mean);
    (0..n)
        .map(|i| {
            if n % 2 == 1 && i == n - 1 {
                mean
            } else if i % 2 == 0 {
                mean + d
            } else {
                mean - d
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Binomial, Distribution, StandardNormal};

    use super::*;
    use crate::model::{FitOptions, HalfLife, Priors};

    /// `sessions` sessions of `cells` cells, each of 20 candidates at 0.05 to 0.6 (about
    /// 1 to 12 orals), whose counts are drawn binomial with the probability scaled by a
    /// lognormal factor of mean 1 and relative variance `truth`, as the forecast widens
    /// one ([`CountDist::with_drift`]).
    fn synthetic(seed: u64, sessions: usize, cells: usize, truth: f64) -> Vec<Vec<ReplayCell>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let s2 = (1.0 + truth).ln();
        (0..sessions)
            .map(|_| {
                (0..cells)
                    .map(|i| {
                        let p = 0.05 + 0.55 * (i % 12) as f64 / 11.0;
                        let e = 20.0 * p;
                        let z: f64 = StandardNormal.sample(&mut rng);
                        let q = (p * (-0.5 * s2 + s2.sqrt() * z).exp()).min(1.0);
                        let a = Binomial::new(20, q).unwrap().sample(&mut rng) as u32;
                        ReplayCell {
                            subject: 0,
                            eligible: 20,
                            expected: e,
                            variance: 20.0 * p * (1.0 - p),
                            actual: a.min(20),
                        }
                    })
                    .collect()
            })
            .collect()
    }

    fn calibrated(model_rel_var: f64, data: &[Vec<ReplayCell>]) -> Promise {
        let widening = Widening {
            subject: vec![model_rel_var],
            cell_rel: 0.0,
            cell_linear: 0.0,
        };
        let sessions: Vec<Past<'_>> = data
            .iter()
            .enumerate()
            .map(|(k, c)| (2020 + k as i32, &c[..], widening.clone()))
            .collect();
        let opts = PlanOptions {
            capacity: 4,
            ..PlanOptions::default()
        };
        calibrate_on(vec!["X".into()], &sessions, &opts)
    }

    /// Counts three times as spread as the model's widening says: the multiplier found
    /// is near 3, and the replayed plans reach the target.
    #[test]
    fn recovers_a_known_widening_on_synthetic_counts() {
        let data = synthetic(7, 6, 1500, 0.3);
        let p = calibrated(0.1, &data);
        assert_eq!(p.outcome, Outcome::Calibrated);
        assert!((2.0..=4.5).contains(&p.firm), "firm multiplier {}", p.firm);
        eprintln!("multiplier found {} for 3", p.firm);
        let (firm, _) = p.replayed_coverage().unwrap();
        assert!(firm >= 0.995, "{firm}");
        // The model's own widening falls short on the same sessions.
        assert!(own_coverage(&p) < 0.995, "{}", own_coverage(&p));
        assert!(!p.tightened);
    }

    /// Counts narrower than the model says: the multiplier stays 1, the model's own
    /// widening, never below. As wide as it says: 1 or a step above, as the replayed
    /// sessions' luck has it.
    #[test]
    fn never_narrows_below_the_models_own_widening() {
        for truth in [0.0, 0.03] {
            let data = synthetic(8, 4, 1000, truth);
            let p = calibrated(0.1, &data);
            assert_eq!((p.firm, p.reserve), (1.0, 1.0), "{truth}");
            assert_eq!(p.outcome, Outcome::Calibrated);
        }
        let p = calibrated(0.1, &synthetic(8, 4, 1000, 0.1));
        assert!((1.0..1.5).contains(&p.firm), "{}", p.firm);
    }

    /// Lone candidates the model gives 0.02 who take the oral one time in five: no
    /// widening can reach them (a lone candidate's count is fixed by its mean, which the
    /// widening keeps), so the plan aims higher instead, and the past sessions are then
    /// covered.
    #[test]
    fn where_no_widening_is_enough_the_target_is_tightened() {
        let mut rng = ChaCha8Rng::seed_from_u64(10);
        let data: Vec<Vec<ReplayCell>> = (0..3)
            .map(|_| {
                (0..2000)
                    .map(|i| {
                        let (p, truth) = if i % 2 == 0 { (0.02, 0.2) } else { (0.5, 0.5) };
                        let actual = u32::from(rand::Rng::random_bool(&mut rng, truth));
                        ReplayCell {
                            subject: 0,
                            eligible: 1,
                            expected: p,
                            variance: p * (1.0 - p),
                            actual,
                        }
                    })
                    .collect()
            })
            .collect();
        let p = calibrated(0.1, &data);
        assert!(own_coverage(&p) < 0.98, "{}", own_coverage(&p));
        assert_eq!(
            (p.firm, p.outcome.clone(), p.tightened),
            (1.0, Outcome::Calibrated, true)
        );
        assert!(p.plan_coverage > 0.995, "{}", p.plan_coverage);
        let (firm, _) = p.replayed_coverage().unwrap();
        assert!(firm >= 0.995, "{firm}");
    }

    fn own_coverage(p: &Promise) -> f64 {
        mean(p.uncalibrated.iter().map(|r| r.coverage))
    }

    fn sample_history() -> Dataset {
        let path = std::path::PathBuf::from("data/sample/history.csv");
        crate::input::read_files(&[path], &crate::input::ReadOptions::default()).unwrap()
    }

    /// The settings fixed, so that a replay depends on its own origin's fit alone.
    fn fixed() -> FitOptions {
        FitOptions {
            half_life: HalfLife::Fixed(2.0),
            priors: Priors::Fixed,
            ..FitOptions::default()
        }
    }

    /// Each replayed session was forecast from the sessions before it only: adding a
    /// later session to the history leaves the earlier replays' forecasts as they were,
    /// and a backtest's promise rests on sessions before the one it replays.
    #[test]
    fn the_replay_uses_no_session_at_or_after_the_one_it_forecasts() {
        let all = sample_history();
        let upto = |last: i32| all.filter_sessions(|s| s <= last);
        let four = crate::model::train(&upto(2024), &fixed()).unwrap();
        let five = crate::model::train(&all, &fixed()).unwrap();
        let years = |m: &Model| m.replays.iter().map(|r| r.session).collect::<Vec<_>>();
        assert_eq!(years(&four), [2023, 2024]);
        assert_eq!(years(&five), [2023, 2024, 2025]);
        // The forecasts and outcomes are the same; the widening each is judged with
        // comes from the other held-out sessions (never its own), so it moves.
        for (a, b) in four.replays.iter().zip(&five.replays) {
            assert_eq!(
                (a.session, &a.cells, &a.period),
                (b.session, &b.cells, &b.period)
            );
        }
        // What the backtest of 2025 calibrates on: its model's replays, 2023 and 2024.
        let opts = PlanOptions::default();
        let p = calibrate(&four, &opts, SlotKind::HalfDay);
        assert!(p.checked(), "{:?}", p.outcome);
        assert!(
            p.sessions.iter().all(|r| r.session < 2025),
            "{:?}",
            p.sessions
        );
        // A session's orals are the session's own.
        let orals = |year: i32| {
            let d = all.filter_sessions(|s| s == year);
            d.candidates
                .iter()
                .map(|c| c.n_chosen().unwrap_or(0))
                .sum::<usize>()
        };
        for r in &p.sessions {
            assert_eq!(r.orals, orals(r.session));
        }
    }

    #[test]
    fn one_held_out_session_cannot_check_the_promise() {
        let three = sample_history().filter_sessions(|s| s <= 2023);
        let model = crate::model::train(&three, &fixed()).unwrap();
        assert_eq!(model.replays.len(), 1);
        let p = calibrate(&model, &PlanOptions::default(), SlotKind::HalfDay);
        assert_eq!(
            (p.firm, p.reserve, p.outcome),
            (1.0, 1.0, Outcome::TooFew(1))
        );
        // Cells by half-day cannot be replayed by day; by the whole period they can.
        let five = crate::model::train(&sample_history(), &fixed()).unwrap();
        let by_day = calibrate(&five, &PlanOptions::default(), SlotKind::Day);
        assert!(matches!(by_day.outcome, Outcome::OtherSlots { .. }));
        assert!(calibrate(&five, &PlanOptions::default(), SlotKind::Period).checked());
    }

    /// Pseudo-probabilities keep the cell's expectation and variance.
    #[test]
    fn pseudo_probabilities_keep_both_moments() {
        let ps = [0.1, 0.7, 0.35, 0.9, 0.05];
        let e: f64 = ps.iter().sum();
        let v: f64 = ps.iter().map(|p| p * (1.0 - p)).sum();
        let c = ReplayCell {
            subject: 0,
            eligible: 5,
            expected: e,
            variance: v,
            actual: 1,
        };
        let q = pseudo_probabilities(&c);
        let e2: f64 = q.iter().sum();
        let v2: f64 = q.iter().map(|p| p * (1.0 - p)).sum();
        assert!((e - e2).abs() < 1e-12 && (v - v2).abs() < 1e-12, "{q:?}");
    }
}
