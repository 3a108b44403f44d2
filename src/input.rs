//! Input: reading and validating the candidate CSV files (history and forecast share one
//! contract, see the README).
//!
//! This module owns everything between raw bytes and a validated [`Dataset`]: encoding
//! detection (UTF-8 with or without BOM, else Windows-1252), separator detection (',' or
//! ';'), decimal commas, header matching, and every validity rule. It collects problems
//! instead of stopping at the first, because an exam office fixing an export wants the
//! whole list in one run.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

/// How many problems one error message lists before summarising the rest.
pub const MAX_PROBLEMS: usize = 30;

/// One thing wrong with an input file, located precisely enough to fix it in a spreadsheet.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub file: PathBuf,
    /// 1-based line in the file; 0 when the problem is about the file as a whole.
    pub line: u64,
    /// Column name (as in the header) or empty when not about one column.
    pub column: String,
    pub value: String,
    pub expected: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ", line {}", self.line)?;
        }
        if !self.column.is_empty() {
            write!(f, ", column '{}'", self.column)?;
        }
        // An empty value is worth showing in a data row ("candidate_id is empty"), not
        // for a whole file or a missing header column.
        if !self.value.is_empty() || (self.line > 1 && !self.column.is_empty()) {
            write!(f, ": value '{}'", self.value)?;
        }
        write!(f, ": expected {}", self.expected)
    }
}

/// Every problem found in the input files, capped at [`MAX_PROBLEMS`] listed.
#[derive(Debug, thiserror::Error)]
pub struct InputError {
    pub problems: Vec<Problem>,
    /// How many problems were found beyond those listed.
    pub more: usize,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total = self.problems.len() + self.more;
        write!(
            f,
            "{} problem{} in the input",
            total,
            if total == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            write!(f, "\n  - {p}")?;
        }
        if self.more > 0 {
            write!(f, "\n  ... and {} more", self.more)?;
        }
        Ok(())
    }
}

/// The problems found so far: the first [`MAX_PROBLEMS`] in file then line order, and
/// how many more. Which ones those are does not depend on the order they were found in,
/// so reading in parallel chunks lists the same ones as reading in one piece.
#[derive(Default)]
struct Problems {
    /// The input files in order, to sort problems by file; empty for a single file.
    files: Vec<PathBuf>,
    list: Vec<Problem>,
    /// Problems found beyond those in `list`.
    more: usize,
}

impl Problems {
    fn for_files(files: &[PathBuf]) -> Problems {
        Problems {
            files: files.to_vec(),
            ..Problems::default()
        }
    }

    fn push(&mut self, file: &Path, line: u64, column: &str, value: &str, expected: &str) {
        // A binary file could put megabytes in one field: keep messages readable.
        let mut value: String = value.chars().take(40).collect();
        if value.len() < 40 && value.chars().any(|c| c.is_control()) {
            value = value.escape_debug().to_string();
        }
        self.list.push(Problem {
            file: file.to_path_buf(),
            line,
            column: column.to_string(),
            value,
            expected: expected.to_string(),
        });
        self.keep_first(2 * MAX_PROBLEMS);
    }

    fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// How many problems were found, listed or not.
    fn total(&self) -> usize {
        self.list.len() + self.more
    }

    /// Takes in the problems found elsewhere (a chunk of a file, a candidate's rows).
    fn absorb(&mut self, other: Problems) {
        self.list.extend(other.list);
        self.more += other.more;
        self.keep_first(2 * MAX_PROBLEMS);
    }

    /// Once the list is longer than `limit`, keeps only the first [`MAX_PROBLEMS`] in
    /// file then line order (problems on one line stay in the order found) and counts
    /// the rest: a file with a problem on every row does not fill the memory.
    fn keep_first(&mut self, limit: usize) {
        if self.list.len() <= limit {
            return;
        }
        let files = &self.files;
        self.list.sort_by_cached_key(|p| {
            let file = files
                .iter()
                .position(|f| *f == p.file)
                .unwrap_or(usize::MAX);
            (file, p.line)
        });
        let keep = self.list.len().min(MAX_PROBLEMS);
        self.more += self.list.len() - keep;
        self.list.truncate(keep);
    }

    fn into_error(mut self) -> InputError {
        // Sorted even when short.
        self.keep_first(0);
        InputError {
            problems: self.list,
            more: self.more,
        }
    }
}

/// Which separator to use; `Auto` looks at the header line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Separator {
    #[default]
    Auto,
    Comma,
    Semicolon,
}

