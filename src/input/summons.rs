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
use crate::data::{CellKey, Dataset, HalfDay, Role, Slot, Summon, ZoneMap};

/// The columns written: [`SUMMONS_COLUMNS`], without `zone` for a plan without zones.
pub(crate) fn columns(zones: &ZoneMap) -> &'static [&'static str] {
    let n = SUMMONS_COLUMNS.len() - usize::from(zones.is_empty());
    &SUMMONS_COLUMNS[..n]
}

/// The row written for a summons, in [`columns`] order, its names looked up in the
/// dataset the plan was made on and its zones: a zone's pooled reserve has no centre.
pub(crate) fn row<'a>(s: &'a Summon, data: &'a Dataset, zones: &'a ZoneMap) -> Vec<&'a str> {
    let [center, subject, day, half] = data.cell_names(&s.cell);
    let zone = s.zone.or_else(|| zones.of(s.cell.center));
    let mut row = vec![
        s.examiner_id.as_str(),
        &s.name,
        subject,
        if s.zone.is_some() { "" } else { center },
        day,
        half,
        s.role.code(),
    ];
    if !zones.is_empty() {
        row.push(zone.map_or("", |z| zones.names[z as usize].as_str()));
    }
    row
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
    /// Empty but for a zone's pooled reserve, whose centre is empty.
    zone: String,
    line: u64,
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
        let [examiner_id, name, subject, center, day, half_day, role, zone] = f;
        let Some(role) = Role::from_code(&role) else {
            problems.push(path, line, "role", &role, "firm or reserve");
            continue;
        };
        if examiner_id.is_empty() || subject.is_empty() {
            let expected = "an examiner id and a subject on every row";
            problems.push(path, line, "examiner_id", &examiner_id, expected);
            continue;
        }
        if center.is_empty() && (zone.is_empty() || role != Role::Reserve) {
            let expected = "a centre, or for a zone's pooled reserve the role reserve and a zone";
            problems.push(path, line, "center", &center, expected);
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
                day,
                half,
                role,
                zone: if center.is_empty() {
                    zone
                } else {
                    String::new()
                },
                center,
                line,
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
        (
            &self.subject,
            &self.center,
            &self.zone,
            &self.day,
            self.half,
        ) == (&o.subject, &o.center, &o.zone, &o.day, o.half)
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

/// Adds to `data`'s tables the centres, subjects and days that only the summons name
/// (an examiner convened where no candidate is, who is then released). Done before the
/// plan's hosts and zones are read against the data, whose ids it renumbers.
pub(crate) fn add_names(rows: &[SummonRow], data: &mut Dataset) {
    data.add_names(
        rows.iter()
            .map(|r| r.center.as_str())
            .filter(|c| !c.is_empty()),
        rows.iter().map(|r| r.subject.as_str()),
        rows.iter()
            .map(|r| r.day.as_str())
            .filter(|d| !d.is_empty()),
    );
}

/// The summons with their names as ids of `data` (which [`add_names`] completed) and of
/// the plan's `zones`: a pooled reserve of a zone the plan does not have is a problem.
pub(crate) fn resolve(
    rows: Vec<SummonRow>,
    data: &Dataset,
    zones: &ZoneMap,
    path: &Path,
) -> Result<Vec<Summon>, InputError> {
    let id = |found: Option<u32>| found.expect("a name add_names added");
    let mut problems = Problems::default();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let slot = match r.day.as_str() {
            "" => Slot::PERIOD,
            d => Slot::on(id(data.day_id(d)), r.half),
        };
        let (center, zone) = if r.center.is_empty() {
            let zone = zones.id(&r.zone);
            match zone.and_then(|z| zones.centers(z).next()) {
                Some(first) => (first, zone),
                None => {
                    let expected = if zones.is_empty() {
                        "a centre: the plan next to this file was made without --zones (give confirm --zones)"
                    } else {
                        "a zone of the plan's zones file"
                    };
                    problems.push(path, r.line, "zone", &r.zone, expected);
                    continue;
                }
            }
        } else {
            (id(data.center_id(&r.center)), None)
        };
        out.push(Summon {
            cell: CellKey {
                center,
                subject: id(data.subject_id(&r.subject)),
                slot,
            },
            examiner_id: r.examiner_id,
            name: r.name,
            role: r.role,
            zone,
        });
    }
    into_result(out, problems)
}
