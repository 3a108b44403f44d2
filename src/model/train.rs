//! Train: the whole fit in order: the rolling-origin fits of past sessions (for the
//! drift), then the final fit, the subject and count chains side by side, and the
//! model assembled from them.

use std::collections::{BTreeMap, HashMap};

use super::choice::fit_choice;
use super::count::{fit_count, CountInputs};
use super::drift::{moment, tally};
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
/// With three sessions or more, each session from the third on is first forecast from
/// the sessions before it, as a real forecast would be (rolling origin), so the drift
/// also carries the model's own out-of-sample error; each of those fits starts from the
/// previous one's parameters, and the final fit from the last, which saves most of their
/// cost. With fewer sessions, in-sample residuals per session are used, scaled up by
/// S / (S - 1).
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
    let mut subj = BTreeMap::new();
    let mut cell = BTreeMap::new();
    let all = Sessions::of(data, ..);
    let mut last = None;
    let (scale, method) = if sessions.len() >= 3 {
        let origins = &sessions[2..];
        let parts: Vec<Sessions> = origins
            .iter()
            .map(|&s| Sessions::of(data, ..s))
            .chain([all])
            .collect();
        fit_chain(&parts, opts, |i, m| match origins.get(i) {
            Some(&s) => tally(&m, Sessions::of(data, s..=s), &mut subj, &mut cell),
            None => last = Some(m),
        })?;
        let method = format!(
            "rolling origin: sessions {} each forecast from the sessions before it",
            origins
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        (1.0, method)
    } else {
        fit_chain(&[all], opts, |_, m| {
            tally(&m, all, &mut subj, &mut cell);
            last = Some(m);
        })?;
        let n = sessions.len() as f64;
        let scale = if n > 1.0 { n / (n - 1.0) } else { 1.0 };
        let method = "in-sample residuals per session (fewer than three sessions)".to_string();
        (scale, method)
    };
    let mut model = last.expect("the chain ends with the fit on every session");
    let subject_rel_var = scale * moment(subj.values(), |_| 0.0);
    let cell_rel_var = scale * moment(cell.values(), |e| subject_rel_var / scale * e * e);
    model.drift = Drift {
        subject_rel_var,
        cell_rel_var,
        method,
    };
    // What is written must load: a fit that ran off to absurd values is an error here,
    // not a model file that every forecast then refuses.
    model
        .validate()
        .map_err(|e| ModelError::Optimiser(format!("the fitted model is out of range: {e}")))?;
    Ok(model)
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

/// Fits the subject and count models on each of `parts` in turn, each fit starting from
/// the previous one, and hands each part's model (without the drift) to `each`, in
/// order.
///
/// The count models (linfa, one thread) form their own chain beside the subject models
/// (whose evaluations use every core): the two chains only meet when a part's model is
/// assembled, so neither waits for the other's slower fits.
pub(crate) fn fit_chain(
    parts: &[Sessions<'_>],
    opts: &FitOptions,
    mut each: impl FnMut(usize, Model),
) -> Result<(), ModelError> {
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
    let mut theta: Option<Vec<f64>> = None;
    for (i, p) in parts.iter().enumerate() {
        let weights = session_weights(*p, opts);
        let (choice, t) = fit_choice(*p, opts, &weights, theta.as_deref(), threads)?;
        let count = match counts.recv_timeout(COUNT_FIT_BUDGET) {
            Ok(fitted) => fitted?,
            Err(_) => return Err(count_timeout()),
        };
        each(i, assemble(*p, opts, choice, count));
        theta = Some(t);
    }
    Ok(())
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
        },
        subjects,
        centers: data.names.centers.clone(),
        tracks: data.names.tracks.clone(),
        choice,
        count,
        drift: Drift {
            subject_rel_var: 0.0,
            cell_rel_var: 0.0,
            method: String::new(),
        },
    }
}
