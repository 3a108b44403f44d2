//! Train: the whole fit in order: the rolling-origin fits of past sessions (for the
//! drift), then the final fit, the subject and count chains side by side, and the
//! model assembled from them.

use std::collections::{BTreeMap, HashMap};

use super::choice::fit_choice;
use super::count::{fit_count, CountInputs};
use super::drift::{cell_variance, pooled, shrunk, tally, Tally};
use super::{local, mixture, select};
use super::{
    ChoiceModel, CountModel, Drift, FitOptions, Model, ModelError, SubjectInfo, TrainingInfo,
};
use crate::data::{Candidate, Dataset, Sessions};

pub(crate) fn sessions_of(candidates: &[Candidate]) -> BTreeMap<i32, usize> {
    let mut m = BTreeMap::new();
    for c in candidates {
        *m.entry(c.session).or_insert(0) += 1;
    }
    m
}

pub(crate) fn session_weights(data: Sessions<'_>, opts: &FitOptions) -> HashMap<i32, f64> {
    let last = data.candidates.iter().map(|c| c.session).max().unwrap_or(0);
    sessions_of(data.candidates)
        .keys()
        .map(|&s| {
            let w = match opts.half_life {
                Some(h) if h > 0.0 => 0.5f64.powf(f64::from(last - s) / h),
                _ => 1.0,
            };
            (s, w)
        })
        .collect()
}

/// Fits the model, then estimates how far whole subjects (and cells) move from one
/// session to the next beyond what independent candidates explain.
///
/// With two sessions or more, each session from the third on (the second with two
/// sessions) is first forecast from the sessions before it, as a real forecast would be
/// (rolling origin): those forecasts choose the settings ([`select`](super::select)),
/// and the chosen setting's forecasts give the drift, which so carries the model's own
/// out-of-sample error. Each fit starts from a nearby one's parameters, which saves most
/// of their cost. A single session keeps the starting settings, and its in-sample
/// residuals give the drift.
pub(crate) fn train(data: &Dataset, opts: &FitOptions) -> Result<Model, ModelError> {
    check_size(data)?;
    // [`Sessions`] needs the candidates in session order, as `input` leaves them.
    let sorted;
    let data = if data.candidates.is_sorted_by_key(|c| c.session) {
        data
    } else {
        let mut d = data.clone();
        d.candidates.sort_by_key(|c| c.session);
        sorted = d;
        &sorted
    };
    let sessions: Vec<i32> = data.sessions().keys().copied().collect();
    let all = Sessions::of(data, ..);
    // Two earlier sessions per held-out one where the history allows it: a model fitted
    // on a single session errs more than the final one will, and would overstate the
    // drift; with two sessions the second is all there is to hold out.
    let first_origin = if sessions.len() >= 3 { 2 } else { 1 };
    let model = if sessions.len() >= 2 {
        let origins = &sessions[first_origin..];
        let parts: Vec<Sessions> = origins
            .iter()
            .map(|&s| Sessions::of(data, ..s))
            .chain([all])
            .collect();
        let held_out: Vec<Sessions> = origins.iter().map(|&s| Sessions::of(data, s..=s)).collect();
        let mut fits = Fits::start(&parts, opts)?;
        let (best, selection) = select::choose(&mut fits, &held_out, opts)?;
        let init = best.thetas.last().map(|t| t.as_slice());
        let last = origins.len();
        let (mut model, theta) = fits.fit(last, &best.opts, init)?;
        if best.opts.rule_class {
            (model, _) = mixture::fit(&mut fits, last, &best.opts, &model, &theta)?;
        }
        if best.opts.center_subject.is_some() || best.opts.trend_sd.is_some() {
            let weights = session_weights(all, &best.opts);
            let counts = local::counts(&model, all);
            local::set_offsets(&mut model, &counts, &weights, &best.opts);
        }
        let tallies = best.models.iter().zip(&held_out).map(|(m, h)| (m, *h));
        model.drift = estimate_drift(&model, tallies, rolling_method(origins));
        model.training.selection = Some(selection);
        model
    } else {
        let parts = [all];
        let (mut model, _) = Fits::start(&parts, opts)?.fit(0, opts, None)?;
        // One session shows no drift, only how far the model misses its own data.
        let method = "in-sample residuals (a single session)".to_string();
        model.drift = estimate_drift(&model, [(&model, all)].into_iter(), method);
        model
    };
    // What is written must load: a fit that ran off to absurd values is an error here,
    // not a model file that every forecast then refuses.
    model
        .validate()
        .map_err(|e| ModelError::Optimiser(format!("the fitted model is out of range: {e}")))?;
    Ok(model)
}

