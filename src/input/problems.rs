//! Problems: what is wrong with an input, located precisely enough to fix it in a
//! spreadsheet (file, line, column, value, what was expected).
//!
//! Every reader collects problems instead of stopping at the first; the list is capped
//! and sorted by file and line, whatever the order the checks found them in, so reading
//! in parallel chunks reports what one pass over the files would.

use std::fmt;
use std::path::{Path, PathBuf};

use super::sheet::SheetInfo;
use crate::shown::escape_controls;

/// How many problems one error message lists before summarising the rest.
pub(crate) const MAX_PROBLEMS: usize = 30;

/// One thing wrong with an input file, located precisely enough to fix it in a spreadsheet.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Problem {
    pub(crate) file: PathBuf,
    /// 1-based line in the file; 0 when the problem is about the file as a whole.
    pub(crate) line: u64,
    /// Column name (as in the header) or empty when not about one column.
    pub(crate) column: String,
    pub(crate) value: String,
    pub(crate) expected: String,
    /// For a spreadsheet: the sheet and the cell (`F12`), shown instead of the line.
    pub(crate) cell: Option<(String, String)>,
    /// About the header row (a column missing or twice), where no value is shown.
    pub(crate) header: bool,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        match &self.cell {
            Some((sheet, at)) if self.line > 0 => write!(f, ", sheet \"{sheet}\", {at}")?,
            _ if self.line > 0 => write!(f, ", line {}", self.line)?,
            _ => {}
        }
        if !self.column.is_empty() {
            write!(f, ", column '{}'", self.column)?;
        }
        // An empty value is worth showing in a data row ("candidate_id is empty"), not
        // for a whole file or a missing header column.
        if !self.value.is_empty() || (!self.header && self.line > 1 && !self.column.is_empty()) {
            write!(f, ": value '{}'", self.value)?;
        }
        write!(f, ": expected {}", self.expected)
    }
}

impl Problem {
    fn new(file: &Path, line: u64, column: &str, value: &str, expected: &str) -> Problem {
        Problem {
            file: file.to_path_buf(),
            line,
            column: escape_controls(column, MAX_NAME_SHOWN),
            value: shown_value(value),
            expected: escape_controls(expected, usize::MAX),
            cell: None,
            header: false,
        }
    }
}

/// How many characters of a value a message shows: enough to recognise a typo, too few
/// for a line of personal data (a value that swallowed a row through a stray quote).
const MAX_VALUE_SHOWN: usize = 40;
/// How many characters of a column name a message shows.
const MAX_NAME_SHOWN: usize = 60;

/// A value as a message shows it: control characters escaped (an ESC sequence must not
/// reach the terminal raw), cut at [`MAX_VALUE_SHOWN`] characters, and not at all when it
/// runs over several lines, which only a quote swallowing rows produces and which would
/// print other candidates' data.
pub(crate) fn shown_value(value: &str) -> String {
    if value.contains(['\n', '\r']) {
        return "(a value running over several lines: is a quote missing?)".into();
    }
    escape_controls(value, MAX_VALUE_SHOWN)
}

/// Every problem found in the input files, capped at [`MAX_PROBLEMS`] listed.
#[derive(Debug, thiserror::Error)]
pub struct InputError {
    pub(crate) problems: Vec<Problem>,
    /// How many problems were found beyond those listed.
    pub(crate) more: usize,
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
pub(crate) struct Problems {
    /// The input files in order, to sort problems by file; empty for a single file.
    pub(crate) files: Vec<PathBuf>,
    pub(crate) list: Vec<Problem>,
    /// Problems found beyond those in `list`.
    pub(crate) more: usize,
    /// The spreadsheets among the files, to name cells.
    pub(crate) sheets: Vec<(PathBuf, SheetInfo)>,
}

impl Problems {
    pub(crate) fn for_files(files: &[PathBuf]) -> Problems {
        Problems {
            files: files.to_vec(),
            ..Problems::default()
        }
    }

    pub(crate) fn push(
        &mut self,
        file: &Path,
        line: u64,
        column: &str,
        value: &str,
        expected: &str,
    ) {
        self.add(Problem::new(file, line, column, value, expected));
    }

    /// A problem with the header row on `line` of `file`, about `column` (or none).
    pub(crate) fn push_header(&mut self, file: &Path, line: u64, column: &str, expected: &str) {
        let p = Problem::new(file, line, column, "", expected);
        self.add(Problem { header: true, ..p });
    }

    fn add(&mut self, p: Problem) {
        self.list.push(p);
        self.keep_first(2 * MAX_PROBLEMS);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// How many problems were found, listed or not.
    pub(crate) fn total(&self) -> usize {
        self.list.len() + self.more
    }

    /// Takes in the problems found elsewhere (a chunk of a file, a candidate's rows).
    /// Problems of `path` will name the sheet's cells.
    pub(crate) fn locate_in_sheet(&mut self, path: &Path, info: SheetInfo) {
        self.sheets.push((path.to_path_buf(), info));
    }

    pub(crate) fn absorb(&mut self, other: Problems) {
        self.sheets.extend(other.sheets);
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

    pub(crate) fn into_error(mut self) -> InputError {
        // Sorted even when short.
        self.keep_first(0);
        for p in self.list.iter_mut() {
            if let Some((_, info)) = self.sheets.iter().find(|(f, _)| *f == p.file) {
                p.cell = Some((info.sheet.clone(), info.cell(p.line, &p.column)));
            }
        }
        InputError {
            problems: self.list,
            more: self.more,
        }
    }
}
