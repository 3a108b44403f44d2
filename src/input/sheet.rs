//! Sheet: spreadsheets (`.xlsx`, `.xlsm`, `.xls`, `.xlsb`, `.ods`) read with calamine and
//! turned into the CSV text every reader already checks, so one set of rules serves both.
//!
//! Exports from the national tools put a title block above the header: the header is
//! the first row naming at least two known columns ([`names_columns`], as for CSV).
//! Cells typed as numbers, text or dates all become the text a CSV would hold (2024.0 is
//! 2024, a date is an ISO date, a mark stored as text `12,5` stays `12,5`, which the
//! number rules read). Line L of the
//! text is row (header row + L - 1) of the sheet, so a problem is located back to the
//! sheet's cell (`sheet "Notes", cell F12`).

use std::path::Path;

use calamine::{open_workbook_auto, Data, Reader};

use super::columns::{canonical, names_columns};

/// Where a spreadsheet-derived text came from, to name cells in problems.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SheetInfo {
    pub(crate) sheet: String,
    /// 1-based sheet row of the header (line 1 of the text).
    pub(crate) header_row: u32,
    /// Column letters, by the column's name (a header's own name, lower case, when it
    /// is no known column's).
    pub(crate) letters: Vec<(String, String)>,
}

impl SheetInfo {
    /// Where text line `line` and `column` are in the sheet: `cell F12`, or `row 12`
    /// when the column is not in the header.
    pub(crate) fn cell(&self, line: u64, column: &str) -> String {
        let row = u64::from(self.header_row) + line.saturating_sub(1);
        let lower = column.to_ascii_lowercase();
        match self.letters.iter().find(|(n, _)| *n == lower) {
            Some((_, letter)) => format!("cell {letter}{row}"),
            None => format!("row {row}"),
        }
    }
}

/// Whether `path` names a spreadsheet, by its extension.
pub(crate) fn is_spreadsheet(path: &Path) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    matches!(
        ext.as_deref(),
        Some("xlsx" | "xlsm" | "xls" | "xlsb" | "ods")
    )
}

/// The sheet `sheet` (the first when `None`) of the workbook at `path`, as CSV text from
/// its header row on, with where it came from; or what went wrong, as the message's
/// "expected".
pub(crate) fn sheet_to_csv(
    path: &Path,
    sheet: Option<&str>,
) -> Result<(String, SheetInfo), String> {
    // calamine parses untrusted archives: a panic inside it is a damaged file, not a crash.
    let read = std::panic::catch_unwind(|| read_range(path, sheet));
    let (name, range) =
        read.map_err(|_| "a readable spreadsheet (this one is damaged)".to_string())??;
    let (row0, col0) = range.start().unwrap_or((0, 0));
    let rows: Vec<&[Data]> = range.rows().collect();
    let header_at = rows
        .iter()
        .position(|r| {
            let fields: Vec<String> = r.iter().map(text).collect();
            names_columns(fields.iter().map(String::as_str))
        })
        .or_else(|| {
            rows.iter()
                .position(|r| r.iter().any(|c| !matches!(c, Data::Empty)))
        })
        .unwrap_or(0);
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    for r in &rows[header_at.min(rows.len())..] {
        let fields: Vec<String> = r.iter().map(text).collect();
        w.write_record(&fields)
            .map_err(|e| format!("a readable spreadsheet ({e})"))?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| format!("a readable spreadsheet ({e})"))?;
    let letters = rows
        .get(header_at)
        .map(|r| {
            r.iter()
                .enumerate()
                .map(|(j, c)| {
                    let name = text(c);
                    let column = canonical(&name)
                        .map_or_else(|| name.trim().to_ascii_lowercase(), str::to_string);
                    (column, letter(col0 + j as u32))
                })
                .collect()
        })
        .unwrap_or_default();
    let info = SheetInfo {
        sheet: name,
        header_row: row0 + header_at as u32 + 1,
        letters,
    };
    let text = String::from_utf8(bytes).map_err(|e| format!("a readable spreadsheet ({e})"))?;
    Ok((text, info))
}

/// The named (or first) sheet's cells.
fn read_range(path: &Path, sheet: Option<&str>) -> Result<(String, calamine::Range<Data>), String> {
    let mut book = open_workbook_auto(path).map_err(|e| format!("a readable spreadsheet ({e})"))?;
    let names = book.sheet_names().to_vec();
    let name = match sheet {
        Some(s) if names.iter().any(|n| n == s) => s.to_string(),
        Some(s) => {
            return Err(format!(
                "a sheet named '{s}' (the workbook has: {})",
                names.join(", ")
            ))
        }
        None => names
            .first()
            .cloned()
            .ok_or_else(|| "a workbook with at least one sheet".to_string())?,
    };
    let range = book
        .worksheet_range(&name)
        .map_err(|e| format!("a readable sheet '{name}' ({e})"))?;
    Ok((name, range))
}

/// A cell as a CSV field: whole numbers without a decimal part, dates as ISO dates.
fn text(c: &Data) -> String {
    match c {
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::String(s) => s.clone(),
        Data::Bool(b) => u8::from(*b).to_string(),
        Data::DateTime(d) if d.is_datetime() => iso_date(d.as_f64()),
        Data::DateTime(d) => d.as_f64().to_string(),
        Data::DateTimeIso(s) => s.get(..10).unwrap_or(s).to_string(),
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e}"),
        Data::Empty => String::new(),
    }
}

/// The ISO date of an Excel serial date (days since 1899-12-30, the 1900 system).
fn iso_date(serial: f64) -> String {
    // Days since 1970-01-01, then the civil date (Howard Hinnant's algorithm).
    let z = serial.floor() as i64 - 25569 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The spreadsheet letters of 0-based column `c` (0 is A, 26 is AA).
fn letter(mut c: u32) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).expect("ASCII letters")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_and_dates() {
        assert_eq!(letter(0), "A");
        assert_eq!(letter(5), "F");
        assert_eq!(letter(25), "Z");
        assert_eq!(letter(26), "AA");
        assert_eq!(letter(27), "AB");
        assert_eq!(letter(701), "ZZ");
        assert_eq!(letter(702), "AAA");
        assert_eq!(iso_date(45_845.0), "2025-07-07");
        assert_eq!(iso_date(1.0), "1899-12-31");
    }
}
