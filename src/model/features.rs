//! Features: what the two parts of the model see of a candidate.
//!
//! Kept apart from the fits because the forecast computes exactly the same features:
//! one definition serves training and prediction.

use super::Rates;
use crate::data::{Candidate, MAX_MARK, PASS_MARK};
use crate::numeric::logit;

/// Names of the dense features of the subject model, in parameter order.
pub(crate) const CHOICE_FEATURES: [&str; 8] = [
    "grade",
    "log_relative_coefficient",
    "share_of_recoverable_points",
    "grade_minus_candidate_mean",
    "is_lowest_grade",
    "is_largest_recoverable",
    "recoverable_share_x_(points_missing-1)",
    "grade_x_(points_missing-1)",
];
/// Dense features that also get a per-centre and per-track slope.
pub(crate) const SLOPE_FEATURES: [usize; 3] = [0, 1, 2];

pub(crate) const COUNT_FEATURES: [&str; 10] = [
    "points_missing",
    "points_missing_squared",
    "eligible_subjects",
    "best_recoverable_share",
    "lowest_grade",
    "weighted_mean_grade",
    "center_logit_no_show",
    "center_logit_two_orals",
    "track_logit_no_show",
    "track_logit_two_orals",
];

pub(crate) const N_DENSE: usize = CHOICE_FEATURES.len();
pub(crate) const N_SLOPES: usize = SLOPE_FEATURES.len();
pub(crate) const N_COUNT: usize = COUNT_FEATURES.len();
/// Count features of the candidate alone; the others are the centre's and track's rates.
pub(crate) const N_OWN: usize = 6;

/// Per-candidate choice features, unscaled, row-major (one row of [`N_DENSE`] per subject).
pub(crate) fn choice_features(c: &Candidate) -> Vec<[f64; N_DENSE]> {
    let n = c.subjects.len() as f64;
    let missing = (PASS_MARK - c.average).max(0.0);
    let csum: f64 = c.subjects.iter().map(|s| s.coefficient).sum();
    let rooms: Vec<f64> = c
        .subjects
        .iter()
        .map(|s| s.coefficient * (MAX_MARK - s.grade))
        .collect();
    let room_sum: f64 = rooms.iter().sum();
    let gmean = c.subjects.iter().map(|s| s.grade).sum::<f64>() / n;
    let gmin = c
        .subjects
        .iter()
        .map(|s| s.grade)
        .fold(f64::INFINITY, f64::min);
    let rmax = rooms.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    c.subjects
        .iter()
        .zip(&rooms)
        .map(|(s, &r)| {
            let share = if room_sum > 0.0 {
                r / room_sum
            } else {
                1.0 / n
            };
            let g = (s.grade - PASS_MARK) / 5.0;
            [
                g,
                (s.coefficient * n / csum).ln(),
                share,
                (s.grade - gmean) / 5.0,
                f64::from(u8::from(s.grade == gmin)),
                f64::from(u8::from(r == rmax)),
                // Centred on one point missing, so that the interactions are not a copy
                // of the main effects (the optimiser converges much faster).
                share * (missing - 1.0),
                g * (missing - 1.0),
            ]
        })
        .collect()
}

/// Count features that depend on the candidate alone (the first [`N_OWN`] of
/// [`COUNT_FEATURES`]).
pub(crate) fn own_count_features(c: &Candidate) -> [f64; N_OWN] {
    let missing = (PASS_MARK - c.average).max(0.0);
    let csum: f64 = c.subjects.iter().map(|s| s.coefficient).sum();
    let best = c
        .subjects
        .iter()
        .map(|s| s.coefficient * (MAX_MARK - s.grade))
        .fold(0.0, f64::max)
        / csum;
    let gmin = c
        .subjects
        .iter()
        .map(|s| s.grade)
        .fold(f64::INFINITY, f64::min);
    let wmean = c
        .subjects
        .iter()
        .map(|s| s.coefficient * s.grade)
        .sum::<f64>()
        / csum;
    [
        missing,
        missing * missing,
        c.subjects.len() as f64,
        best,
        gmin,
        wmean,
    ]
}

impl Rates {
    /// The two count features a centre's (or a track's) rates give.
    pub(crate) fn logits(self) -> [f64; 2] {
        [logit(self.no_show), logit(self.two_orals)]
    }
}

/// All count features, from the candidate's own and its centre's and track's logits.
pub(crate) fn count_features(
    own: &[f64; N_OWN],
    center: [f64; 2],
    track: [f64; 2],
) -> [f64; N_COUNT] {
    let mut x = [0.0; N_COUNT];
    x[..N_OWN].copy_from_slice(own);
    x[N_OWN..N_OWN + 2].copy_from_slice(&center);
    x[N_OWN + 2..].copy_from_slice(&track);
    x
}