fn rolling_method(origins: &[i32]) -> String {
    format!(
        "rolling origin: sessions {} each forecast from the sessions before it",
        origins
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The drift of `model` (for its subjects) from the forecasts of `tested` (each model
/// with the sessions it forecast): académie-wide and per-subject subject drift
/// ([`pooled`], [`shrunk`]), then the cells' own on top ([`cell_variance`]).
fn estimate_drift<'a>(
    model: &Model,
    tested: impl Iterator<Item = (&'a Model, Sessions<'a>)>,
    method: String,
) -> Drift {
    let mut subj = BTreeMap::new();
    let mut cell = BTreeMap::new();
    for (m, data) in tested {
        tally(m, data, &mut subj, &mut cell);
    }
    // The tallies are numbered by the dataset's subjects, which are the final model's.
    let ns = model.subjects.len();
    let mut groups: Vec<Vec<Tally>> = vec![Vec::new(); ns];
    for (&(_, j), t) in &subj {
        groups[j as usize].push(*t);
    }
    let all: Vec<Tally> = subj.values().copied().collect();
    let overall = pooled(&all);
    let per_subject = shrunk(&groups, overall);
    let cells: Vec<(Tally, f64)> = cell
        .iter()
        .map(|(&(_, _, j), t)| (*t, per_subject[j as usize]))
        .collect();
    let (linear, rel) = cell_variance(&cells);
    Drift {
        subject_rel_var: bounded(overall),
        subject_rel_vars: per_subject.iter().map(|&r| bounded(r)).collect(),
        cell_rel_var: bounded(rel),
        cell_linear: bounded(linear),
        method,
    }
}

/// The widest drift kept, as a relative variance (a standard deviation of twice the
/// expectation): a handful of orals where the model expected almost none can give any
/// estimate, and a wider widening would only summon examiners for nothing.
const MAX_REL_VAR: f64 = 4.0;

fn bounded(r: f64) -> f64 {
    if r.is_finite() {
        r.clamp(0.0, MAX_REL_VAR)
    } else {
        MAX_REL_VAR
    }
}

/// The most subjects, tracks and centres a history may name. The subject model's dense
/// block grows with subjects and tracks and its factorisation as their cube (20,000
/// codes once asked for 3.2 GB), the Hessian's centre blocks with centres times that
/// block: these bounds keep a national training under a gigabyte, with room to spare
/// (a national history has about 60 subject codes, 15 tracks and 400 to 4,000 centres).
pub(crate) const MAX_SUBJECTS: usize = 200;
pub(crate) const MAX_TRACKS: usize = 60;
pub(crate) const MAX_CENTERS: usize = 5_000;

/// An error naming the first of [`MAX_SUBJECTS`], [`MAX_TRACKS`], [`MAX_CENTERS`] that
/// the history goes over.
fn check_size(data: &Dataset) -> Result<(), ModelError> {
    let sizes = [
        ("subject codes", data.subjects.len(), MAX_SUBJECTS),
        ("tracks", data.tracks.len(), MAX_TRACKS),
        ("centres", data.centers.len(), MAX_CENTERS),
    ];
    match sizes.iter().find(|(_, n, max)| n > max) {
        Some((what, n, max)) => Err(ModelError::Data(format!(
            "the history names {n} {what}, more than the {max} bacpredict can learn from; is a column shifted?"
        ))),
        None => Ok(()),
    }
}

/// The fits of the subject and count models on each of a list of nested parts (the
/// first sessions of one dataset), on demand.
///
/// The count models (linfa, one thread) do not depend on the settings the selection
/// tries, so they form one chain of their own, started at once beside the subject models
/// (whose evaluations use every other core), each fit from the previous one.
pub(crate) struct Fits<'a> {
    parts: &'a [Sessions<'a>],
    counts: std::sync::mpsc::Receiver<Result<CountModel, ModelError>>,
    received: Vec<CountModel>,
    threads: usize,
}

