//! Train: the whole training in order: the rolling-origin fits of past sessions, the
//! settings they choose ([`select`](super::select)), the final fit with the chosen
//! structures, and the drift estimated from the held-out forecasts. The fits
//! themselves are [`super::fits`]'s.

use std::collections::BTreeMap;

use super::drift::{cell_variance, pooled, shrunk, tally, Tally};
use super::fits::Fits;
use super::{marks, replay, select};
use super::{Drift, FitOptions, Model, ModelError, Replay, Selection, Setting};
use crate::data::{Dataset, Sessions};

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
    opts.check()?;
    check_size(data)?;
    learnable(Sessions::of(data, ..)).map_err(ModelError::Data)?;
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
    // An origin whose earlier sessions cannot be learnt from alone (a few candidates who
    // all took one oral) is not held out: its fit would fail where the whole history's
    // does not.
    let origins: Vec<i32> = sessions
        .get(first_origin..)
        .unwrap_or_default()
        .iter()
        .copied()
        .filter(|&s| learnable(Sessions::of(data, ..s)).is_ok())
        .collect();
    let model = if !origins.is_empty() {
        rolling(data, &origins, opts)?
    } else {
        let parts = [all];
        let (mut model, _) = Fits::start(&parts, opts)?.fit(0, &opts.start(), None)?;
        // One session shows no drift, only how far the model misses its own data.
        let method = if sessions.len() == 1 {
            "in-sample residuals (a single session)"
        } else {
            "in-sample residuals (no session could be held out: the sessions before each are too few to learn from alone)"
        };
        let method = method.to_string();
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

/// A history's rolling-origin parts: the sessions before each origin and the whole
/// history (the last part), and the sessions held out.
struct Rolling<'a> {
    parts: Vec<Sessions<'a>>,
    held_out: Vec<Sessions<'a>>,
}

impl<'a> Rolling<'a> {
    fn new(data: &'a Dataset, origins: &[i32]) -> Rolling<'a> {
        Rolling {
            parts: origins
                .iter()
                .map(|&s| Sessions::of(data, ..s))
                .chain([Sessions::of(data, ..)])
                .collect(),
            held_out: origins.iter().map(|&s| Sessions::of(data, s..=s)).collect(),
        }
    }
}

/// Training with sessions to hold out: the settings chosen on the marks as they are,
/// then the chosen setting refitted on the marks read against their sessions
/// ([`marks`]) and kept only if it beats the first by one standard error; the final fit
/// on the marks that won.
fn rolling(data: &Dataset, origins: &[i32], opts: &FitOptions) -> Result<Model, ModelError> {
    let plain = Rolling::new(data, origins);
    let mut fits = Fits::start(&plain.parts, opts)?;
    let (best, mut selection) = select::choose(&mut fits, &plain.held_out, opts)?;
    let reference = marks::reference(data);
    let shifted = marks::relative(data, &reference);
    let rel = Rolling::new(&shifted, origins);
    let mut rel_fits = Fits::start(&rel.parts, opts)?;
    let rel_opts = Setting {
        relative_marks: true,
        ..best.opts.clone()
    };
    let rel_best = select::rescore(&mut rel_fits, &rel.held_out, &rel_opts, &best)?;
    if select::offer(&mut selection, &rel_best, &best) {
        let mut model = finish(&mut rel_fits, &rel, rel_best, selection, origins)?;
        model.mark_reference = reference;
        Ok(model)
    } else {
        finish(&mut fits, &plain, best, selection, origins)
    }
}

/// The final fit of `best`'s setting on the whole history, its drift from the held-out
/// forecasts, and the held-out sessions kept for the promise's replay.
fn finish(
    fits: &mut Fits<'_>,
    roll: &Rolling<'_>,
    best: select::Scored,
    selection: Selection,
    origins: &[i32],
) -> Result<Model, ModelError> {
    let init = best.thetas.last().map(|t| t.as_slice());
    let (mut model, _) = select::refit(fits, origins.len(), &best.opts, init)?;
    let tallies = best.models.iter().zip(&roll.held_out).map(|(m, h)| (m, *h));
    model.drift = estimate_drift(&model, tallies, rolling_method(origins));
    model.replays = replays(&model, &best.models, &roll.held_out);
    model.training.selection = Some(selection);
    Ok(model)
}

/// Each held-out session as `models` forecast it, with the drift estimated from the
/// other held-out sessions, so that the calibration judges the widening on a session it
/// did not help estimate.
fn replays(model: &Model, models: &[Model], held_out: &[Sessions<'_>]) -> Vec<Replay> {
    (0..models.len())
        .map(|i| {
            let others = models
                .iter()
                .zip(held_out)
                .enumerate()
                .filter(|&(j, _)| j != i)
                .map(|(_, (m, h))| (m, *h));
            let drift = estimate_drift(model, others, "the other held-out sessions".into());
            replay::replay(&models[i], held_out[i], drift)
        })
        .collect()
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

/// The fewest candidates a history (and the sessions before a held-out one) must have:
/// below it there is nothing to learn a choice from. Histories of 18 to 50 candidates,
/// those of small académies, train (a test checks it).
pub(crate) const MIN_CANDIDATES: usize = 10;

/// Whether the candidates of `part` can be learnt from, else why not: at least
/// [`MIN_CANDIDATES`], at least two different numbers of orals among them (the count
/// model compares them), and one who took an oral among two or more eligible subjects
/// (the subject model learns from such choices only).
fn learnable(part: Sessions<'_>) -> Result<(), String> {
    let n = part.candidates.len();
    if n < MIN_CANDIDATES {
        return Err(format!(
            "the history has {n} candidate{} in the average band; bacpredict needs at least {MIN_CANDIDATES}",
            if n == 1 { "" } else { "s" }
        ));
    }
    let mut counts = [0usize; 3];
    for c in part.candidates {
        counts[c.n_chosen().unwrap_or(0).min(2)] += 1;
    }
    if counts.iter().filter(|&&k| k > 0).count() < 2 {
        let k = counts.iter().position(|&k| k > 0).unwrap_or(0);
        return Err(format!(
            "all {n} candidates of the history took {k} oral{}: the number of orals cannot be \
             learnt without candidates who took another number (0, 1 or 2); add a session",
            if k == 1 { "" } else { "s" }
        ));
    }
    if !part
        .candidates
        .iter()
        .any(|c| c.revealed_choice().is_some())
    {
        return Err(
            "no candidate in the history took an oral among two or more eligible subjects".into(),
        );
    }
    Ok(())
}

/// The most subjects, tracks and centres a history may name. The subject model's dense
/// block grows with subjects and tracks and its factorisation as their cube (20,000
/// codes once asked for 3.2 GB), the Hessian's centre blocks with centres times that
/// block: these bounds keep a national training under a gigabyte, with room to spare
/// (a national history has about 60 subject codes, 15 tracks and 400 to 4,000 centres).
const MAX_SUBJECTS: usize = 200;
const MAX_TRACKS: usize = 60;
const MAX_CENTERS: usize = 5_000;

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
