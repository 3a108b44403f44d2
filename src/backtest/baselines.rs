//! Baselines: what bacpredict is compared with. Last year's counts + 25% (the usual
//! practice, made explicit), the two subjects with the most points to recover, and a
//! plain multinomial logistic regression (linfa-logistic) planned like bacpredict.

use std::collections::HashMap;

use linfa::prelude::*;
use linfa_logistic::{MultiFittedLogisticRegression, MultiLogisticRegression};
use ndarray::{Array1, Array2};

use super::score::{pairs_of, probabilistic, score, Probs};
use super::{BacktestError, BacktestOptions, Method, MethodResult};
use crate::data::{Candidate, Dataset, Hosts, MAX_MARK, PASS_MARK};
use crate::forecast;

/// "Last year's counts per cell, scaled to this year's candidates, + 25%".
pub(crate) fn last_year_plus_25(
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
    let (cells, subjects) = forecast::cells_from(test, &probs, &forecast::Widening::none(test));
    let ex: Vec<(usize, usize)> = cells
        .iter()
        .map(|c| {
            let e = (1.25 * c.expected() / opts.plan.capacity_of(test, c.key.subject) as f64 - 1e-9)
                .ceil()
                .max(0.0) as usize;
            (e, 0)
        })
        .collect();
    Ok(score(
        Method::LastYearPlus25,
        (test, &Hosts::default()),
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
pub(crate) fn two_lowest(
    test: &Dataset,
    opts: &BacktestOptions,
) -> Result<MethodResult, BacktestError> {
    let probs: Probs = test
        .candidates
        .iter()
        .map(|c| {
            let mut idx: Vec<usize> = (0..c.subjects.len()).collect();
            let room = |i: usize| c.subjects[i].coefficient * (MAX_MARK - c.subjects[i].grade);
            idx.sort_by(|&a, &b| room(b).total_cmp(&room(a)).then(a.cmp(&b)));
            let mut p = vec![0.0; c.subjects.len()];
            for &i in idx.iter().take(2) {
                p[i] = 1.0;
            }
            p
        })
        .collect();
    let (cells, subjects) = forecast::cells_from(test, &probs, &forecast::Widening::none(test));
    let ex: Vec<(usize, usize)> = cells
        .iter()
        .map(|c| {
            let cap = opts.plan.capacity_of(test, c.key.subject);
            ((c.expected().round() as usize).div_ceil(cap), 0)
        })
        .collect();
    Ok(score(
        Method::TwoLowest,
        (test, &Hosts::default()),
        &cells,
        &subjects,
        &ex,
        opts,
        Some(pairs_of(test, &probs)),
    )?)
}

fn plain_features(data: &Dataset, c: &Candidate, n_subjects: usize, n_tracks: usize) -> Vec<f64> {
    let mut x = vec![0.0; 1 + n_tracks + 2 * n_subjects];
    x[0] = PASS_MARK - c.average;
    if (c.track as usize) < n_tracks {
        x[1 + c.track as usize] = 1.0;
    }
    let _ = data;
    for s in &c.subjects {
        let i = s.subject as usize;
        if i < n_subjects {
            x[1 + n_tracks + i] = 1.0;
            x[1 + n_tracks + n_subjects + i] = (s.grade - PASS_MARK) / 5.0;
        }
    }
    x
}

/// A plain multinomial logistic regression (linfa-logistic), one class per subject, on
/// candidate-level features (points missing, track, which subjects are eligible and their
/// marks); at prediction its probabilities are restricted to the eligible subjects and
/// scaled by the training mean number of orals.
pub(crate) fn plain_logistic(
    train: &Dataset,
    test: &Dataset,
    opts: &BacktestOptions,
) -> Result<MethodResult, BacktestError> {
    let fit = PlainFit::new(train)?;
    let probs: Probs = test
        .candidates
        .iter()
        .map(|c| fit.probabilities(train, test, c))
        .collect();
    probabilistic(Method::PlainLogistic, test, &probs, opts)
}

/// The plain logistic regression fitted on one training set.
struct PlainFit<'t> {
    model: MultiFittedLogisticRegression<f64, usize>,
    classes: Vec<usize>,
    mean_orals: f64,
    /// Test subjects and tracks are matched to training ones by name.
    subject: HashMap<&'t str, usize>,
    track: HashMap<&'t str, usize>,
}

impl<'t> PlainFit<'t> {
    /// One row per oral taken in `train`, its subject the class.
    fn new(train: &'t Dataset) -> Result<PlainFit<'t>, BacktestError> {
        let (ns, nt) = (train.subjects.len(), train.tracks.len());
        let mut x = Vec::new();
        let mut y = Vec::new();
        for c in &train.candidates {
            let f = plain_features(train, c, ns, nt);
            for s in c.subjects.iter().filter(|s| s.chosen == Some(true)) {
                x.extend_from_slice(&f);
                y.push(s.subject as usize);
            }
        }
        let rows = y.len();
        let xa = Array2::from_shape_vec((rows, 1 + nt + 2 * ns), x)
            .map_err(|e| BacktestError::Baseline(Method::PlainLogistic.name(), e.to_string()))?;
        let model = MultiLogisticRegression::default()
            .alpha(1.0)
            .max_iterations(100)
            // Per-sample tolerance: linfa's absolute default never triggers on a summed loss.
            .gradient_tolerance(1e-4 * rows as f64)
            .fit(&DatasetBase::new(xa, Array1::from(y)))
            .map_err(|e| BacktestError::Baseline(Method::PlainLogistic.name(), e.to_string()))?;
        let index = |names: &'t [String]| -> HashMap<&'t str, usize> {
            names
                .iter()
                .enumerate()
                .map(|(i, s)| (s.as_str(), i))
                .collect()
        };
        Ok(PlainFit {
            classes: model.classes().to_vec(),
            model,
            mean_orals: rows as f64 / train.candidates.len().max(1) as f64,
            subject: index(&train.subjects),
            track: index(&train.tracks),
        })
    }

    /// The class probabilities restricted to the candidate's eligible subjects, scaled
    /// to the training mean number of orals.
    fn probabilities(&self, train: &Dataset, test: &Dataset, c: &Candidate) -> Vec<f64> {
        let (ns, nt) = (train.subjects.len(), train.tracks.len());
        let mut cc = c.clone();
        cc.track = self
            .track
            .get(test.track_name(c))
            .map(|&t| t as u32)
            .unwrap_or(u32::MAX);
        for s in cc.subjects.iter_mut() {
            s.subject = self
                .subject
                .get(test.subjects[s.subject as usize].as_str())
                .map(|&i| i as u32)
                .unwrap_or(u32::MAX);
        }
        let f = Array2::from_shape_vec((1, 1 + nt + 2 * ns), plain_features(train, &cc, ns, nt))
            .expect("shape");
        let p = self.model.predict_probabilities(&f);
        let raw: Vec<f64> = cc
            .subjects
            .iter()
            .map(|s| {
                self.classes
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
                (q * self.mean_orals).min(1.0)
            })
            .collect()
    }
}
