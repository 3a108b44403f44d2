//! Chunks: the data rows of a file cut into fixed-size chunks, each parsed and checked
//! field by field on its own core.
//!
//! The chunk size is fixed (not one per core) so that nothing, the problems listed
//! included, depends on the machine. A chunk keeps its own name tables; they are renamed
//! to the sorted tables of the whole input in [`super::merge`].

use std::path::Path;

use super::columns::Column;
use super::problems::Problems;
use super::rows::{Interner, ParsedRow};
use super::runs::{group_runs, ChunkRows, Pending};
use super::text::{absent_mark, half_day_of, parse_number, trim, ABSENT_MARKS};
use super::ReadOptions;
use crate::data::{HalfDay, Slot, MAX_MARK};

/// Where each [`Column`] is in a file's header, by [`Column::index`]; `None` when the
/// file lacks it.
pub(crate) type ColumnPositions = [Option<usize>; Column::ALL.len()];

/// What one stretch of a file's rows gave.
pub(crate) struct Chunk {
    pub(crate) file: usize,
    pub(crate) rows: Vec<ParsedRow>,
    pub(crate) ids: String,
    pub(crate) centers: Interner,
    pub(crate) tracks: Interner,
    pub(crate) subjects: Interner,
    pub(crate) days: Interner,
    /// The rows grouped into runs of one candidate, sorted by session and id (runs of
    /// one candidate in row order). Names are still the chunk's own.
    pub(crate) runs: Vec<Pending>,
    pub(crate) problems: Problems,
    pub(crate) rows_read: usize,
    /// Rows set aside for an absent mark, by kind ([`absent_mark`]).
    pub(crate) absent: [usize; ABSENT_KINDS],
}

/// The kinds of absent mark: the codes, then the empty grade.
pub(crate) const ABSENT_KINDS: usize = ABSENT_MARKS.len() + 1;

/// Chunks of about this many bytes are parsed in parallel: a fixed size, not one per
/// core, so that nothing (the problems listed included) depends on the machine.
pub(crate) const CHUNK_BYTES: usize = 2 << 20;

/// Where each chunk of the data rows starts (as a CSV position, line included) and
/// ends. Cuts are made after a newline, which is a row boundary only when no field is
/// quoted: a file with any '"' in its rows is read in one piece.
pub(crate) fn chunk_bounds(
    bytes: &[u8],
    start: &csv::Position,
    chunk_bytes: usize,
) -> Vec<(csv::Position, usize)> {
    let first = start.byte() as usize;
    let whole = || vec![(start.clone(), bytes.len())];
    if bytes.len() - first <= chunk_bytes {
        return whole();
    }
    let mut ranges = Vec::new();
    let mut b = first;
    while b < bytes.len() {
        let end = match bytes.get(b + chunk_bytes..) {
            Some(rest) => rest
                .iter()
                .position(|&c| c == b'\n')
                .map_or(bytes.len(), |i| b + chunk_bytes + i + 1),
            None => bytes.len(),
        };
        ranges.push(b..end);
        b = end;
    }
    // Each chunk's newlines (for the line numbers) and quotes, counted on every core.
    let counts = crate::parallel::par_map(ranges.clone(), |r| {
        let part = &bytes[r.clone()];
        let lines = part.iter().filter(|&&c| c == b'\n').count() as u64;
        (lines, part.contains(&b'"'))
    });
    if counts.iter().any(|&(_, quoted)| quoted) {
        return whole();
    }
    let mut line = start.line();
    ranges
        .into_iter()
        .zip(counts)
        .map(|(r, (lines, _))| {
            let mut pos = csv::Position::new();
            pos.set_byte(r.start as u64).set_line(line);
            line += lines;
            (pos, r.end)
        })
        .collect()
}

