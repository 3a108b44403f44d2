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

pub(crate) const COUNT_FEATURES: [&str; 16] = [
    "points_missing",
    "points_missing_squared",
    "eligible_subjects",
    "best_recoverable_share",
    "lowest_grade",
    "weighted_mean_grade",
    "best_room_to_12_over_missing",
    "two_best_rooms_to_12_over_missing",
    "best_room_to_16_over_missing",
    "two_best_rooms_to_16_over_missing",
    "best_room_to_20_over_missing",
    "two_best_rooms_to_20_over_missing",
    "center_logit_no_show",
    "center_logit_two_orals",
    "track_logit_no_show",
    "track_logit_two_orals",
];

pub(crate) const N_DENSE: usize = CHOICE_FEATURES.len();
pub(crate) const N_SLOPES: usize = SLOPE_FEATURES.len();
pub(crate) const N_COUNT: usize = COUNT_FEATURES.len();
/// Count features of the candidate alone; the others are the centre's and track's rates.
pub(crate) const N_OWN: usize = 12;
/// How many count features format 4 added (the last own ones, from
/// `best_room_to_12_over_missing`): a model of format 3 or older reads them as weighing
/// nothing, which is what it did with them.
pub(crate) const ADDED_IN_FORMAT_4: usize = 2 * HOPED_MARKS.len();
/// The oral marks a candidate may hope for when counting the orals it needs: no one
/// number is right for every académie (the `enough` world's candidates hope for 14, on
/// purpose not one of these), so the count model weighs several.
const HOPED_MARKS: [f64; 3] = [12.0, 16.0, 20.0];
/// The largest ratio of rooms to points missing a count feature keeps: beyond three
/// times what is missing, one oral is enough whatever it gives.
const MAX_ROOM_RATIO: f64 = 3.0;

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
///
/// Besides the points missing and the best room (in points of average), how many times
/// what is missing the best subject's room and the two best subjects' rooms hold, for
/// each of [`HOPED_MARKS`]: whether one oral can be enough to pass, or only two, or none,
/// which decides how many orals a candidate takes in a way no linear term of the two
/// numbers states.
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
    let mut x = [0.0; N_OWN];
    x[..6].copy_from_slice(&[
        missing,
        missing * missing,
        c.subjects.len() as f64,
        best,
        gmin,
        wmean,
    ]);
    for (j, &mark) in HOPED_MARKS.iter().enumerate() {
        let (one, two) = best_rooms(c, mark, csum);
        let ratio = |room: f64| (room / missing.max(1e-9)).min(MAX_ROOM_RATIO);
        x[6 + 2 * j] = ratio(one);
        x[7 + 2 * j] = ratio(two);
    }
    x
}

/// The best subject's room and the two best subjects' together, retaking at `mark`, in
/// points of the average over the eligible subjects' coefficients `csum`.
fn best_rooms(c: &Candidate, mark: f64, csum: f64) -> (f64, f64) {
    let mut rooms: Vec<f64> = c
        .subjects
        .iter()
        .map(|s| s.coefficient * (mark - s.grade).max(0.0) / csum)
        .collect();
    rooms.sort_by(|a, b| b.total_cmp(a));
    let one = rooms.first().copied().unwrap_or(0.0);
    (one, one + rooms.get(1).copied().unwrap_or(0.0))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Slot, SubjectRow};

    fn candidate(average: f64, subjects: &[(f64, f64)]) -> Candidate {
        Candidate {
            session: 2025,
            id: String::new(),
            center: 0,
            track: 0,
            average,
            subjects: subjects
                .iter()
                .enumerate()
                .map(|(j, &(coefficient, grade))| SubjectRow {
                    subject: j as u32,
                    coefficient,
                    grade,
                    chosen: None,
                })
                .collect(),
            slot: Slot::PERIOD,
        }
    }

    /// Rooms in points of average over the eligible subjects' coefficients (40): retaking
    /// at 20, 16 x 12 / 40 = 4.8 and 8 x 10 / 40 = 2, so two points missing fit 2.4 times
    /// in the best room and 3.4 times (kept at 3) in the two best; retaking at 12, 1.6
    /// and 2.0, so 0.8 and 1.0 times; a mark above the hoped one has no room. Half a
    /// point missing, or none, keeps every ratio at 3, not infinite.
    #[test]
    fn the_rooms_are_read_against_what_is_missing() {
        let subjects = [(16.0, 8.0), (8.0, 10.0), (16.0, 19.0)];
        let f = own_count_features(&candidate(8.0, &subjects));
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(f[3], 4.8), "{f:?}");
        assert!(close(f[6], 0.8) && close(f[7], 1.0), "{f:?}");
        assert!(close(f[10], 2.4) && close(f[11], 3.0), "{f:?}");
        for average in [9.5, 10.0] {
            let f = own_count_features(&candidate(average, &subjects));
            assert!(f[6..].iter().all(|&r| r == 3.0), "{f:?}");
        }
    }
}