/// What the caller wants from the files.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    pub separator: Separator,
    /// Candidates with `min_average <= average < max_average` are kept.
    pub min_average: f64,
    pub max_average: f64,
    /// History files must say which subjects were chosen; forecast files need not.
    pub require_chosen: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            separator: Separator::Auto,
            min_average: 8.0,
            max_average: 10.0,
            require_chosen: true,
        }
    }
}

/// One subject a candidate may retake orally.
#[derive(Debug, Clone, PartialEq)]
pub struct SubjectRow {
    /// Index into [`Dataset::subjects`].
    pub subject: u32,
    pub coefficient: f64,
    pub grade: f64,
    /// Whether the oral was taken; `None` in a file to forecast.
    pub chosen: Option<bool>,
}

/// One second-group candidate with all eligible subjects.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub session: i32,
    pub id: String,
    /// Index into [`Dataset::centers`].
    pub center: u32,
    /// Index into [`Dataset::tracks`].
    pub track: u32,
    pub average: f64,
    /// Sorted by subject name, so that outputs do not depend on row order.
    pub subjects: Vec<SubjectRow>,
}

impl Candidate {
    /// Number of orals taken, when known.
    pub fn n_chosen(&self) -> Option<usize> {
        let mut n = 0;
        for s in &self.subjects {
            match s.chosen {
                Some(true) => n += 1,
                Some(false) => {}
                None => return None,
            }
        }
        Some(n)
    }
}

/// Validated candidates, with centre, track and subject names interned.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub candidates: Vec<Candidate>,
    pub centers: Vec<String>,
    pub tracks: Vec<String>,
    pub subjects: Vec<String>,
    /// Candidates read but outside the average band.
    pub set_aside: usize,
    pub rows_read: usize,
}

impl Dataset {
    pub fn center_name(&self, c: &Candidate) -> &str {
        &self.centers[c.center as usize]
    }
    pub fn track_name(&self, c: &Candidate) -> &str {
        &self.tracks[c.track as usize]
    }
    pub fn subject_name(&self, s: &SubjectRow) -> &str {
        &self.subjects[s.subject as usize]
    }
    /// Sessions present, with their candidate counts.
    pub fn sessions(&self) -> BTreeMap<i32, usize> {
        let mut m = BTreeMap::new();
        for c in &self.candidates {
            *m.entry(c.session).or_insert(0) += 1;
        }
        m
    }
    /// The candidates of some sessions, keeping the name tables.
    pub fn filter_sessions(&self, keep: impl Fn(i32) -> bool) -> Dataset {
        Dataset {
            candidates: self
                .candidates
                .iter()
                .filter(|c| keep(c.session))
                .cloned()
                .collect(),
            centers: self.centers.clone(),
            tracks: self.tracks.clone(),
            subjects: self.subjects.clone(),
            set_aside: 0,
            rows_read: 0,
        }
    }
}

const COLUMNS: [&str; 9] = [
    "session",
    "candidate_id",
    "center",
    "track",
    "average",
    "subject",
    "coefficient",
    "grade",
    "chosen",
];

/// Turns raw bytes into text: UTF-8 (BOM stripped) when valid, else Windows-1252, which
/// is what French-locale spreadsheets write. Windows-1252 maps every byte, so the choice
/// never fails; a NUL byte marks a binary file instead. Valid UTF-8 keeps the buffer
/// read (a national export is tens of megabytes) and is checked once.
pub fn decode(mut bytes: Vec<u8>) -> Result<String, &'static str> {
    if bytes.iter().take(64 * 1024).any(|&b| b == 0) {
        return Err("a text CSV file (this one looks binary: it holds NUL bytes)");
    }
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    String::from_utf8(bytes).or_else(|e| {
        let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(e.as_bytes());
        Ok(text.into_owned())
    })
}

/// Picks ';' when the header line has more of them than commas (French Excel).
pub fn detect_separator(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or("");
    let semis = header.bytes().filter(|&b| b == b';').count();
    let commas = header.bytes().filter(|&b| b == b',').count();
    if semis > commas {
        b';'
    } else {
        b','
    }
}

