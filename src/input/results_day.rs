//! Results day: the files the office holds once candidates have chosen. The choices
//! (`candidate_id,subject`) and the durations of the orals per subject (the
//! convocations it sent are [`super::summons`]'s). Same encoding, separator and problem rules as
//! every input; a choice is checked against the candidates file it refers to.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::problems::{InputError, Problems};
use super::tables::{into_result, read_small_table};
use super::{ReadOptions, Separator};
use crate::data::Dataset;

/// The orals chosen: for each candidate (index into the dataset), the indices of the
/// chosen subjects among the candidate's own, in file order.
pub(crate) type Choices = BTreeMap<usize, Vec<usize>>;

/// Reads `candidate_id,subject`, one row per oral. An unknown candidate, a subject the
/// candidate is not eligible for, the same subject twice or a third oral is a problem.
pub(crate) fn read_choices(
    path: &Path,
    read: &ReadOptions,
    data: &Dataset,
) -> Result<Choices, InputError> {
    let mut problems = Problems::default();
    let rows = read_small_table(
        path,
        read.separator,
        &["candidate_id", "subject"],
        2,
        &mut problems,
    );
    let by_id: HashMap<&str, usize> = data
        .candidates
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    let mut out: Choices = BTreeMap::new();
    for (line, f) in rows {
        let [candidate_id, subject] = f;
        let Some(&k) = by_id.get(candidate_id.as_str()) else {
            let expected = "a candidate of the candidates file (in the average band)";
            problems.push(path, line, "candidate_id", &candidate_id, expected);
            continue;
        };
        let c = &data.candidates[k];
        let Some(j) = c
            .subjects
            .iter()
            .position(|s| data.subject_name(s) == read.subjects.code(&subject))
        else {
            let expected = "a subject this candidate is eligible for (a written exam of theirs)";
            problems.push(path, line, "subject", &subject, expected);
            continue;
        };
        let chosen = out.entry(k).or_default();
        if chosen.contains(&j) {
            problems.push(
                path,
                line,
                "subject",
                &subject,
                "each subject once per candidate",
            );
        } else if chosen.len() == 2 {
            problems.push(
                path,
                line,
                "subject",
                &subject,
                "at most two orals per candidate",
            );
        } else {
            chosen.push(j);
        }
    }
    into_result(out, problems)
}

/// Minutes of preparation and of interrogation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Durations {
    pub(crate) preparation: u32,
    pub(crate) oral: u32,
}

/// Reads per-subject durations: `subject,preparation,oral` in minutes (1 to 240 each).
pub(crate) fn read_durations(
    path: &Path,
    separator: Separator,
) -> Result<BTreeMap<String, Durations>, InputError> {
    let mut problems = Problems::default();
    let cols = ["subject", "preparation", "oral"];
    let rows = read_small_table(path, separator, &cols, 3, &mut problems);
    let mut out = BTreeMap::new();
    for (line, f) in rows {
        let [subject, preparation, oral] = f;
        let minutes = |v: &str| v.parse::<u32>().ok().filter(|m| (1..=240).contains(m));
        match (minutes(&preparation), minutes(&oral)) {
            (Some(preparation), Some(oral)) if !subject.is_empty() => {
                let d = Durations { preparation, oral };
                if out.insert(subject.clone(), d).is_some() {
                    problems.push(path, line, "subject", &subject, "each subject once");
                }
            }
            _ => {
                let expected = "a subject and whole numbers of minutes from 1 to 240";
                problems.push(path, line, "preparation", &preparation, expected);
            }
        }
    }
    into_result(out, problems)
}
