//! Select: the settings that are not learnt by the fits themselves (how fast old
//! sessions are forgotten, how far centres and tracks may depart from the académie) are
//! chosen on the office's own history, by rolling origin: each candidate setting is
//! fitted on the sessions before each held-out session and judged by the log-loss of
//! that session's choices, which it did not see.
//!
//! The search is coordinatewise, to keep a national training within seconds: first the
//! half-life at the starting slope prior, then the slope prior at the chosen half-life,
//! then a class of candidates who choose by marks alone ([`mixture`](super::mixture)),
//! then subject trends, subject random walks and (centre, subject) effects
//! ([`local`](super::local)), which need no refit.
//! A setting replaces the best so far only if it beats it by more than one standard
//! error of the paired difference (per held-out candidate), the "one standard error"
//! rule: the settings are tried from the plainest (every session alike, no centre
//! effects) to the boldest, and noise alone does not buy a bolder one. What was tried,
//! its score and what was chosen go into the model file.

use super::fits::{session_weights, Fits};
use super::mixture::ClassData;
use super::{local, mixture};
use super::{
    FitOptions, HalfLife, Model, ModelError, Priors, Rule, RuleClass, Selection, Setting, Trial,
};
use crate::data::Sessions;
use crate::numeric::{bernoulli_loss, LOSS_CLIP};
use crate::parallel;

/// Half-lives tried, in sessions (`None`: every session weighs the same). One session
/// forgets fast (a session three years old weighs 1/8), two slowly; with the four or
/// five sessions an office keeps, longer ones are hardly different from `None`.
const HALF_LIVES: [Option<f64>; 3] = [None, Some(2.0), Some(1.0)];
/// Slope priors tried beside the starting one (logit scale), the looser only if the
/// tighter lost: tighter keeps small centres on the académie's behaviour, looser lets
/// centres that advise differently keep their own.
const SLOPE_SDS: [f64; 2] = [0.25, 1.0];
/// Prior standard deviations of subject trends tried, per session (logit scale): from
/// a drift of a few percent a session to one of a fifth.
const TREND_SDS: [f64; 3] = [0.05, 0.1, 0.2];
/// Steps of a subject's random walk tried, per session (logit scale), after the trends
/// (a walk replaces a trend; it does not add to one).
const WALK_SDS: [f64; 3] = [0.05, 0.1, 0.2];
/// Prior strengths of the (centre, subject) effects tried, in orals (after `None`, no
/// effect): from a centre's counts weighing little against the model to weighing much.
const CENTER_SUBJECT: [f64; 4] = [30.0, 10.0, 3.0, 1.0];

/// A setting's models at each validation origin, their raw parameters, and its score.
pub(crate) struct Scored {
    pub(crate) opts: Setting,
    pub(crate) models: Vec<Model>,
    pub(crate) thetas: Vec<Vec<f64>>,
    pub(crate) log_loss: f64,
    /// Log-loss summed per held-out candidate, for the paired comparison.
    losses: Vec<f64>,
}

impl Scored {
    /// A setting's models at the origins, scored on the sessions each held out.
    fn of(
        opts: Setting,
        models: Vec<Model>,
        thetas: Vec<Vec<f64>>,
        held_out: &[Sessions<'_>],
    ) -> Scored {
        let (mut losses, mut rows) = (Vec::new(), 0);
        for (m, test) in models.iter().zip(held_out) {
            let (each, n) = log_loss(m, *test);
            losses.extend(each);
            rows += n;
        }
        Scored {
            opts,
            models,
            thetas,
            log_loss: losses.iter().sum::<f64>() / rows.max(1) as f64,
            losses,
        }
    }

    /// Whether `self` beats `best` by more than one standard error of the paired
    /// difference of their held-out log-losses.
    fn beats(&self, best: &Scored) -> bool {
        let n = self.losses.len();
        if n != best.losses.len() || n < 2 {
            return self.log_loss < best.log_loss;
        }
        let d: Vec<f64> = self
            .losses
            .iter()
            .zip(&best.losses)
            .map(|(a, b)| a - b)
            .collect();
        let mean = d.iter().sum::<f64>() / n as f64;
        let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        // The total difference against its standard error (both summed over candidates).
        mean * (n as f64) < -(var * n as f64).sqrt()
    }
}

/// The search so far: the best setting, its index among the trials, every trial.
struct Search {
    best: Scored,
    chosen: usize,
    trials: Vec<Trial>,
}

impl Search {
    /// Records `s` and keeps it if it beats the best; whether it did.
    fn offer(&mut self, s: Scored) -> bool {
        self.trials.push(trial(&s));
        let won = s.beats(&self.best);
        if won {
            self.best = s;
            self.chosen = self.trials.len() - 1;
        }
        won
    }