/// Parses and checks, field by field, the rows from `start` to byte `end` of file number
/// `file`, and groups them into runs: chunk number `chunk_idx` of the whole input.
pub(crate) fn parse_chunk(
    bytes: &[u8],
    sep: u8,
    (start, end): &(csv::Position, usize),
    col: &ColumnPositions,
    (path, file): (&Path, usize),
    chunk_idx: usize,
    opts: &ReadOptions,
) -> Chunk {
    let mut chunk = Chunk::empty(file);
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(sep)
        .flexible(true)
        .has_headers(false)
        .from_reader(std::io::Cursor::new(&bytes[..*end]));
    if let Err(e) = rdr.seek(start.clone()) {
        let expected = format!("a well-formed CSV row ({e})");
        chunk.problems.push(path, start.line(), "", "", &expected);
    }
    let mut record = csv::StringRecord::new();
    loop {
        let line = rdr.position().line() + 1;
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let expected = format!("a well-formed CSV row ({e})");
                chunk.problems.push(path, line, "", "", &expected);
                break;
            }
        }
        let line = record.position().map(|p| p.line()).unwrap_or(line);
        if record.iter().all(|f| trim(f).is_empty()) {
            continue;
        }
        chunk.rows_read += 1;
        let mut row = RowCheck {
            record: &record,
            col,
            path,
            line,
            problems: &mut chunk.problems,
            ok: true,
        };
        match row.fields(opts.require_chosen) {
            Some(Fields { grade: None, .. }) => chunk.absent[row.absent_kind()] += 1,
            Some(mut fields) => {
                fields.subject = opts.subjects.code(fields.subject);
                chunk.push_row(line, &fields);
            }
            None => {}
        }
    }
    let rows = ChunkRows {
        rows: &chunk.rows,
        ids: &chunk.ids,
        names: [
            &chunk.centers.names,
            &chunk.tracks.names,
            &chunk.subjects.names,
            &chunk.days.names,
        ],
        file: chunk.file,
    };
    chunk.runs = group_runs(rows, chunk_idx, path);
    chunk
}

/// The longest candidate id accepted (Cyclades numbers have 11 digits): a longer one is
/// a damaged file, and would be copied into every output.
pub(crate) const MAX_ID_CHARS: usize = 64;
/// The longest centre, track or subject name accepted.
pub(crate) const MAX_NAME_CHARS: usize = 120;
/// The largest coefficient accepted: the coefficients of the whole baccalauréat sum to
/// 100 since 2021 (less before), and a huge one would overflow a candidate's sums.
const MAX_COEFFICIENT: f64 = 100.0;

/// A data row's fields once each passed its check.
struct Fields<'r> {
    session: i32,
    id: &'r str,
    center: &'r str,
    track: &'r str,
    average: f64,
    subject: &'r str,
    coefficient: f64,
    /// `None` for an absent mark: the row is set aside.
    grade: Option<f64>,
    chosen: Option<bool>,
    /// The slot's day (empty without one) and half-day.
    day: &'r str,
    half: Option<HalfDay>,
}

/// The checks of one data row: each field is checked, every problem recorded, and the
/// row kept only if all pass.
struct RowCheck<'r, 'p> {
    record: &'r csv::StringRecord,
    col: &'r ColumnPositions,
    path: &'r Path,
    line: u64,
    problems: &'p mut Problems,
    ok: bool,
}

