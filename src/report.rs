//! Report: writing tables (CSV, plain or French-Excel) and files, atomically.
//!
//! Every output goes to a temporary file in the destination folder and is renamed into
//! place once complete, so an interrupted run or a failure never leaves half a file that
//! an office could mistake for a result. The HTML report lives in [`crate::html`].

use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// How CSV files are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CsvStyle {
    /// ',' separator, decimal point, UTF-8 without BOM.
    #[default]
    Plain,
    /// What Excel in a French locale opens directly: ';', decimal comma, UTF-8 with BOM.
    FrenchExcel,
}

/// A table to be written as CSV: header and rows of cells.
#[derive(Debug, Clone, Default)]
pub struct Table<'a> {
    pub header: Vec<String>,
    pub rows: Vec<Vec<Cell<'a>>>,
}

/// A table cell; numbers keep their precision so that the style decides the decimal mark.
/// Text borrows when it can: the national forecast's candidates.csv would otherwise copy
/// four names into a fresh string for each of its 300,000 rows.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Text(std::borrow::Cow<'a, str>),
    Int(i64),
    /// Value and number of decimals.
    Num(f64, usize),
}

impl<'a> From<&'a str> for Cell<'a> {
    fn from(s: &'a str) -> Cell<'a> {
        Cell::Text(s.into())
    }
}
impl From<String> for Cell<'_> {
    fn from(s: String) -> Self {
        Cell::Text(s.into())
    }
}
impl From<usize> for Cell<'_> {
    fn from(v: usize) -> Self {
        Cell::Int(v as i64)
    }
}
impl From<i32> for Cell<'_> {
    fn from(v: i32) -> Self {
        Cell::Int(i64::from(v))
    }
}

impl Cell<'_> {
    /// The cell's text on its own (the tests' reference rendering).
    #[cfg(test)]
    pub fn render(&self, style: CsvStyle) -> String {
        let mut s = String::new();
        self.render_into(style, &mut s);
        s
    }

    /// Appends the cell's text to `out`: the national forecast writes a few million
    /// cells, and a fresh string for each one cost more than the formatting.
    pub fn render_into(&self, style: CsvStyle, out: &mut String) {
        use std::fmt::Write as _;
        match self {
            Cell::Text(s) => out.push_str(s),
            Cell::Int(v) => write!(out, "{v}").expect("write to a string"),
            Cell::Num(v, d) => {
                // -0.0000 reads as a bug in a spreadsheet.
                let v = if v.abs() < 0.5 * 10f64.powi(-(*d as i32)) {
                    0.0
                } else {
                    *v
                };
                let start = out.len();
                write!(out, "{v:.d$}", d = *d).expect("write to a string");
                if style == CsvStyle::FrenchExcel {
                    if let Some(i) = out[start..].find('.') {
                        out.replace_range(start + i..start + i + 1, ",");
                    }
                }
            }
        }
    }
}

impl<'a> Table<'a> {
    pub fn new(header: &[&str]) -> Table<'a> {
        Table {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }
    pub fn push(&mut self, row: Vec<Cell<'a>>) {
        debug_assert_eq!(row.len(), self.header.len());
        self.rows.push(row);
    }

    pub fn to_csv(&self, style: CsvStyle) -> Vec<u8> {
        let (sep, bom) = match style {
            CsvStyle::Plain => (b',', false),
            CsvStyle::FrenchExcel => (b';', true),
        };
        let mut out = Vec::new();
        if bom {
            out.extend_from_slice(b"\xEF\xBB\xBF");
        }
        let mut w = csv::WriterBuilder::new().delimiter(sep).from_writer(out);
        w.write_record(&self.header).expect("write to memory");
        let mut out = w.into_inner().expect("flush to memory");
        // Rows are rendered in blocks on every core (the national forecast's
        // candidates.csv has 300,000 of them); each row's text depends on that row only,
        // so the bytes are the same as in one pass.
        let blocks: Vec<&[Vec<Cell>]> = self.rows.chunks(ROWS_PER_BLOCK).collect();
        for block in crate::parallel::par_map(blocks, |rows| render_rows(rows, sep, style)) {
            out.extend_from_slice(&block);
        }
        out
    }
}

/// Rows rendered per block by [`Table::to_csv`].
const ROWS_PER_BLOCK: usize = 20_000;

