//! Marks: a subject's marks read against that session's marks in the subject.
//!
//! A hard paper lowers every mark of a subject in one session without changing what its
//! candidates can do orally, nor, if they judge their marks against their classmates',
//! which oral they choose. A model reading raw marks then sends more of them to that
//! oral. When the selection keeps it ([`super::Setting::relative_marks`]), every mark
//! is shifted by how far its session's mean mark in the subject (among the candidates
//! of the file) lies from the subject's reference, the mean of the training sessions'
//! means, shrunk towards no shift when the session has few candidates in the subject.
//! The marks of the session to forecast are known before any choice, so the forecast
//! shifts them the same way; only the reference (a mean mark per subject, an aggregate)
//! goes into the model file.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::Model;

use crate::data::{Dataset, MAX_MARK};

/// Candidates in a (session, subject) at which its shift counts half: below, a few
/// candidates' marks say little of the paper.
const HALF_WEIGHT: f64 = 30.0;

/// Per (session, subject number): the sum of the marks and their number.
fn session_sums(data: &Dataset) -> BTreeMap<(i32, u32), (f64, f64)> {
    let mut m: BTreeMap<(i32, u32), (f64, f64)> = BTreeMap::new();
    for c in &data.candidates {
        for s in &c.subjects {
            let e = m.entry((c.session, s.subject)).or_default();
            e.0 += s.grade;
            e.1 += 1.0;
        }
    }
    m
}

/// Per subject of `data`: the mean over its sessions of the session's mean mark (`None`
/// for a subject no candidate has).
pub(crate) fn reference(data: &Dataset) -> Vec<Option<f64>> {
    let mut acc = vec![(0.0, 0.0); data.subjects.len()];
    for (&(_, j), &(sum, n)) in &session_sums(data) {
        let a = &mut acc[j as usize];
        a.0 += sum / n;
        a.1 += 1.0;
    }
    acc.iter().map(|&(s, k)| (k > 0.0).then(|| s / k)).collect()
}

/// `data` with every mark shifted by its session's departure from `reference[subject]`
/// (subjects numbered as `data`'s; `None` leaves a subject's marks as they are), the
/// shift shrunk by `n / (n + HALF_WEIGHT)` for a session's `n` candidates in the subject,
/// marks kept within 0 to 20.
pub(crate) fn relative(data: &Dataset, reference: &[Option<f64>]) -> Dataset {
    let shifts: BTreeMap<(i32, u32), f64> = session_sums(data)
        .into_iter()
        .map(|(k, (sum, n))| {
            let shift = reference
                .get(k.1 as usize)
                .copied()
                .flatten()
                .map_or(0.0, |r| (sum / n - r) * n / (n + HALF_WEIGHT));
            (k, shift)
        })
        .collect();
    let mut out = data.clone();
    for c in &mut out.candidates {
        for s in &mut c.subjects {
            let shift = shifts.get(&(c.session, s.subject)).copied().unwrap_or(0.0);
            s.grade = (s.grade - shift).clamp(0.0, MAX_MARK);
        }
    }
    out
}

impl Model {
    /// `data` as this model reads it: its marks shifted by their sessions' departures
    /// when the model was fitted on relative marks, else as they are.
    pub(crate) fn reads<'a>(&self, data: &'a Dataset) -> Cow<'a, Dataset> {
        if self.mark_reference.is_empty() {
            return Cow::Borrowed(data);
        }
        let map = self.mapping(data);
        let reference: Vec<Option<f64>> = map
            .subject
            .iter()
            .map(|j| j.and_then(|j| self.mark_reference.get(j).copied().flatten()))
            .collect();
        Cow::Owned(relative(data, &reference))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Candidate, Slot, SubjectRow};

    fn candidate(session: i32, grades: [f64; 2]) -> Candidate {
        Candidate {
            session,
            id: String::new(),
            center: 0,
            track: 0,
            average: 9.0,
            subjects: grades
                .iter()
                .enumerate()
                .map(|(j, &g)| SubjectRow {
                    subject: j as u32,
                    coefficient: 16.0,
                    grade: g,
                    chosen: Some(false),
                })
                .collect(),
            slot: Slot::PERIOD,
        }
    }

    /// A paper 3 points harder in 2024 (subject 0): its marks are read as in 2023,
    /// shrunk by the number of candidates; the other subject is left as it is.
    #[test]
    fn a_hard_paper_is_read_against_its_session() {
        let mut data = Dataset {
            subjects: vec!["A".into(), "B".into()],
            ..Dataset::default()
        };
        for _ in 0..90 {
            data.candidates.push(candidate(2023, [10.0, 8.0]));
            data.candidates.push(candidate(2024, [7.0, 8.0]));
        }
        let r = reference(&data);
        assert_eq!(r, [Some(8.5), Some(8.0)]);
        let rel = relative(&data, &r);
        let shrink = 90.0 / 120.0;
        let g = |i: usize, j: usize| rel.candidates[i].subjects[j].grade;
        assert!((g(0, 0) - (10.0 - 1.5 * shrink)).abs() < 1e-12);
        assert!((g(1, 0) - (7.0 + 1.5 * shrink)).abs() < 1e-12);
        assert_eq!((g(0, 1), g(1, 1)), (8.0, 8.0));
        // A subject the reference does not know keeps its marks.
        let rel = relative(&data, &[None, Some(8.0)]);
        assert_eq!(rel.candidates[1].subjects[0].grade, 7.0);
    }
}
