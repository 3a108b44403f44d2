//! Input: reading and validating the candidate CSV files (history and forecast share one
//! contract, see the README), and the small tables beside them.
//!
//! This module owns everything between raw bytes and a validated [`Dataset`]. It
//! collects problems instead of stopping at the first, because an exam office fixing an
//! export wants the whole list in one run. The work is split by concern:
//! - [`columns`]: the name of every column read, the candidate files' as an enum;
//! - [`problems`]: what is wrong, where, capped and sorted by file and line;
//! - [`text`]: bytes to text (encoding), separator, numbers, CSV readers;
//! - [`header`]: the header row found below a title block, its names matched to the
//!   columns by name, alias or `--column`, the closest name suggested for a missing one;
//! - [`sheet`]: spreadsheets (xlsx, xls, ods) turned into that text, cells located;
//! - [`chunks`]: the data rows cut into fixed-size chunks, parsed and checked field by
//!   field on every core;
//! - [`rows`]: a checked data row, its names numbered in its chunk's tables;
//! - [`runs`]: a chunk's rows grouped into runs of one candidate, checked against the
//!   candidate's first row;
//! - [`merge`]: the runs of every chunk renamed to sorted name tables and merged into
//!   candidates, in the order a single pass over the files would give;
//! - [`tables`]: the roster, the capacity file, the schedule and the simulator's truth;
//! - [`results_day`]: the choices and the oral durations;
//! - [`summons`]: `summons.csv`, the convocations sent: columns, written row, reader;
//! - [`subjects`]: the subjects file, which labels are one subject.

mod chunks;
mod columns;
mod header;
mod merge;
mod problems;
mod results_day;
mod rows;
mod runs;
mod sheet;
mod subjects;
pub(crate) mod summons;
mod tables;
mod text;

pub(crate) use columns::{aliases_help, column_by_hand, Column};
pub(crate) use merge::read_files;
pub(crate) use problems::InputError;
pub(crate) use results_day::{read_choices, read_durations, Choices, Durations};
pub(crate) use subjects::{read_subjects, Subjects};
pub(crate) use tables::{
    apply_schedule, read_capacities, read_regroup, read_roster, read_schedule, read_truth,
    read_zones, Truth,
};

/// Which separator to use; `Auto` looks at the header line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Separator {
    #[default]
    Auto,
    Comma,
    Semicolon,
}

/// What the caller wants from the files.
#[derive(Debug, Clone)]
pub(crate) struct ReadOptions {
    pub(crate) separator: Separator,
    /// Candidates with `min_average <= average < max_average` are kept.
    pub(crate) min_average: f64,
    pub(crate) max_average: f64,
    /// History files must say which subjects were chosen; forecast files need not.
    pub(crate) require_chosen: bool,
    /// The sheet of a spreadsheet input to read (`None`: the first).
    pub(crate) sheet: Option<String>,
    /// `--column NAME=HEADER`: header names read as these columns (column name first).
    pub(crate) columns: Vec<(String, String)>,
    /// `--subjects`: the labels read as another subject's code.
    pub(crate) subjects: Subjects,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            separator: Separator::Auto,
            min_average: 8.0,
            max_average: 10.0,
            require_chosen: true,
            sheet: None,
            columns: Vec::new(),
            subjects: Subjects::default(),
        }
    }
}