fn render_rows(rows: &[Vec<Cell>], sep: u8, style: CsvStyle) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(sep)
        .from_writer(Vec::new());
    let width = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let mut fields = vec![String::new(); width];
    for r in rows {
        for (f, c) in fields.iter_mut().zip(r) {
            f.clear();
            c.render_into(style, f);
        }
        w.write_record(&fields[..r.len()]).expect("write to memory");
    }
    w.into_inner().expect("flush to memory")
}

/// Writes `bytes` to `path` through a temporary file in the same folder, renamed into
/// place, so readers see either the old file or the whole new one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let err = |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(err)?;
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(err)?;
    tmp.write_all(bytes).map_err(err)?;
    // tempfile creates 0600 files; outputs are ordinary files for the office to share.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(err)?;
    }
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

/// A set of files written together: everything is rendered in memory first, then each
/// file is renamed into place, so a failure while computing leaves no output at all.
#[derive(Default)]
pub struct Outputs {
    files: Vec<(PathBuf, Vec<u8>)>,
}

impl Outputs {
    pub fn add(&mut self, path: PathBuf, bytes: Vec<u8>) {
        self.files.push((path, bytes));
    }
    pub fn add_table(&mut self, dir: &Path, name: &str, table: &Table, style: CsvStyle) {
        self.add(dir.join(name), table.to_csv(style));
    }
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.files.iter().map(|(p, _)| p.as_path())
    }
    pub fn write(&self) -> Result<(), WriteError> {
        for (p, b) in &self.files {
            write_atomic(p, b)?;
        }
        Ok(())
    }
}

/// A table for people: columns padded to their widest cell, numbers right-aligned.
pub fn text_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let n = header.len();
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate().take(n) {
            width[i] = width[i].max(c.chars().count());
        }
    }
    let numeric =
        |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || ".-+%,".contains(c));
    let mut out = String::new();
    let line = |cells: &[String], out: &mut String| {
        let mut parts = Vec::new();
        for (i, c) in cells.iter().enumerate().take(n) {
            let pad = width[i] - c.chars().count();
            if i > 0 && numeric(c) {
                parts.push(format!("{}{}", " ".repeat(pad), c));
            } else {
                parts.push(format!("{}{}", c, " ".repeat(pad)));
            }
        }
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    line(
        &header.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        &mut out,
    );
    let rule: Vec<String> = width.iter().map(|w| "-".repeat(*w)).collect();
    line(&rule, &mut out);
    for r in rows {
        line(r, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_excel_uses_semicolon_comma_and_bom() {
        let mut t = Table::new(&["subject", "expected"]);
        t.push(vec!["PHILOSOPHIE".into(), Cell::Num(12.345, 2)]);
        let bytes = t.to_csv(CsvStyle::FrenchExcel);
        assert_eq!(
            bytes,
            "\u{feff}subject;expected\nPHILOSOPHIE;12,35\n".as_bytes()
        );
        let plain = t.to_csv(CsvStyle::Plain);
        assert_eq!(plain, b"subject,expected\nPHILOSOPHIE,12.35\n");
    }

    /// Large tables are rendered in blocks on several threads: the bytes must be those
    /// of a single pass, across block boundaries, quoting included.
    #[test]
    fn blocks_render_like_one_pass() {
        let mut t = Table::new(&["id", "name", "p"]);
        for i in 0..(2 * ROWS_PER_BLOCK + 7) {
            let name = if i % 3 == 0 { "a;b, \"c\"" } else { "Épinal" };
            t.push(vec![
                Cell::Int(i as i64),
                name.into(),
                Cell::Num(i as f64 / 7.0, 4),
            ]);
        }
        for style in [CsvStyle::Plain, CsvStyle::FrenchExcel] {
            let sep = if style == CsvStyle::Plain { b',' } else { b';' };
            let mut w = csv::WriterBuilder::new()
                .delimiter(sep)
                .from_writer(Vec::new());
            w.write_record(&t.header).unwrap();
            for r in &t.rows {
                w.write_record(r.iter().map(|c| c.render(style))).unwrap();
            }
            let mut want = if style == CsvStyle::FrenchExcel {
                b"\xEF\xBB\xBF".to_vec()
            } else {
                Vec::new()
            };
            want.extend(w.into_inner().unwrap());
            assert!(t.to_csv(style) == want, "{style:?}");
        }
    }

    #[test]
    fn negative_zero_is_written_as_zero() {
        assert_eq!(Cell::Num(-0.00001, 2).render(CsvStyle::Plain), "0.00");
    }
}