/// `s` without leading and trailing whitespace, as `str::trim` (which also removes
/// non-ASCII spaces such as the no-break space spreadsheets write), with a shortcut for
/// the usual field that starts and ends with a visible ASCII character: every field of
/// every row of a national file is trimmed, and `str::trim` decodes characters.
fn trim(s: &str) -> &str {
    let visible = |c: &u8| c.is_ascii() && !char::from(*c).is_whitespace();
    let b = s.as_bytes();
    if b.first().is_some_and(visible) && b.last().is_some_and(visible) {
        s
    } else {
        s.trim()
    }
}

/// Parses a number written with a decimal point or a decimal comma.
pub fn parse_number(s: &str) -> Option<f64> {
    let s = trim(s);
    if s.is_empty() {
        return None;
    }
    let v = if s.as_bytes().contains(&b',') {
        s.replacen(',', ".", 1).parse::<f64>().ok()?
    } else {
        s.parse::<f64>().ok()?
    };
    v.is_finite().then_some(v)
}

/// Reads and decodes a file, or says in `problems` why it cannot.
fn read_text(path: &Path, problems: &mut Problems) -> Option<String> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            problems.push(path, 0, "", "", &format!("a readable file ({e})"));
            return None;
        }
    };
    match decode(bytes) {
        Ok(text) => Some(text),
        Err(expected) => {
            problems.push(path, 0, "", "", expected);
            None
        }
    }
}

/// A CSV reader over `text` with the given or detected separator, rows of any length
/// (a short row is reported by the caller with its line, not as a parse failure).
fn csv_reader(text: &str, separator: Separator) -> (csv::Reader<&[u8]>, u8) {
    let sep = match separator {
        Separator::Auto => detect_separator(text),
        Separator::Comma => b',',
        Separator::Semicolon => b';',
    };
    let rdr = csv::ReaderBuilder::new()
        .delimiter(sep)
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    (rdr, sep)
}

/// Names in order of first appearance, each with its index. Three lookups per row of a
/// national file: the hasher is foldhash's (SipHash, the default, guards against
/// adversarial keys, which a file of centre names is not), and a candidate's rows, which
/// repeat the centre and track, hit the last name without hashing.
#[derive(Default)]
struct Interner {
    names: Vec<String>,
    index: HashMap<String, u32, foldhash::fast::FixedState>,
    last: u32,
}