impl<'a> Fits<'a> {
    pub(crate) fn start(parts: &'a [Sessions<'a>], opts: &FitOptions) -> Result<Self, ModelError> {
        for p in parts {
            if p.candidates.is_empty() {
                return Err(ModelError::Data(
                    "the history holds no candidate in the average band".into(),
                ));
            }
            if p.candidates.iter().any(|c| c.n_chosen().is_none()) {
                return Err(ModelError::Data(
                    "every history row needs 'chosen' (1 or 0)".into(),
                ));
            }
        }
        // Every part's candidates are the first of the longest part's (see [`Sessions`]).
        let longest = parts.iter().max_by_key(|p| p.candidates.len()).copied();
        let longest = longest.expect("at least one part");
        assert!(parts
            .iter()
            .all(|p| std::ptr::eq(p.candidates.as_ptr(), longest.candidates.as_ptr())));
        let counts = count_chain(
            CountInputs::new(longest),
            parts.iter().map(|p| p.candidates.len()).collect(),
            opts.max_iterations,
        );
        // One core is the count chain's: the subject model's evaluations take the others
        // (chunked the same way whatever the number of threads, so the sums, and the
        // model, do not depend on it).
        let threads = crate::parallel::cores().max(2) - 1;
        Ok(Fits {
            parts,
            counts,
            received: Vec::new(),
            threads,
        })
    }

    pub(crate) fn part(&self, i: usize) -> Sessions<'a> {
        self.parts[i]
    }

    /// Part `i`'s model with the settings `opts` (without the drift), the subject model
    /// started from `init` when given; and the subject model's raw parameters.
    pub(crate) fn fit(
        &mut self,
        i: usize,
        opts: &FitOptions,
        init: Option<&[f64]>,
    ) -> Result<(Model, Vec<f64>), ModelError> {
        self.fit_weighted(i, opts, None, init)
    }

    /// [`Fits::fit`] with each candidate of the part also weighted by `each`.
    pub(crate) fn fit_weighted(
        &mut self,
        i: usize,
        opts: &FitOptions,
        each: Option<&[f64]>,
        init: Option<&[f64]>,
    ) -> Result<(Model, Vec<f64>), ModelError> {
        let p = self.parts[i];
        let weights = session_weights(p, opts);
        let (choice, theta) = fit_choice(p, opts, &weights, each, init, self.threads)?;
        while self.received.len() <= i {
            match self.counts.recv_timeout(COUNT_FIT_BUDGET) {
                Ok(fitted) => self.received.push(fitted?),
                Err(_) => return Err(count_timeout()),
            }
        }
        let count = self.received[i].clone();
        Ok((assemble(p, opts, choice, count), theta))
    }
}

/// How long the subject chain waits for a count fit once its own fit is done. linfa's
/// line search has no evaluation cap that its API reaches, so a fit that never ends is
/// stopped here instead (the national count fits take seconds).
const COUNT_FIT_BUDGET: std::time::Duration = std::time::Duration::from_secs(600);

fn count_timeout() -> ModelError {
    ModelError::Optimiser(format!(
        "the number-of-orals fit (linfa) did not finish within {} s",
        COUNT_FIT_BUDGET.as_secs()
    ))
}

/// Starts the count fits on the first `sizes[i]` candidates of `inputs`, one after the
/// other on a thread of their own, each from the previous one; their results arrive in
/// order. The thread owns its inputs, so a fit that never ends can be left behind.
fn count_chain(
    mut inputs: CountInputs,
    sizes: Vec<usize>,
    max_iterations: u64,
) -> std::sync::mpsc::Receiver<Result<CountModel, ModelError>> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut prev: Option<CountModel> = None;
        for n in sizes {
            let fitted = fit_count(n, &mut inputs, max_iterations, prev.as_ref());
            let failed = fitted.is_err();
            if let Ok(c) = &fitted {
                prev = Some(c.clone());
            }
            // A closed channel means the subject chain failed: stop too.
            if tx.send(fitted).is_err() || failed {
                return;
            }
        }
    });
    rx
}

/// One part's model from its two fits, without the drift.
pub(crate) fn assemble(
    data: Sessions<'_>,
    opts: &FitOptions,
    choice: ChoiceModel,
    count: CountModel,
) -> Model {
    let mut subjects: Vec<SubjectInfo> = data
        .names
        .subjects
        .iter()
        .map(|s| SubjectInfo {
            code: s.clone(),
            eligible: 0,
            chosen: 0,
        })
        .collect();
    for c in data.candidates {
        for s in &c.subjects {
            let i = &mut subjects[s.subject as usize];
            i.eligible += 1;
            i.chosen += usize::from(s.chosen == Some(true));
        }
    }
    Model {
        training: TrainingInfo {
            sessions: sessions_of(data.candidates),
            candidates: data.candidates.len(),
            rows: data.candidates.iter().map(|c| c.subjects.len()).sum(),
            options: opts.clone(),
            selection: None,
        },
        subjects,
        centers: data.names.centers.clone(),
        tracks: data.names.tracks.clone(),
        choice,
        count,
        drift: Drift {
            subject_rel_var: 0.0,
            subject_rel_vars: Vec::new(),
            cell_rel_var: 0.0,
            cell_linear: 0.0,
            method: String::new(),
        },
    }
}
