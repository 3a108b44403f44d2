//! Chunks: the data rows of a file cut into fixed-size chunks, each parsed and checked
//! field by field on its own core.
//!
//! The chunk size is fixed (not one per core) so that nothing, the problems listed
//! included, depends on the machine. A chunk keeps its own name tables; they are renamed
//! to the sorted tables of the whole input in [`super::merge`].

use std::collections::HashMap;
use std::path::Path;

use super::problems::Problems;
use super::runs::{group_runs, Pending};
use super::text::{parse_number, trim};
use super::{ReadOptions, COLUMNS, N_COLUMNS};
use crate::data::{HalfDay, Slot, SubjectRow, MAX_MARK};

/// Names in order of first appearance, each with its index. Three lookups per row of a
/// national file: the hasher is foldhash's (SipHash, the default, guards against
/// adversarial keys, which a file of centre names is not), and a candidate's rows, which
/// repeat the centre and track, hit the last name without hashing.
#[derive(Default)]
pub(crate) struct Interner {
    pub(crate) names: Vec<String>,
    pub(crate) index: HashMap<String, u32, foldhash::fast::FixedState>,
    pub(crate) last: u32,
}

impl Interner {
    pub(crate) fn get(&mut self, name: &str) -> u32 {
        if self
            .names
            .get(self.last as usize)
            .is_some_and(|n| n == name)
        {
            return self.last;
        }
        let i = match self.index.get(name) {
            Some(&i) => i,
            None => {
                let i = self.names.len() as u32;
                self.names.push(name.to_string());
                self.index.insert(name.to_string(), i);
                i
            }
        };
        self.last = i;
        i
    }
}

/// One data row whose fields passed their checks; names are indices into its chunk's
/// own name tables.
pub(crate) struct ParsedRow {
    pub(crate) line: u64,
    pub(crate) session: i32,
    /// The candidate id, as a range of its chunk's `ids`: one string per row would be
    /// a million allocations at national scale.
    pub(crate) id: std::ops::Range<usize>,
    pub(crate) center: u32,
    pub(crate) track: u32,
    pub(crate) average: f64,
    pub(crate) subject: u32,
    pub(crate) coefficient: f64,
    pub(crate) grade: f64,
    pub(crate) chosen: Option<bool>,
    /// Index into the chunk's day names, `u32::MAX` without a slot.
    pub(crate) day: u32,
    pub(crate) half: Option<HalfDay>,
}

impl ParsedRow {
    /// The row's slot, its day still a number of the chunk's own day names.
    pub(crate) fn slot(&self) -> Option<Slot> {
        (self.day != u32::MAX).then_some(Slot {
            day: self.day,
            half: self.half,
        })
    }

    pub(crate) fn subject_row(&self, subject: u32) -> SubjectRow {
        SubjectRow {
            subject,
            coefficient: self.coefficient,
            grade: self.grade,
            chosen: self.chosen,
        }
    }
}

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
}

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
    col: &[usize; N_COLUMNS],
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
        if let Some(fields) = row.fields(opts.require_chosen) {
            chunk.push_row(line, &fields);
        }
    }
    group_runs(&mut chunk, chunk_idx, path);
    chunk
}

/// The longest candidate id accepted (Cyclades numbers have 11 digits): a longer one is
/// a damaged file, and would be copied into every output.
pub(crate) const MAX_ID_CHARS: usize = 64;
/// The longest centre, track or subject name accepted.
pub(crate) const MAX_NAME_CHARS: usize = 120;
/// The largest coefficient accepted: the coefficients of the whole baccalauréat sum to
/// 100 since 2021 (less before), and a huge one would overflow a candidate's sums.
pub(crate) const MAX_COEFFICIENT: f64 = 100.0;

/// A data row's fields once each passed its check.
struct Fields<'r> {
    session: i32,
    id: &'r str,
    center: &'r str,
    track: &'r str,
    average: f64,
    subject: &'r str,
    coefficient: f64,
    grade: f64,
    chosen: Option<bool>,
    /// The slot's day (empty without one) and half-day.
    day: &'r str,
    half: Option<HalfDay>,
}

