//! Report: everything the tool writes for people and spreadsheets.
//!
//! - [`table`]: tables of typed fields rendered as CSV, plain or for French Excel;
//! - [`files`]: a run's files written together and atomically (temporary file, then
//!   rename), so an interrupted run never leaves half a file an office could mistake
//!   for a result;
//! - [`text`]: the aligned tables printed on stdout;
//! - [`html`]: the self-contained backtest report;
//! - [`workbook`]: the tables as one `.xlsx` workbook with French titles (`--xlsx`).

mod files;
mod html;
pub(crate) mod lang;
mod plan;
mod table;
mod text;
mod workbook;

pub(crate) use files::{
    same_file, sha256_hex, write_atomic, Manifest, Outputs, WriteError, MANIFEST,
};
pub(crate) use html::report as html_report;
pub(crate) use lang::Lang;
pub(crate) use plan::{plan_page, PlanPage};
pub(crate) use table::{CsvStyle, Field, Table};
pub(crate) use text::text_table;

/// The name of the workbook `--xlsx` writes beside the CSV files.
pub(crate) const WORKBOOK: &str = "bacpredict.xlsx";

/// The `--xlsx` workbook of a run (see [`workbook`]).
pub(crate) fn xlsx(
    summary: &[(String, String)],
    tables: &[(&str, &Table)],
) -> Result<Vec<u8>, WriteError> {
    workbook::workbook(summary, tables).map_err(|e| WriteError::Workbook(e.to_string()))
}
