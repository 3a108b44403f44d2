//! Report: everything the tool writes for people and spreadsheets.
//!
//! - [`table`]: tables of typed fields rendered as CSV, plain or for French Excel;
//! - [`files`]: a run's files written together and atomically (temporary file, then
//!   rename), so an interrupted run never leaves half a file an office could mistake
//!   for a result;
//! - [`text`]: the aligned tables printed on stdout;
//! - [`html`]: the self-contained backtest report.

mod files;
mod html;
mod table;
mod text;

pub(crate) use files::{
    same_file, sha256_hex, write_atomic, Manifest, Outputs, WriteError, MANIFEST,
};
pub(crate) use html::report as html_report;
pub(crate) use table::{CsvStyle, Field, Table};
pub(crate) use text::text_table;