impl Interner {
    fn get(&mut self, name: &str) -> u32 {
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

/// A candidate as built from one run of consecutive rows (its first run, once runs are
/// merged), with what is needed to report disagreements.
struct Pending {
    candidate: Candidate,
    /// File index and line of the candidate's first row.
    file: usize,
    line: u64,
    chosen_missing: bool,
    /// Where the run's rows are: a chunk and a range of its rows, to replay them
    /// against the candidate's first run when it turns out not to be the first.
    chunk: usize,
    rows: std::ops::Range<usize>,
    /// What the run's own rows disagreed on; dropped with the run when it is replayed.
    problems: Problems,
}

impl Pending {
    /// Session and candidate id: the rows of one candidate share them.
    fn key(&self) -> (i32, &str) {
        (self.candidate.session, &self.candidate.id)
    }
}

/// One data row whose fields passed their checks; names are indices into its chunk's
/// own name tables.
struct ParsedRow {
    line: u64,
    session: i32,
    /// The candidate id, as a range of its chunk's `ids`: one string per row would be
    /// a million allocations at national scale.
    id: std::ops::Range<usize>,
    center: u32,
    track: u32,
    average: f64,
    subject: u32,
    coefficient: f64,
    grade: f64,
    chosen: Option<bool>,
}

impl ParsedRow {
    fn subject_row(&self, subject: u32) -> SubjectRow {
        SubjectRow {
            subject,
            coefficient: self.coefficient,
            grade: self.grade,
            chosen: self.chosen,
        }
    }
}

/// What one stretch of a file's rows gave.
struct Chunk {
    file: usize,
    rows: Vec<ParsedRow>,
    ids: String,
    centers: Interner,
    tracks: Interner,
    subjects: Interner,
    /// The rows grouped into runs of one candidate, sorted by session and id (runs of
    /// one candidate in row order). Names are still the chunk's own.
    runs: Vec<Pending>,
    problems: Problems,
    rows_read: usize,
}

/// Centre, track and subject names, for messages.
type Names<'a> = [&'a [String]; 3];

/// Adds `row` (its names as indices into `names`, like the candidate's) to the candidate
/// of `p`, whose first row came before it, or says in `problems` why it does not belong:
/// rows that disagree on centre, track or average, or a subject twice. `first_file` is
/// the file of the candidate's first row when it is not the row's own file.
fn add_row(
    p: &mut Pending,
    row: &ParsedRow,
    subject: SubjectRow,
    [centers, tracks, subjects]: Names<'_>,
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

/// Groups a chunk's rows into runs of consecutive rows of one candidate, each checked
/// on its own, and sorts them by session and id. Done on the chunk's own core: the
/// runs are only merged across chunks (and with a candidate's other runs) afterwards.
fn group_runs(chunk: &mut Chunk, chunk_idx: usize, path: &Path) {
    let rows = &chunk.rows;
    let names: Names<'_> = [
        &chunk.centers.names,
        &chunk.tracks.names,
        &chunk.subjects.names,
    ];
    let mut runs: Vec<Pending> = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let r = &rows[i];
        let id = &chunk.ids[r.id.clone()];
        let same = |q: &ParsedRow| q.session == r.session && chunk.ids[q.id.clone()] == *id;
        let end = i + 1 + rows[i + 1..].iter().take_while(|q| same(q)).count();
        let mut p = Pending {
            candidate: Candidate {
                session: r.session,
                id: id.to_string(),
                center: r.center,
                track: r.track,
                average: r.average,
                subjects: Vec::with_capacity(end - i),
            },
            file: chunk.file,
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
    chunk.runs = runs;
}

/// Chunks of about this many bytes are parsed in parallel: a fixed size, not one per
/// core, so that nothing (the problems listed included) depends on the machine.
const CHUNK_BYTES: usize = 2 << 20;

/// Where each chunk of the data rows starts (as a CSV position, line included) and
/// ends. Cuts are made after a newline, which is a row boundary only when no field is
/// quoted: a file with any '"' in its rows is read in one piece.
fn chunk_bounds(
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
fn parse_chunk(
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

/// Reads and validates several files into one dataset. Either every file is valid and a
/// dataset comes back, or an [`InputError`] lists the problems of all of them.
pub fn read_files(paths: &[PathBuf], opts: &ReadOptions) -> Result<Dataset, InputError> {
    read_files_in_chunks(paths, opts, CHUNK_BYTES)
}

/// [`read_files`], cutting the data rows into chunks of about `chunk_bytes`.
///
/// Each chunk is parsed, checked and grouped into runs of one candidate's consecutive
/// rows on its own core; the runs of every chunk are then put in session and id order
/// and merged, the rare candidate whose rows are not all consecutive in one chunk being
/// rebuilt from its first run by replaying the later rows, as one pass over the files in
/// order would.
fn read_files_in_chunks(
    paths: &[PathBuf],
    opts: &ReadOptions,
    chunk_bytes: usize,
) -> Result<Dataset, InputError> {
    let mut problems = Problems::for_files(paths);
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut rows_read = 0usize;

    for (file_idx, path) in paths.iter().enumerate() {
        let Some(text) = read_text(path, &mut problems) else {
            continue;
        };
        if text.trim().is_empty() {
            problems.push(
                path,
                0,
                "",
                "",
                "a header row and data rows (the file is empty)",
            );
            continue;
        }
        let (mut rdr, sep) = csv_reader(&text, opts.separator);
        let header = match rdr.headers() {
            Ok(h) => h.clone(),
            Err(e) => {
                problems.push(path, 1, "", "", &format!("a CSV header row ({e})"));
                continue;
            }
        };
        let mut col = [usize::MAX; 9];
        for (i, h) in header.iter().enumerate() {
            let h = h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase();
            if let Some(k) = COLUMNS.iter().position(|c| *c == h) {
                if col[k] == usize::MAX {
                    col[k] = i;
                }
            }
        }
        let mut missing = false;
        for (k, name) in COLUMNS.iter().enumerate() {
            let required = k < 8 || opts.require_chosen;
            if col[k] == usize::MAX && required {
                let sep_name = if sep == b';' { "';'" } else { "','" };
                problems.push(
                    path,
                    1,
                    name,
                    "",
                    &format!(
                        "a column named '{name}' in the header (separator {sep_name}; found: {})",
                        header.iter().collect::<Vec<_>>().join(", ")
                    ),
                );
                missing = true;
            }
        }
        if missing {
            continue;
        }
        let data_start = rdr.position().clone();
        let bytes = text.as_bytes();
        let first = chunks.len();
        let bounds: Vec<_> = chunk_bounds(bytes, &data_start, chunk_bytes)
            .into_iter()
            .enumerate()
            .collect();
        let parsed = crate::parallel::par_map(bounds, |(k, bound)| {
            parse_chunk(bytes, sep, bound, &col, (path, file_idx), first + k, opts)
        });
        let (mut any_row, mut any_problem) = (false, false);
        for mut chunk in parsed {
            rows_read += chunk.rows_read;
            any_row |= chunk.rows_read > 0;
            any_problem |= chunk.problems.total() > 0;
            problems.absorb(std::mem::take(&mut chunk.problems));
            chunks.push(chunk);
        }
        if !any_row && !any_problem {
            problems.push(path, 0, "", "", "at least one data row after the header");
        }
    }

    // Names in sorted order and everything sorted: every downstream result, the model
    // file included, is then independent of row and file order.
    let sorted = |names: &dyn Fn(&Chunk) -> &Interner| {
        let mut all: Vec<String> = chunks
            .iter()
            .flat_map(|c| names(c).names.iter().cloned())
            .collect();
        all.sort_unstable();
        all.dedup();
        let maps: Vec<Vec<u32>> = chunks
            .iter()
            .map(|c| {
                names(c)
                    .names
                    .iter()
                    .map(|n| all.binary_search(n).expect("a name of this chunk") as u32)
                    .collect()
            })
            .collect();
        (all, maps)
    };
    let (center_names, cmaps) = sorted(&|c| &c.centers);
    let (track_names, tmaps) = sorted(&|c| &c.tracks);
    let (subject_names, smaps) = sorted(&|c| &c.subjects);
    let names: Names<'_> = [&center_names, &track_names, &subject_names];

    crate::parallel::par_for_each_mut(&mut chunks, |k, chunk| {
        for p in chunk.runs.iter_mut() {
            let c = &mut p.candidate;
            c.center = cmaps[k][c.center as usize];
            c.track = tmaps[k][c.track as usize];
            for s in c.subjects.iter_mut() {
                s.subject = smaps[k][s.subject as usize];
            }
            c.subjects.sort_unstable_by_key(|s| s.subject);
        }
    });
    let mut runs: Vec<Pending> = Vec::with_capacity(chunks.iter().map(|c| c.runs.len()).sum());
    for chunk in chunks.iter_mut() {
        runs.append(&mut chunk.runs);
    }
    // Each chunk's runs are sorted already, and a stable sort keeps a candidate's runs in
    // file and row order: its first run comes first.
    runs.sort_by(|a, b| a.key().cmp(&b.key()));

    let mut candidates = Vec::with_capacity(runs.len());
    let mut set_aside = 0;
    let mut runs = runs.into_iter().peekable();
    while let Some(mut p) = runs.next() {
        problems.absorb(std::mem::take(&mut p.problems));
        let mut merged = false;
        while let Some(later) = runs.next_if(|q| q.key() == p.key()) {
            // The later run's own checks compared its rows with its own first row; they
            // are redone against the candidate's first row.
            merged = true;
            let k = later.chunk;
            let chunk = &chunks[k];
            let path = &paths[chunk.file];
            let first_file = (chunk.file != p.file).then(|| paths[p.file].as_path());
            for r in &chunk.rows[later.rows] {
                let row = ParsedRow {
                    center: cmaps[k][r.center as usize],
                    track: tmaps[k][r.track as usize],
                    id: 0..0,
                    ..*r
                };
                let subject = r.subject_row(smaps[k][r.subject as usize]);
                add_row(
                    &mut p,
                    &row,
                    subject,
                    names,
                    path,
                    first_file,
                    &mut problems,
                );
            }
        }
        if merged {
            p.candidate.subjects.sort_unstable_by_key(|s| s.subject);
        }
        let c = p.candidate;
        if let Some(n) = c.n_chosen() {
            if n > 2 {
                problems.push(
                    &paths[p.file],
                    p.line,
                    "chosen",
                    &n.to_string(),
                    "at most two orals per candidate (this candidate's rows have more chosen = 1)",
                );
                continue;
            }
        }
        if p.chosen_missing && c.subjects.iter().any(|s| s.chosen.is_some()) && !opts.require_chosen
        {
            problems.push(
                &paths[p.file],
                p.line,
                "chosen",
                "",
                "'chosen' filled on all or none of a candidate's rows",
            );
            continue;
        }
        if c.average < opts.min_average || c.average >= opts.max_average {
            set_aside += 1;
            continue;
        }
        candidates.push(c);
    }
    if !problems.is_empty() {
        return Err(problems.into_error());
    }
    Ok(Dataset {
        candidates,
        centers: center_names,
        tracks: track_names,
        subjects: subject_names,
        set_aside,
        rows_read,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A history of `n` candidates with four subjects each; every seventh candidate's
    /// last row is moved to the end of the file (rows of one candidate apart).
    fn history(n: usize) -> String {
        let mut rows = String::from(
            "session,candidate_id,center,track,average,subject,coefficient,grade,chosen\n",
        );
        let mut moved = String::new();
        for k in 0..n {
            for (j, subject) in ["FRANCAIS", "PHILOSOPHIE", "SES", "HGGSP"]
                .iter()
                .enumerate()
            {
                let line = format!(
                    "{},C{k:04},Centre {},GENERALE,{}.5,{subject},{},{}.0,{}\n",
                    2020 + k % 3,
                    k % 5,
                    8 + k % 2,
                    2 + j,
                    5 + (k + j) % 10,
                    u8::from(j == k % 4)
                );
                if j == 3 && k % 7 == 0 {
                    moved.push_str(&line);
                } else {
                    rows.push_str(&line);
                }
            }
        }
        rows + &moved
    }

    /// Reading in chunks (as large files are, on several threads) gives what reading in
    /// one piece gives: the same dataset, or the same problems, with rows of a candidate
    /// in different chunks and problems on both sides of chunk boundaries.
    #[test]
    fn chunked_reading_matches_one_piece() {
        let dir = tempfile::tempdir().unwrap();
        let good = history(300);
        let mut bad = good.clone();
        // A mark out of range, a word for a mark, a duplicate subject far from its
        // candidate, a centre that disagrees: 40 problems or more in all, over the cap.
        bad = bad
            .replacen(",6.0,", ",21.0,", 25)
            .replacen(",7.0,", ",abs,", 20);
        bad.push_str("2020,C0003,Centre 3,GENERALE,9.5,SES,4,8.0,0\n");
        bad.push_str("2021,C0001,Centre 4,GENERALE,9.5,MATHS,4,8.0,0\n");
        for (name, text) in [("good.csv", &good), ("bad.csv", &bad)] {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            let paths = [path];
            let opts = ReadOptions::default();
            let whole = read_files_in_chunks(&paths, &opts, usize::MAX);
            let chunked = read_files_in_chunks(&paths, &opts, 500);
            assert!(chunk_bounds(text.as_bytes(), &csv::Position::new(), 500).len() > 10);
            match (whole, chunked) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(name, "good.csv");
                    assert_eq!(a.candidates, b.candidates);
                    assert_eq!(a.centers, b.centers);
                    assert_eq!(a.subjects, b.subjects);
                    assert_eq!(a.rows_read, b.rows_read);
                    assert_eq!(a.candidates.len() + a.set_aside, 300);
                }
                (Err(a), Err(b)) => {
                    assert_eq!(name, "bad.csv");
                    assert_eq!(a.problems, b.problems);
                    assert_eq!(a.more, b.more);
                    assert_eq!(a.problems.len(), MAX_PROBLEMS);
                    assert!(a.more > 10, "{} more", a.more);
                }
                (a, b) => panic!("{name}: {a:?} / {b:?}"),
            }
        }
    }

    /// The problems listed were the first found, not the first by line: one found after
    /// all rows were grouped (three orals) went unlisted behind 30 found while grouping.
    #[test]
    fn regression_listed_problems_are_the_first_by_line_whatever_the_check() {
        let mut text = String::from(
            "session,candidate_id,center,track,average,subject,coefficient,grade,chosen\n",
        );
        for subject in ["FRANCAIS", "SES", "HGGSP"] {
            text.push_str(&format!("2024,A,C,GENERALE,9.5,{subject},4,8.0,1\n"));
        }
        for k in 0..35 {
            for subject in ["FRANCAIS", "SES", "SES"] {
                text.push_str(&format!("2024,B{k},C,GENERALE,9.5,{subject},4,8.0,0\n"));
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.csv");
        std::fs::write(&path, text).unwrap();
        let err = read_files(&[path], &ReadOptions::default()).unwrap_err();
        assert_eq!(err.problems.len() + err.more, 36);
        assert_eq!(
            (err.problems[0].line, err.problems[0].column.as_str()),
            (2, "chosen")
        );
        assert_eq!(err.problems[1].line, 7);
    }

    /// A candidate's rows in two files make one candidate, checked against its first
    /// row in the first file, which a message then names.
    #[test]
    fn a_candidates_rows_in_two_files_are_merged_and_checked_against_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let head = "session,candidate_id,center,track,average,subject,coefficient,grade,chosen\n";
        let a = dir.path().join("a.csv");
        let b = dir.path().join("b.csv");
        std::fs::write(
            &a,
            format!("{head}2024,A,C1,GENERALE,9.5,MATHS,16,8,1\n2024,B,C1,STMG,9,SES,4,7,0\n"),
        )
        .unwrap();
        std::fs::write(&b, format!("{head}2024,A,C1,GENERALE,9.5,SES,16,9,0\n")).unwrap();
        let paths = [a.clone(), b.clone()];
        let data = read_files(&paths, &ReadOptions::default()).unwrap();
        let subjects = |c: &Candidate| -> Vec<&str> {
            c.subjects.iter().map(|s| data.subject_name(s)).collect()
        };
        assert_eq!(data.candidates.len(), 2);
        assert_eq!(subjects(&data.candidates[0]), ["MATHS", "SES"]);

        std::fs::write(&b, format!("{head}2024,A,C2,GENERALE,9.5,SES,16,9,0\n")).unwrap();
        let err = read_files(&paths, &ReadOptions::default()).unwrap_err();
        assert_eq!(err.problems.len(), 1);
        let p = &err.problems[0];
        assert_eq!(
            (p.file.as_path(), p.line, p.value.as_str()),
            (b.as_path(), 2, "C2")
        );
        let first = format!("line 2 of {}: 'C1'", a.display());
        assert!(p.expected.contains(&first), "{}", p.expected);
    }

    #[test]
    fn trim_is_str_trim() {
        for s in [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\u{a0}12,5\u{a0}",
            "\u{b}x\u{b}",
            "\t9.5\r",
            "é",
            "Lycée ",
            "x\u{2003}",
            "\u{feff}x",
        ] {
            assert_eq!(trim(s), s.trim(), "{s:?}");
        }
    }

    #[test]
    fn decimal_comma_and_point() {
        assert_eq!(parse_number("12,5"), Some(12.5));
        assert_eq!(parse_number(" 9.25 "), Some(9.25));
        assert_eq!(parse_number("abs"), None);
        assert_eq!(parse_number(""), None);
        assert_eq!(parse_number("NaN"), None);
    }

    #[test]
    fn windows_1252_is_decoded() {
        let bytes = b"Lyc\xe9e";
        assert_eq!(decode(bytes.to_vec()).unwrap(), "Lycée");
        assert_eq!(decode("Lycée".into()).unwrap(), "Lycée");
        assert_eq!(decode(b"\xEF\xBB\xBFabc".to_vec()).unwrap(), "abc");
        assert!(decode(b"a\0b".to_vec()).is_err());
    }

    #[test]
    fn separator_detection() {
        assert_eq!(detect_separator("a;b;c\n1,5;2;3"), b';');
        assert_eq!(detect_separator("a,b,c\n1;2"), b',');
    }
}

/// One row of an examiner roster.
#[derive(Debug, Clone, PartialEq)]
pub struct RosterEntry {
    pub examiner_id: String,
    pub name: String,
    pub subject: String,
    /// Empty: can be sent to any centre (the pool).
    pub center: String,
    /// Lower first; rows without a priority come after all numbered ones.
    pub priority: i64,
}

/// Reads a small table (roster, capacities): the rows as (line, fields in `columns`
/// order), with the same encoding and separator rules as the candidate files. Columns
/// after `required` are optional and read as empty when absent.
fn read_small_table(
    path: &Path,
    separator: Separator,
    columns: &[&str],
    required: usize,
    problems: &mut Problems,
) -> Vec<(u64, Vec<String>)> {
    let Some(text) = read_text(path, problems) else {
        return Vec::new();
    };
    let (mut rdr, _) = csv_reader(&text, separator);
    let header = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            problems.push(path, 1, "", "", &format!("a CSV header row ({e})"));
            return Vec::new();
        }
    };
    let idx: Vec<Option<usize>> = columns
        .iter()
        .map(|c| {
            header.iter().position(|h| {
                h.trim()
                    .trim_start_matches('\u{feff}')
                    .eq_ignore_ascii_case(c)
            })
        })
        .collect();
    let mut ok = true;
    for (k, c) in columns.iter().enumerate().take(required) {
        if idx[k].is_none() {
            problems.push(
                path,
                1,
                c,
                "",
                &format!("a column named '{c}' in the header"),
            );
            ok = false;
        }
    }
    if !ok {
        return Vec::new();
    }
    let mut out = Vec::new();
    for rec in rdr.records() {
        match rec {
            Ok(r) => {
                if r.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                let line = r.position().map(|p| p.line()).unwrap_or(0);
                let fields = idx
                    .iter()
                    .map(|i| i.and_then(|i| r.get(i)).unwrap_or("").trim().to_string())
                    .collect();
                out.push((line, fields));
            }
            Err(e) => {
                problems.push(path, 0, "", "", &format!("a well-formed CSV row ({e})"));
                break;
            }
        }
    }
    out
}

fn into_result<T>(value: T, problems: Problems) -> Result<T, InputError> {
    if problems.is_empty() {
        Ok(value)
    } else {
        Err(problems.into_error())
    }
}

/// Reads a roster: `examiner_id,name,subject,center[,priority]`.
pub fn read_roster(path: &Path, separator: Separator) -> Result<Vec<RosterEntry>, InputError> {
    let cols = ["examiner_id", "name", "subject", "center", "priority"];
    let mut problems = Problems::default();
    let rows = read_small_table(path, separator, &cols, 4, &mut problems);
    let mut out = Vec::new();
    let mut seen: HashMap<(String, String, String), u64> = HashMap::new();
    for (line, f) in rows {
        if f[0].is_empty() {
            problems.push(path, line, "examiner_id", "", "a non-empty examiner id");
            continue;
        }
        if f[2].is_empty() {
            problems.push(
                path,
                line,
                "subject",
                "",
                "the subject code the examiner can hear",
            );
            continue;
        }
        let priority = if f[4].is_empty() {
            i64::MAX
        } else {
            match f[4].parse::<i64>() {
                Ok(p) => p,
                Err(_) => {
                    problems.push(
                        path,
                        line,
                        "priority",
                        &f[4],
                        "a whole number (lower is summoned first) or nothing",
                    );
                    continue;
                }
            }
        };
        let key = (f[0].clone(), f[2].clone(), f[3].clone());
        if let Some(first) = seen.insert(key, line) {
            problems.push(
                path,
                line,
                "examiner_id",
                &f[0],
                &format!("each examiner once per subject and centre (already at line {first})"),
            );
            continue;
        }
        out.push(RosterEntry {
            examiner_id: f[0].clone(),
            name: f[1].clone(),
            subject: f[2].clone(),
            center: f[3].clone(),
            priority,
        });
    }
    into_result(out, problems)
}

/// Reads per-subject capacities: `subject,capacity`.
pub fn read_capacities(
    path: &Path,
    separator: Separator,
) -> Result<BTreeMap<String, usize>, InputError> {
    let mut problems = Problems::default();
    let rows = read_small_table(path, separator, &["subject", "capacity"], 2, &mut problems);
    let mut out = BTreeMap::new();
    for (line, f) in rows {
        match f[1].parse::<usize>() {
            Ok(c) if c > 0 && !f[0].is_empty() => {
                if out.insert(f[0].clone(), c).is_some() {
                    problems.push(path, line, "subject", &f[0], "each subject once");
                }
            }
            _ => problems.push(
                path,
                line,
                "capacity",
                &f[1],
                "a whole number of candidates per examiner, at least 1",
            ),
        }
    }
    into_result(out, problems)
}

/// Reads the simulator's true probabilities: `session,candidate_id,subject,probability`.
pub fn read_truth(
    path: &Path,
    separator: Separator,
) -> Result<HashMap<(i32, String, String), f64>, InputError> {
    let cols = ["session", "candidate_id", "subject", "probability"];
    let mut problems = Problems::default();
    let rows = read_small_table(path, separator, &cols, 4, &mut problems);
    let mut out = HashMap::new();
    for (line, f) in rows {
        let s = f[0].parse::<i32>();
        let p = parse_number(&f[3]).filter(|p| (0.0..=1.0).contains(p));
        match (s, p) {
            (Ok(s), Some(p)) => {
                out.insert((s, f[1].clone(), f[2].clone()), p);
            }
            (Err(_), _) => problems.push(path, line, "session", &f[0], "a session year"),
            (_, None) => problems.push(
                path,
                line,
                "probability",
                &f[3],
                "a probability between 0 and 1",
            ),
        }
    }
    into_result(out, problems)
}
