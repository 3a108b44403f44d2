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
use super::{ReadOptions, COLUMNS};
use crate::data::SubjectRow;

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
}

impl ParsedRow {
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
    col: &[usize; 9],
    (path, file): (&Path, usize),
    chunk_idx: usize,
    opts: &ReadOptions,
) -> Chunk {
    let mut problems = Problems::default();
    let mut centers = Interner::default();
    let mut tracks = Interner::default();
    let mut subjects = Interner::default();
    let mut rows = Vec::new();
    let mut ids = String::new();
    let mut rows_read = 0;
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(sep)
        .flexible(true)
        .has_headers(false)
        .from_reader(std::io::Cursor::new(&bytes[..*end]));
    if let Err(e) = rdr.seek(start.clone()) {
        problems.push(
            path,
            start.line(),
            "",
            "",
            &format!("a well-formed CSV row ({e})"),
        );
    }
    let mut record = csv::StringRecord::new();
    loop {
        let line = rdr.position().line() + 1;
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                problems.push(path, line, "", "", &format!("a well-formed CSV row ({e})"));
                break;
            }
        }
        let line = record.position().map(|p| p.line()).unwrap_or(line);
        if record.iter().all(|f| trim(f).is_empty()) {
            continue;
        }
        rows_read += 1;
        let field = |k: usize| -> &str {
            if col[k] == usize::MAX {
                ""
            } else {
                trim(record.get(col[k]).unwrap_or(""))
            }
        };
        let mut row_ok = true;
        let mut bad = |k: usize, v: &str, expected: &str, problems: &mut Problems| {
            problems.push(path, line, COLUMNS[k], v, expected);
            row_ok = false;
        };
        let session = match field(0).parse::<i32>() {
            Ok(s) if (1900..=2200).contains(&s) => s,
            _ => {
                bad(0, field(0), "a session year such as 2024", &mut problems);
                0
            }
        };
        let id = field(1);
        if id.is_empty() {
            bad(1, id, "a non-empty candidate id", &mut problems);
        }
        let center = field(2);
        if center.is_empty() {
            bad(2, center, "a non-empty exam centre", &mut problems);
        }
        let track = field(3);
        if track.is_empty() {
            bad(
                3,
                track,
                "a non-empty track (GENERALE, STMG, ...)",
                &mut problems,
            );
        }
        let average = match parse_number(field(4)) {
            Some(v) if (0.0..=20.0).contains(&v) => v,
            _ => {
                bad(4, field(4), "an average between 0 and 20", &mut problems);
                0.0
            }
        };
        let subject = field(5);
        if subject.is_empty() {
            bad(5, subject, "a non-empty subject code", &mut problems);
        }
        let coefficient = match parse_number(field(6)) {
            Some(v) if v > 0.0 => v,
            _ => {
                bad(6, field(6), "a coefficient greater than 0", &mut problems);
                0.0
            }
        };
        let grade = match parse_number(field(7)) {
            Some(v) if (0.0..=20.0).contains(&v) => v,
            _ => {
                bad(7, field(7), "a mark between 0 and 20", &mut problems);
                0.0
            }
        };
        let chosen = match field(8) {
            "" => {
                if opts.require_chosen {
                    bad(
                        8,
                        "",
                        "1 or 0 (history files say which orals were taken)",
                        &mut problems,
                    );
                }
                None
            }
            "1" => Some(true),
            "0" => Some(false),
            v => {
                bad(8, v, "1 (oral taken) or 0", &mut problems);
                None
            }
        };
        if !row_ok {
            continue;
        }
        let start = ids.len();
        ids.push_str(id);
        rows.push(ParsedRow {
            line,
            session,
            id: start..ids.len(),
            center: centers.get(center),
            track: tracks.get(track),
            average,
            subject: subjects.get(subject),
            coefficient,
            grade,
            chosen,
        });
    }
    let mut chunk = Chunk {
        file,
        rows,
        ids,
        centers,
        tracks,
        subjects,
        runs: Vec::new(),
        problems,
        rows_read,
    };
    group_runs(&mut chunk, chunk_idx, path);
    chunk
}