/// The checks of one data row: each field is checked, every problem recorded, and the
/// row kept only if all pass.
struct RowCheck<'r, 'p> {
    record: &'r csv::StringRecord,
    col: &'r [usize; N_COLUMNS],
    path: &'r Path,
    line: u64,
    problems: &'p mut Problems,
    ok: bool,
}

impl<'r> RowCheck<'r, '_> {
    /// Field `k` of [`COLUMNS`], trimmed; empty when the column is absent.
    fn field(&self, k: usize) -> &'r str {
        match self.col[k] {
            usize::MAX => "",
            i => trim(self.record.get(i).unwrap_or("")),
        }
    }

    fn bad(&mut self, k: usize, value: &str, expected: &str) {
        self.problems
            .push(self.path, self.line, COLUMNS[k], value, expected);
        self.ok = false;
    }

    /// A non-empty text field of at most `max` characters.
    fn text(&mut self, k: usize, expected: &str, max: usize) -> &'r str {
        let v = self.field(k);
        if v.is_empty() {
            self.bad(k, v, expected);
        } else if v.chars().count() > max {
            self.bad(k, v, &format!("at most {max} characters"));
        }
        v
    }

    fn number(&mut self, k: usize, valid: impl Fn(f64) -> bool, expected: &str) -> f64 {
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
        let session = match self.field(0).parse::<i32>() {
            Ok(s) if (1900..=2200).contains(&s) => s,
            _ => {
                self.bad(0, self.field(0), "a session year such as 2024");
                0
            }
        };
        let mark = |v: f64| (0.0..=MAX_MARK).contains(&v);
        let fields = Fields {
            session,
            id: self.text(1, "a non-empty candidate id", MAX_ID_CHARS),
            center: self.text(2, "a non-empty exam centre", MAX_NAME_CHARS),
            track: self.text(3, "a non-empty track (GENERALE, STMG, ...)", MAX_NAME_CHARS),
            average: self.number(4, mark, "an average between 0 and 20"),
            subject: self.text(5, "a non-empty subject code", MAX_NAME_CHARS),
            coefficient: self.number(
                6,
                |v| v > 0.0 && v <= MAX_COEFFICIENT,
                "a coefficient greater than 0 and at most 100 (the whole baccalauréat)",
            ),
            grade: self.number(7, mark, "a mark between 0 and 20"),
            chosen: self.chosen(require_chosen),
            day: self.text_or_empty(9, MAX_NAME_CHARS),
            half: self.half_day(),
        };
        self.ok.then_some(fields)
    }

    /// An optional text field of at most `max` characters.
    fn text_or_empty(&mut self, k: usize, max: usize) -> &'r str {
        let v = self.field(k);
        if v.chars().count() > max {
            self.bad(k, v, &format!("at most {max} characters"));
        }
        v
    }

    /// `half_day`: empty, or a half of the day named in `day`.
    fn half_day(&mut self) -> Option<HalfDay> {
        let v = self.field(10);
        if v.is_empty() {
            return None;
        }
        match HalfDay::parse(v) {
            Some(h) if !self.field(9).is_empty() => Some(h),
            Some(_) => {
                self.bad(10, v, "a half-day only with its day (the 'day' column)");
                None
            }
            None => {
                self.bad(10, v, "am or pm (matin or après-midi), or nothing");
                None
            }
        }
    }

    fn chosen(&mut self, required: bool) -> Option<bool> {
        match self.field(8) {
            "" => {
                if required {
                    self.bad(8, "", "1 or 0 (history files say which orals were taken)");
                }
                None
            }
            "1" => Some(true),
            "0" => Some(false),
            v => {
                self.bad(8, v, "1 (oral taken) or 0");
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
            grade: f.grade,
            chosen: f.chosen,
            day: if f.day.is_empty() {
                u32::MAX
            } else {
                self.days.get(f.day)
            },
            half: f.half,
        });
    }
}
