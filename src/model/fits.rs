//! Fits: the subject and count models fitted on nested parts of a history (its first
//! sessions), on demand, and a part's model assembled from the two. The training
//! ([`super::train`]), the settings search ([`super::select`]) and the mixture
//! ([`super::mixture`]) all fit through here, so the engine has one owner and every
//! arrow points to it.

use std::collections::{BTreeMap, HashMap};

use super::choice::fit_choice;
use super::count::{fit_count, CountInputs};
use super::{
    ChoiceModel, CountModel, Drift, FitOptions, Model, ModelError, Recorded, Setting, SubjectInfo,
    TrainingInfo,
};
use crate::data::{Candidate, Sessions};

fn sessions_of(candidates: &[Candidate]) -> BTreeMap<i32, usize> {
    let mut m = BTreeMap::new();
    for c in candidates {
        *m.entry(c.session).or_insert(0) += 1;
    }
    m
}

pub(crate) fn session_weights(data: Sessions<'_>, opts: &Setting) -> HashMap<i32, f64> {
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

/// The fits of the subject and count models on each of a list of nested parts (the
/// first sessions of one dataset), on demand.
///
/// The count models (linfa, one thread) do not depend on the settings the selection
/// tries, so they form one chain of their own, started at once beside the subject models
/// (whose evaluations use every other core), each fit from the previous one.
pub(crate) struct Fits<'a> {
    parts: &'a [Sessions<'a>],
    /// What training was asked for, recorded in every model assembled.
    asked: FitOptions,
    counts: std::sync::mpsc::Receiver<Result<CountModel, ModelError>>,
    received: Vec<CountModel>,
    threads: usize,
}

impl<'a> Fits<'a> {
    pub(crate) fn start(parts: &'a [Sessions<'a>], asked: &FitOptions) -> Result<Self, ModelError> {
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
            asked.max_iterations,
        );
        // One core is the count chain's: the subject model's evaluations take the others
        // (chunked the same way whatever the number of threads, so the sums, and the
        // model, do not depend on it).
        let threads = crate::parallel::cores().max(2) - 1;
        Ok(Fits {
            parts,
            asked: asked.clone(),
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
        opts: &Setting,
        init: Option<&[f64]>,
    ) -> Result<(Model, Vec<f64>), ModelError> {
        self.fit_weighted(i, opts, None, init)
    }

    /// [`Fits::fit`] with each candidate of the part also weighted by `each`.
    pub(crate) fn fit_weighted(
        &mut self,
        i: usize,
        opts: &Setting,
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
        Ok((
            assemble(p, Recorded::new(opts, &self.asked), choice, count),
            theta,
        ))
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
fn assemble(
    data: Sessions<'_>,
    options: Recorded,
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
            options,
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
        mark_reference: Vec::new(),
        replays: Vec::new(),
    }
}
