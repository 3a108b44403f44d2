//! Runs: a chunk's rows grouped into runs of consecutive rows of one candidate, each row
//! checked against the candidate's first (same centre, track and average; each subject
//! once).
//!
//! Grouping happens on the chunk's own core; a candidate whose rows are spread over
//! chunks or files is rebuilt in [`super::merge`] by replaying its later runs through
//! the same [`add_row`], so every message is the one a single pass would give.

use std::path::Path;

use super::problems::Problems;
use super::rows::ParsedRow;
use crate::data::{Candidate, HalfDay, Slot, SubjectRow};

/// A candidate as built from one run of consecutive rows (its first run, once runs are
/// merged), with what is needed to report disagreements.
pub(crate) struct Pending {
    pub(crate) candidate: Candidate,
    /// File index and line of the candidate's first row.
    pub(crate) file: usize,
    pub(crate) line: u64,
    pub(crate) chosen_missing: bool,
    /// Where the run's rows are: a chunk and a range of its rows, to replay them
    /// against the candidate's first run when it turns out not to be the first.
    pub(crate) chunk: usize,
    pub(crate) rows: std::ops::Range<usize>,
    /// What the run's own rows disagreed on; dropped with the run when it is replayed.
    pub(crate) problems: Problems,
}

impl Pending {
    /// Session and candidate id: the rows of one candidate share them.
    pub(crate) fn key(&self) -> (i32, &str) {
        (self.candidate.session, &self.candidate.id)
    }
}

/// Centre, track, subject and day names, for messages.
pub(crate) type Names<'a> = [&'a [String]; 4];

/// Adds `row` (its names as indices into `names`, like the candidate's) to the candidate
/// of `p`, whose first row came before it, or says in `problems` why it does not belong:
/// rows that disagree on centre, track or average, or a subject twice. `first_file` is
/// the file of the candidate's first row when it is not the row's own file.
pub(crate) fn add_row(
    p: &mut Pending,
    row: &ParsedRow,
    subject: SubjectRow,
    [centers, tracks, subjects, days]: Names<'_>,
    path: &Path,
    first_file: Option<&Path>,
    problems: &mut Problems,
) {
    // Only built for a message, not for every row of a national file.
    let first = || {
        format!(
            "line {}{}",
            p.line,
            first_file.map_or(String::new(), |f| format!(" of {}", f.display()))
        )
    };
    let c = &p.candidate;
    let line = row.line;
    // A centre or a track that differs is named, with the first row's.
    let clash = [
        ("center", "centre", centers, row.center, c.center),
        ("track", "track", tracks, row.track, c.track),
    ]
    .into_iter()
    .find(|&(_, _, _, got, first)| got != first);
    if let Some((column, what, names, got, was)) = clash {
        problems.push(
            path,
            line,
            column,
            &names[got as usize],
            &format!(
                "the same {what} as this candidate's first row ({}: '{}')",
                first(),
                names[was as usize]
            ),
        );
    } else if c.average != row.average {
        // The mark is not echoed next to the id: only the line points to it.
        problems.push(
            path,
            line,
            "average",
            "",
            &format!(
                "the same average as this candidate's first row ({})",
                first()
            ),
        );
    } else if c.slot != row.slot {
        let label = |s: Slot| match s.day() {
            None => "none".to_string(),
            Some(d) => format!(
                "'{}' {}",
                days[d as usize],
                s.half().map_or("", HalfDay::code)
            ),
        };
        problems.push(
            path,
            line,
            "day",
            &label(row.slot),
            &format!(
                "the same day and half-day as this candidate's first row ({}: {})",
                first(),
                label(c.slot)
            ),
        );
    } else if c.subjects.iter().any(|s| s.subject == subject.subject) {
        problems.push(
            path,
            line,
            "subject",
            &subjects[subject.subject as usize],
            &format!(
                "each subject once per candidate (already at {} or after)",
                first()
            ),
        );
    } else {
        p.chosen_missing |= subject.chosen.is_none();
        p.candidate.subjects.push(subject);
    }
}

/// The rows of one chunk of file number `file`, with the chunk's names and the one
/// string holding its rows' ids.
pub(crate) struct ChunkRows<'a> {
    pub(crate) rows: &'a [ParsedRow],
    pub(crate) ids: &'a str,
    pub(crate) names: Names<'a>,
    pub(crate) file: usize,
}

/// Groups a chunk's rows into runs of consecutive rows of one candidate, each checked
/// on its own, and sorts them by session and id. Done on the chunk's own core: the
/// runs are only merged across chunks (and with a candidate's other runs) afterwards.
pub(crate) fn group_runs(chunk: ChunkRows<'_>, chunk_idx: usize, path: &Path) -> Vec<Pending> {
    let ChunkRows {
        rows,
        ids,
        names,
        file,
    } = chunk;
    let mut runs: Vec<Pending> = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let r = &rows[i];
        let id = &ids[r.id.clone()];
        let same = |q: &ParsedRow| q.session == r.session && ids[q.id.clone()] == *id;
        let end = i + 1 + rows[i + 1..].iter().take_while(|q| same(q)).count();
        let mut p = Pending {
            candidate: Candidate {
                session: r.session,
                id: id.to_string(),
                center: r.center,
                track: r.track,
                average: r.average,
                subjects: Vec::with_capacity(end - i),
                slot: r.slot,
            },
            file,
            line: r.line,
            chosen_missing: r.chosen.is_none(),
            chunk: chunk_idx,
            rows: i..end,
            problems: Problems::default(),
        };
        p.candidate.subjects.push(r.subject_row(r.subject));
        let mut problems = Problems::default();
        for q in &rows[i + 1..end] {
            add_row(
                &mut p,
                q,
                q.subject_row(q.subject),
                names,
                path,
                None,
                &mut problems,
            );
        }
        p.problems = problems;
        runs.push(p);
        i = end;
    }
    // Stable: a candidate's runs stay in row order.
    runs.sort_by(|a, b| a.key().cmp(&b.key()));
    runs
}
