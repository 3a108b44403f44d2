//! Table: a header and rows of typed fields, rendered as CSV. Numbers keep their
//! precision until rendering, so the style (plain or French Excel) decides the decimal
//! mark.

/// How CSV files are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum CsvStyle {
    /// ',' separator, decimal point, UTF-8 without BOM.
    #[default]
    Plain,
    /// What Excel in a French locale opens directly: ';', decimal comma, UTF-8 with BOM.
    FrenchExcel,
}

impl CsvStyle {
    /// The style `--excel` asks for.
    pub(crate) fn for_excel(excel: bool) -> CsvStyle {
        if excel {
            CsvStyle::FrenchExcel
        } else {
            CsvStyle::Plain
        }
    }
}

/// A table to be written as CSV: header and rows of cells.
#[derive(Debug, Clone, Default)]
pub(crate) struct Table<'a> {
    pub(crate) header: Vec<String>,
    pub(crate) rows: Vec<Vec<Field<'a>>>,
}

/// A table cell; numbers keep their precision so that the style decides the decimal mark.
/// Text borrows when it can: the national forecast's candidates.csv would otherwise copy
/// four names into a fresh string for each of its 300,000 rows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Field<'a> {
    Text(std::borrow::Cow<'a, str>),
    Int(i64),
    /// Value and number of decimals.
    Num(f64, usize),
}

impl<'a> From<&'a str> for Field<'a> {
    fn from(s: &'a str) -> Field<'a> {
        Field::Text(s.into())
    }
}
impl From<String> for Field<'_> {
    fn from(s: String) -> Self {
        Field::Text(s.into())
    }
}
impl From<usize> for Field<'_> {
    fn from(v: usize) -> Self {
        Field::Int(v as i64)
    }
}
impl From<i32> for Field<'_> {
    fn from(v: i32) -> Self {
        Field::Int(i64::from(v))
    }
}

impl Field<'_> {
    /// The cell's text on its own (the tests' reference rendering).
    #[cfg(test)]
    pub(crate) fn render(&self, style: CsvStyle) -> String {
        let mut s = String::new();
        self.render_into(style, &mut s);
        s
    }

    /// Appends the cell's text to `out`: the national forecast writes a few million
    /// cells, and a fresh string for each one cost more than the formatting.
    pub(crate) fn render_into(&self, style: CsvStyle, out: &mut String) {
        use std::fmt::Write as _;
        match self {
            Field::Text(s) => {
                // A text starting like a formula would run as one in a spreadsheet (CSV
                // injection): a leading apostrophe makes it text, as Excel's own escape.
                if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                    out.push('\'');
                }
                out.push_str(s)
            }
            Field::Int(v) => write!(out, "{v}").expect("write to a string"),
            Field::Num(v, d) => {
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
    pub(crate) fn new(header: &[&str]) -> Table<'a> {
        Table {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }
    pub(crate) fn push(&mut self, row: Vec<Field<'a>>) {
        debug_assert_eq!(row.len(), self.header.len());
        self.rows.push(row);
    }

    pub(crate) fn to_csv(&self, style: CsvStyle) -> Vec<u8> {
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
        let blocks: Vec<&[Vec<Field>]> = self.rows.chunks(ROWS_PER_BLOCK).collect();
        for block in crate::parallel::par_map(blocks, |rows| render_rows(rows, sep, style)) {
            out.extend_from_slice(&block);
        }
        out
    }
}

/// Rows rendered per block by [`Table::to_csv`].
pub(crate) const ROWS_PER_BLOCK: usize = 20_000;

pub(crate) fn render_rows(rows: &[Vec<Field>], sep: u8, style: CsvStyle) -> Vec<u8> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_excel_uses_semicolon_comma_and_bom() {
        let mut t = Table::new(&["subject", "expected"]);
        t.push(vec!["PHILOSOPHIE".into(), Field::Num(12.345, 2)]);
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
                Field::Int(i as i64),
                name.into(),
                Field::Num(i as f64 / 7.0, 4),
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
        assert_eq!(Field::Num(-0.00001, 2).render(CsvStyle::Plain), "0.00");
    }

    #[test]
    fn regression_text_starting_like_a_formula_is_neutralised() {
        for (text, want) in [
            ("=SUM(A1)", "'=SUM(A1)"),
            ("+33", "'+33"),
            ("-1", "'-1"),
            ("@x", "'@x"),
            ("\tx", "'\tx"),
            ("Lycée", "Lycée"),
            ("a=b", "a=b"),
        ] {
            assert_eq!(Field::from(text).render(CsvStyle::Plain), want);
        }
        // Numbers are numbers, not text: a negative one keeps its sign.
        assert_eq!(Field::Num(-1.5, 1).render(CsvStyle::Plain), "-1.5");
        assert_eq!(Field::Int(-3).render(CsvStyle::Plain), "-3");
    }
}
