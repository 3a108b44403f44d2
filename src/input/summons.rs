//! Summons: `summons.csv`, the convocations sent, which `forecast --roster` writes and
//! `confirm` reads back. This file owns the format: its columns, the row written for a
//! summons, and the reader, so that what one command writes the other reads.
//!
//! An office edits the file by hand between the plan and results day (a sick examiner
//! replaced, a row copied): the reader checks each row as it checks any input.

use std::collections::HashMap;
use std::path::Path;

use super::columns::SUMMONS_COLUMNS;
use super::problems::{shown_value, InputError, Problems};
use super::tables::{into_result, read_small_table};
use super::text::half_day_of;
use super::Separator;
use crate::data::{CellKey, Dataset, HalfDay, Role, Slot, Summon};

/// The row written for a summons, in [`SUMMONS_COLUMNS`] order, its names looked up in
/// the dataset the plan was made on.
pub(crate) fn row<'a>(s: &'a Summon, data: &'a Dataset) -> [&'a str; 7] {
    let [center, subject, day, half] = data.cell_names(&s.cell);
    [
        &s.examiner_id,
        &s.name,
        subject,
        center,
        day,
        half,
        s.role.code(),
    ]
}

/// A row of `summons.csv` as the office left it, before its names meet the candidates'.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SummonRow {
    examiner_id: String,
    name: String,
    subject: String,
    center: String,
    day: String,
    half: Option<HalfDay>,
    role: Role,
}

/// Reads the convocations sent, in file order: for each cell its examiners by
/// priority, firm ones then the reserve; with the notes on rows set aside.
///
/// An office edits the file by hand between the plan and results day. A row repeated
/// (same examiner, cell and role) is read once, and a note says which line was kept; an
/// examiner in two cells at the same time (the same half-day, or a day and one of its
/// half-days) or twice in one cell with two roles is a problem: a timetable would have
/// them hear two candidates at once.
pub(crate) fn read_summons(
    path: &Path,
    separator: Separator,
) -> Result<(Vec<SummonRow>, Vec<String>), InputError> {
    let mut problems = Problems::default();
    let rows = read_small_table(path, separator, &SUMMONS_COLUMNS, 4, &mut problems);
    let mut out = Vec::new();
    for (line, f) in rows {
        let [examiner_id, name, subject, center, day, half_day, role] = f;
        let Some(role) = Role::from_code(&role) else {
            problems.push(path, line, "role", &role, "firm or reserve");
            continue;
        };
        if examiner_id.is_empty() || subject.is_empty() || center.is_empty() {
            let expected = "an examiner id, a subject and a centre on every row";
            problems.push(path, line, "examiner_id", &examiner_id, expected);
            continue;
        }
        let half = match half_day_of(&day, &half_day) {
            Ok(half) => half,
            Err(expected) => {
                problems.push(path, line, "half_day", &half_day, expected);
                continue;
            }
        };
        out.push((
            line,
            SummonRow {
                examiner_id,
                name,
                subject,
                center,
                day,
                half,
                role,
            },
        ));
    }
    let (rows, notes) = once_each(out, path, &mut problems);
    into_result((rows, notes), problems)
}

/// The rows without repeats (a note for each), and a problem for each examiner summoned
/// to two overlapping cells or to one cell under two roles.
fn once_each(
    rows: Vec<(u64, SummonRow)>,
    path: &Path,
    problems: &mut Problems,
) -> (Vec<SummonRow>, Vec<String>) {
    let mut kept: Vec<(u64, SummonRow)> = Vec::with_capacity(rows.len());
    let mut notes = Vec::new();
    let mut by_examiner: HashMap<String, Vec<usize>> = HashMap::new();
    for (line, r) in rows {
        let mine = by_examiner.entry(r.examiner_id.clone()).or_default();
        let clash = mine.iter().map(|&k| &kept[k]).find(|(_, o)| o.overlaps(&r));
        match clash {
            Some((first, o)) if o.same_cell(&r) && o.role == r.role => {
                notes.push(format!(
                    "{}: line {line} repeats line {first} (examiner {}, same cell and role): line {first} kept",
                    path.display(),
                    shown_value(&r.examiner_id)
                ));
            }
            Some((first, o)) => {
                let expected = format!(
                    "each examiner in one cell at a time: {} is also summoned on line {first} ({} at {}{}), the same time",
                    shown_value(&r.examiner_id),
                    shown_value(&o.subject),
                    shown_value(&o.center),
                    if o.same_cell(&r) { ", with another role" } else { "" }
                );
                problems.push(path, line, "examiner_id", &r.examiner_id, &expected);
            }
            None => {
                mine.push(kept.len());
                kept.push((line, r));
            }
        }
    }
    (kept.into_iter().map(|(_, r)| r).collect(), notes)
}

impl SummonRow {
    fn same_cell(&self, o: &SummonRow) -> bool {
        (&self.subject, &self.center, &self.day, self.half)
            == (&o.subject, &o.center, &o.day, o.half)
    }

    /// Whether the two rows' slots share any time: the same day with the same half-day
    /// or one of them the whole day, or either over the whole period (no day).
    fn overlaps(&self, o: &SummonRow) -> bool {
        if self.day.is_empty() || o.day.is_empty() {
            return true;
        }
        self.day == o.day && (self.half.is_none() || o.half.is_none() || self.half == o.half)
    }
}

/// The summons with their names as ids of `data`, whose tables gain the centres,
/// subjects and days that only the summons name (an examiner convened where no
/// candidate is, who is then released).
pub(crate) fn resolve(rows: Vec<SummonRow>, data: &mut Dataset) -> Vec<Summon> {
    data.add_names(
        rows.iter().map(|r| r.center.as_str()),
        rows.iter().map(|r| r.subject.as_str()),
        rows.iter()
            .map(|r| r.day.as_str())
            .filter(|d| !d.is_empty()),
    );
    let id = |found: Option<u32>| found.expect("a name just added");
    rows.into_iter()
        .map(|r| {
            let slot = match r.day.as_str() {
                "" => Slot::PERIOD,
                d => Slot::on(id(data.day_id(d)), r.half),
            };
            Summon {
                cell: CellKey {
                    center: id(data.center_id(&r.center)),
                    subject: id(data.subject_id(&r.subject)),
                    slot,
                },
                examiner_id: r.examiner_id,
                name: r.name,
                role: r.role,
            }
        })
        .collect()
}