impl<'r> RowCheck<'r, '_> {
    /// The row's field in column `k`, trimmed; empty when the file lacks the column.
    fn field(&self, k: Column) -> &'r str {
        match self.col[k.index()] {
            None => "",
            Some(i) => trim(self.record.get(i).unwrap_or("")),
        }
    }

    fn bad(&mut self, k: Column, value: &str, expected: &str) {
        self.problems
            .push(self.path, self.line, k.name(), value, expected);
        self.ok = false;
    }

    /// A non-empty text field of at most `max` characters.
    fn text(&mut self, k: Column, expected: &str, max: usize) -> &'r str {
        let v = self.field(k);
        if v.is_empty() {
            self.bad(k, v, expected);
        } else if v.chars().count() > max {
            self.bad(k, v, &format!("at most {max} characters"));
        }
        v
    }

    fn number(&mut self, k: Column, valid: impl Fn(f64) -> bool, expected: &str) -> f64 {
        match parse_number(self.field(k)) {
            Some(v) if valid(v) => v,
            _ => {
                self.bad(k, self.field(k), expected);
                0.0
            }
        }
    }

    /// The row's fields, in column order, or `None` after recording its problems.
    fn fields(&mut self, require_chosen: bool) -> Option<Fields<'r>> {
        let session = match self.field(Column::Session).parse::<i32>() {
            Ok(s) if (1900..=2200).contains(&s) => s,
            _ => {
                let v = self.field(Column::Session);
                self.bad(Column::Session, v, "a session year such as 2024");
                0
            }
        };
        let mark = |v: f64| (0.0..=MAX_MARK).contains(&v);
        let fields = Fields {
            session,
            id: self.text(
                Column::CandidateId,
                "a non-empty candidate id",
                MAX_ID_CHARS,
            ),
            center: self.text(Column::Center, "a non-empty exam centre", MAX_NAME_CHARS),
            track: self.text(
                Column::Track,
                "a non-empty track (GENERALE, STMG, ...)",
                MAX_NAME_CHARS,
            ),
            average: self.number(Column::Average, mark, "an average between 0 and 20"),
            subject: self.text(Column::Subject, "a non-empty subject code", MAX_NAME_CHARS),
            coefficient: self.number(
                Column::Coefficient,
                |v| v > 0.0 && v <= MAX_COEFFICIENT,
                "a coefficient greater than 0 and at most 100 (the whole baccalauréat)",
            ),
            grade: self.grade(),
            chosen: self.chosen(require_chosen),
            day: self.text_or_empty(Column::Day, MAX_NAME_CHARS),
            half: self.half_day(),
        };
        if fields.grade.is_none() && fields.chosen == Some(true) {
            let v = self.field(Column::Grade);
            let expected = "a mark: the oral was taken (chosen 1), so the written exam was sat";
            self.bad(Column::Grade, v, expected);
        }
        self.ok.then_some(fields)
    }

    /// A mark out of 20, or `None` for an absent mark ([`ABSENT_MARKS`], or empty).
    fn grade(&mut self) -> Option<f64> {
        if absent_mark(self.field(Column::Grade)).is_some() {
            return None;
        }
        let expected =
            "a mark between 0 and 20, or a code of absence (empty, ABS, AB, ABJ, DISP, DI, NE, EX)";
        Some(self.number(Column::Grade, |v| (0.0..=MAX_MARK).contains(&v), expected))
    }

    /// Which kind of absent mark the row's grade is (it is one).
    fn absent_kind(&self) -> usize {
        absent_mark(self.field(Column::Grade)).unwrap_or(ABSENT_MARKS.len())
    }

    /// An optional text field of at most `max` characters.
    fn text_or_empty(&mut self, k: Column, max: usize) -> &'r str {
        let v = self.field(k);
        if v.chars().count() > max {
            self.bad(k, v, &format!("at most {max} characters"));
        }
        v
    }

    /// `half_day`: empty, or a half of the day named in `day`.
    fn half_day(&mut self) -> Option<HalfDay> {
        let v = self.field(Column::HalfDay);
        half_day_of(self.field(Column::Day), v).unwrap_or_else(|expected| {
            self.bad(Column::HalfDay, v, expected);
            None
        })
    }

    fn chosen(&mut self, required: bool) -> Option<bool> {
        match self.field(Column::Chosen) {
            "" => {
                if required {
                    let expected = "1 or 0 (history files say which orals were taken)";
                    self.bad(Column::Chosen, "", expected);
                }
                None
            }
            "1" => Some(true),
            "0" => Some(false),
            v => {
                self.bad(Column::Chosen, v, "1 (oral taken) or 0");
                None
            }
        }
    }
}

impl Chunk {
    fn empty(file: usize) -> Chunk {
        Chunk {
            file,
            rows: Vec::new(),
            ids: String::new(),
            centers: Interner::default(),
            tracks: Interner::default(),
            subjects: Interner::default(),
            days: Interner::default(),
            runs: Vec::new(),
            problems: Problems::default(),
            rows_read: 0,
            absent: [0; ABSENT_KINDS],
        }
    }

    /// Keeps a checked row, its names interned and its id in the chunk's one string.
    fn push_row(&mut self, line: u64, f: &Fields<'_>) {
        let start = self.ids.len();
        self.ids.push_str(f.id);
        self.rows.push(ParsedRow {
            line,
            session: f.session,
            id: start..self.ids.len(),
            center: self.centers.get(f.center),
            track: self.tracks.get(f.track),
            average: f.average,
            subject: self.subjects.get(f.subject),
            coefficient: f.coefficient,
            grade: f.grade.unwrap_or_default(),
            chosen: f.chosen,
            slot: if f.day.is_empty() {
                Slot::PERIOD
            } else {
                Slot::on(self.days.get(f.day), f.half)
            },
        });
    }
}