    /// The best setting's options with one change.
    fn with(&self, change: impl FnOnce(&mut Setting)) -> Setting {
        let mut o = self.best.opts.clone();
        change(&mut o);
        o
    }
}

/// Tries the settings on the first `held_out.len()` parts of `fits` and returns the
/// chosen one with the record of the search.
pub(crate) fn choose(
    fits: &mut Fits<'_>,
    held_out: &[Sessions<'_>],
    opts: &FitOptions,
) -> Result<(Scored, Selection), ModelError> {
    let first = Setting {
        half_life: match opts.half_life {
            HalfLife::Choose => HALF_LIVES[0],
            HalfLife::Fixed(_) => opts.start().half_life,
        },
        ..opts.start()
    };
    let best = score(fits, held_out, first, None)?;
    let mut search = Search {
        trials: vec![trial(&best)],
        best,
        chosen: 0,
    };
    // Along each coordinate, the next value is tried only if the one before it lost:
    // a shorter half-life after a short one that did not help, a looser prior after a
    // tighter one that did, would hardly win, and each costs a fit per origin.
    if opts.half_life == HalfLife::Choose {
        for &h in &HALF_LIVES[1..] {
            let o = search.with(|o| o.half_life = h);
            let s = score(fits, held_out, o, Some(&search.best.thetas))?;
            if !search.offer(s) {
                break;
            }
        }
    }
    if opts.priors == Priors::Choose {
        for &sd in &SLOPE_SDS {
            let o = search.with(|o| o.slope_sd = sd);
            let s = score(fits, held_out, o, Some(&search.best.thetas))?;
            if search.offer(s) {
                break;
            }
        }
        with_rule_class(fits, held_out, &mut search)?;
        with_offsets(fits, held_out, &mut search);
    }
    let selection = Selection {
        validated_on: held_out
            .iter()
            .filter_map(|h| h.candidates.first().map(|c| c.session))
            .collect(),
        trials: search.trials,
        chosen: search.chosen,
    };
    Ok((search.best, selection))
}

/// Tries the best setting with a class of candidates choosing by a rule of their marks
/// ([`mixture`]).
///
/// The rules are screened on the mixtures before their logit is refitted (the class
/// estimated with the logit held fixed), the stated ones first and the learnt one from
/// the better of them, each kept only if it beats the one before by one standard error;
/// then only the rule kept is refitted and offered to the search. Refitting every rule
/// cost a full fit of the subject model per rule and origin, the most expensive step of
/// the search.
fn with_rule_class(
    fits: &mut Fits<'_>,
    held_out: &[Sessions<'_>],
    search: &mut Search,
) -> Result<(), ModelError> {
    let parts = 0..held_out.len();
    let base = (search.best.models.clone(), search.best.thetas.clone());
    // The rules differ in the class only: one sample per origin serves all three.
    let data: Vec<ClassData> = parts
        .clone()
        .map(|i| ClassData::sample(fits, i, &search.best.opts, &base.0[i]))
        .collect();
    let screen = |rule: Rule, from: &dyn Fn(usize) -> RuleClass| {
        let opts = search.with(|o| {
            o.rule_class = true;
            o.rule = rule;
        });
        let models: Vec<Model> = parts
            .clone()
            .map(|i| {
                let mut m = base.0[i].clone();
                m.choice.rule = Some(mixture::em(&data[i], from(i)));
                m
            })
            .collect();
        Scored::of(opts, models, base.1.clone(), held_out)
    };
    let mut kept = screen(Rule::LowestMark, &|_| mixture::start(Rule::LowestMark));
    let points = screen(Rule::MostPoints, &|_| mixture::start(Rule::MostPoints));
    if points.beats(&kept) {
        kept = points;
    }
    let stated: Vec<RuleClass> = kept.models.iter().filter_map(|m| m.choice.rule).collect();
    let learnt = screen(Rule::Learnt, &|i| mixture::learnt_from(stated[i]));
    if learnt.beats(&kept) {
        kept = learnt;
    }
    let (mut models, mut thetas) = (Vec::new(), Vec::new());
    for (i, screened) in kept.models.iter().enumerate() {
        let rule = screened
            .choice
            .rule
            .expect("a screened mixture has its class");
        let (m, t) = mixture::refit(fits, i, &kept.opts, (&base.0[i], &base.1[i]), rule)?;
        models.push(m);
        thetas.push(t);
    }
    search.offer(Scored::of(kept.opts, models, thetas, held_out));
    Ok(())
}

/// Tries subject trends, then random walks, then (centre, subject) effects, on the best setting's models,
/// each strength in turn: both come from the models' in-sample counts and need no
/// refit.
fn with_offsets(fits: &Fits<'_>, held_out: &[Sessions<'_>], search: &mut Search) {
    let parts = 0..held_out.len();
    let counts: Vec<local::Counts> = parts
        .clone()
        .map(|i| local::counts(&search.best.models[i], fits.part(i)))
        .collect();
    let weights: Vec<_> = parts
        .map(|i| session_weights(fits.part(i), &search.best.opts))
        .collect();
    let set = |o: &Setting, m: &mut Model, i: usize| {
        local::set_offsets(m, &counts[i], &weights[i], o);
    };
    for sd in TREND_SDS {
        let opts = search.with(|o| o.trend_sd = Some(sd));
        search.offer(changed(held_out, opts, &search.best, set));
    }
    for sd in WALK_SDS {
        let opts = search.with(|o| {
            o.trend_sd = None;
            o.walk_sd = Some(sd);
        });
        search.offer(changed(held_out, opts, &search.best, set));
    }
    for k in CENTER_SUBJECT {
        let opts = search.with(|o| o.center_subject = Some(k));
        search.offer(changed(held_out, opts, &search.best, set));
    }
}

/// `best`'s models changed by `set` under `opts`, scored.
fn changed(
    held_out: &[Sessions<'_>],
    opts: Setting,
    best: &Scored,
    set: impl Fn(&Setting, &mut Model, usize),
) -> Scored {
    let mut models = best.models.clone();
    for (i, m) in models.iter_mut().enumerate() {
        set(&opts, m, i);
        m.training.options.setting = opts.clone();
    }
    Scored::of(opts, models, best.thetas.clone(), held_out)
}

fn trial(s: &Scored) -> Trial {
    Trial {
        half_life: s.opts.half_life,
        slope_sd: s.opts.slope_sd,
        rule_class: s.opts.rule_class,
        rule: s.opts.rule,
        trend_sd: s.opts.trend_sd,
        walk_sd: s.opts.walk_sd,
        center_subject: s.opts.center_subject,
        relative_marks: s.opts.relative_marks,
        log_loss: s.log_loss,
    }
}

/// Fits `opts` at every origin (each fit from `warm`'s at the same origin, else from the
/// previous origin's) and scores it on the held-out sessions.
fn score(
    fits: &mut Fits<'_>,
    held_out: &[Sessions<'_>],
    opts: Setting,
    warm: Option<&Vec<Vec<f64>>>,
) -> Result<Scored, ModelError> {
    let mut models = Vec::new();
    let mut thetas: Vec<Vec<f64>> = Vec::new();
    for i in 0..held_out.len() {
        let init = warm.map(|w| &w[i]).or(thetas.last());
        let (model, theta) = fits.fit(i, &opts, init.map(|t| t.as_slice()))?;
        models.push(model);
        thetas.push(theta);
    }
    Ok(Scored::of(opts, models, thetas, held_out))
}

/// Part `i`'s model with every structure of `opts`, as the final fit makes it: the
/// fit, the class by marks, then subject trends and (centre, subject) effects.
pub(crate) fn refit(
    fits: &mut Fits<'_>,
    i: usize,
    opts: &Setting,
    init: Option<&[f64]>,
) -> Result<(Model, Vec<f64>), ModelError> {
    let (mut model, theta) = fits.fit(i, opts, init)?;
    if opts.rule_class {
        let rule = mixture::class_from_start(fits, i, opts, &model);
        (model, _) = mixture::refit(fits, i, opts, (&model, &theta), rule)?;
    }
    if opts.center_subject.is_some() || opts.trend_sd.is_some() || opts.walk_sd.is_some() {
        let part = fits.part(i);
        let weights = session_weights(part, opts);
        let counts = local::counts(&model, part);
        local::set_offsets(&mut model, &counts, &weights, opts);
    }
    Ok((model, theta))
}

/// `opts` refitted with all its structures at every origin of `fits` (another reading
/// of the same history), each from `warm`'s parameters at that origin, and scored.
pub(crate) fn rescore(
    fits: &mut Fits<'_>,
    held_out: &[Sessions<'_>],
    opts: &Setting,
    warm: &Scored,
) -> Result<Scored, ModelError> {
    let (mut models, mut thetas) = (Vec::new(), Vec::new());
    for i in 0..held_out.len() {
        let (m, t) = refit(fits, i, opts, warm.thetas.get(i).map(|t| t.as_slice()))?;
        models.push(m);
        thetas.push(t);
    }
    Ok(Scored::of(opts.clone(), models, thetas, held_out))
}

/// Records `s` among `selection`'s trials and chooses it if it beats `best` by the
/// one-standard-error rule; whether it did.
pub(crate) fn offer(selection: &mut Selection, s: &Scored, best: &Scored) -> bool {
    selection.trials.push(trial(s));
    let won = s.beats(best);
    if won {
        selection.chosen = selection.trials.len() - 1;
    }
    won
}

/// The log-loss of `model`'s inclusion probabilities on `test`, summed per candidate,
/// and the number of candidate-subject rows; probabilities clamped to [1e-3, 1 - 1e-3]
/// as the backtest does.
pub(crate) fn log_loss(model: &Model, test: Sessions<'_>) -> (Vec<f64>, usize) {
    let map = model.mapping(test.names);
    let each = parallel::par_map(test.candidates.iter().collect(), |c| {
        let p = model.inclusion(c, &map);
        c.subjects
            .iter()
            .zip(p)
            .map(|(s, p)| bernoulli_loss(p, s.chosen == Some(true), LOSS_CLIP))
            .sum::<f64>()
    });
    let rows = test.candidates.iter().map(|c| c.subjects.len()).sum();
    (each, rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{read_files, ReadOptions};
    use crate::report::CsvStyle;
    use crate::simulate::{simulate, SimConfig, World};

    /// The half-life `train` chooses on a simulated history of five sessions of about
    /// 1,200 candidates, the priors left as they start. `steady`: one simulated session
    /// of 6,000 candidates dealt into five, so that nothing moves from one to the next;
    /// otherwise five sessions of `world`.
    fn chosen(world: World, steady: bool) -> Option<f64> {
        let sim = simulate(&SimConfig {
            seed: 11,
            sessions: if steady { 1 } else { 5 },
            candidates: if steady { 6000 } else { 1200 },
            centers: 10,
            forecast_session: false,
            world,
            ..SimConfig::default()
        });
        let mut text = String::from_utf8(sim.history.to_csv(CsvStyle::for_excel(false))).unwrap();
        if steady {
            text = deal_into_sessions(&text, 5);
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.csv");
        std::fs::write(&path, text).unwrap();
        let data = read_files(&[path], &ReadOptions::default()).unwrap();
        assert_eq!(data.sessions().len(), 5);
        let opts = FitOptions {
            priors: Priors::Fixed,
            ..FitOptions::default()
        };
        let model = crate::model::train(&data, &opts).unwrap();
        let sel = model
            .training
            .selection
            .expect("five sessions are validated");
        assert!(sel.trials.len() >= 2, "{:?}", sel.trials);
        model.training.options.setting.half_life
    }

    /// The rows of a one-session CSV (session first, candidate second) with the k-th
    /// candidate moved to session 2021 + k mod `n`.
    fn deal_into_sessions(text: &str, n: usize) -> String {
        let mut lines = text.lines();
        let mut out = format!("{}\n", lines.next().unwrap());
        let (mut k, mut last) = (0, String::new());
        for line in lines {
            let (_, rest) = line.split_once(',').unwrap();
            let id = rest.split(',').next().unwrap();
            if id != last {
                k += 1;
                last = id.to_string();
            }
            out.push_str(&format!("{},{rest}\n", 2021 + k % n));
        }
        out
    }

    /// The rule a class by marks follows is the data's: where a share of candidates
    /// retakes its lowest marks (`rules`), the class puts a French written at 7 before a
    /// spécialité at 9; where a share follows the official advice (`classes`, where the
    /// class advice of each session blurs it), the spécialité, which has more points to
    /// recover (16 x 11 against 5 x 13). Whether the rule is stated or learnt is the
    /// selection's business; the order of the two subjects is the behaviour.
    #[test]
    fn the_rule_class_follows_the_rule_the_data_show() {
        let prefers_the_low_mark = |world: World| {
            let sim = simulate(&SimConfig {
                seed: 1,
                sessions: 6,
                candidates: 1500,
                centers: 14,
                forecast_session: false,
                world,
                ..SimConfig::default()
            });
            let text = String::from_utf8(sim.history.to_csv(CsvStyle::for_excel(false))).unwrap();
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("history.csv");
            std::fs::write(&path, text).unwrap();
            let data = read_files(&[path], &ReadOptions::default()).unwrap();
            let model = crate::model::train(&data, &FitOptions::default()).unwrap();
            let class = model.choice.rule.expect("a class by marks in this world");
            let u = class.utilities(&two_subjects([(5.0, 7.0), (16.0, 9.0)]));
            u[0] > u[1]
        };
        assert!(prefers_the_low_mark(World::Rules));
        assert!(!prefers_the_low_mark(World::Classes));
    }

    /// A candidate with two subjects of (coefficient, mark).
    fn two_subjects(subjects: [(f64, f64); 2]) -> crate::data::Candidate {
        crate::data::Candidate {
            session: 2026,
            id: String::new(),
            center: 0,
            track: 0,
            average: 9.0,
            subjects: (0..)
                .zip(subjects)
                .map(|(j, (coefficient, grade))| crate::data::SubjectRow {
                    subject: j,
                    coefficient,
                    grade,
                    chosen: None,
                })
                .collect(),
            slot: crate::data::Slot::PERIOD,
        }
    }

    #[test]
    fn recency_is_short_when_tastes_trend_and_long_when_they_hold() {
        assert_eq!(chosen(World::Trend, false), Some(1.0));
        assert_eq!(chosen(World::Baseline, true), None);
    }
}
