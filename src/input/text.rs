//! Text: from a file's bytes to CSV records. Encoding (UTF-8 with or without BOM, else
//! Windows-1252, what French-locale spreadsheets write), the separator (',' or ';'),
//! numbers with a decimal point or comma, and field trimming.
//!
//! These rules are shared by the candidate files and the small tables, so an office
//! learns them once.

use std::path::Path;

use super::problems::Problems;
use super::sheet::{is_spreadsheet, sheet_to_csv};
use super::Separator;
use crate::data::HalfDay;

/// Turns raw bytes into text: UTF-8 (BOM stripped) when valid, else Windows-1252, which
/// is what French-locale spreadsheets write. Windows-1252 maps every byte, so the choice
/// never fails; a NUL byte anywhere marks a binary file instead (it would otherwise be
/// copied into the outputs). Lone CR line endings (old Mac exports) become LF, so lines
/// are numbered as a text editor numbers them. Valid UTF-8 keeps the buffer read (a
/// national export is tens of megabytes) and is checked once.
fn decode(mut bytes: Vec<u8>) -> Result<String, &'static str> {
    if bytes.contains(&0) {
        return Err("a text CSV file (this one looks binary: it holds NUL bytes)");
    }
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    lone_cr_to_lf(&mut bytes);
    String::from_utf8(bytes).or_else(|e| {
        let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(e.as_bytes());
        Ok(text.into_owned())
    })
}

/// Replaces each CR not followed by LF with LF, in place (a byte for a byte, so valid
/// UTF-8 stays valid).
fn lone_cr_to_lf(bytes: &mut [u8]) {
    let mut i = 0;
    while let Some(k) = bytes[i..].iter().position(|&b| b == b'\r') {
        let at = i + k;
        if bytes.get(at + 1) != Some(&b'\n') {
            bytes[at] = b'\n';
        }
        i = at + 1;
    }
}

/// Picks ';' when the header line (the first that is not empty) has more of them than
/// commas (French Excel).
fn detect_separator(text: &str) -> u8 {
    let header = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
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
pub(crate) fn trim(s: &str) -> &str {
    let visible = |c: &u8| c.is_ascii() && !char::from(*c).is_whitespace();
    let b = s.as_bytes();
    if b.first().is_some_and(visible) && b.last().is_some_and(visible) {
        s
    } else {
        s.trim()
    }
}

/// What a half-day that is not one should have been.
pub(crate) const HALF_DAY_EXPECTED: &str = "am or pm (matin or après-midi), or nothing";

/// A slot's half-day as a file writes it beside its day: empty for none, or a half of
/// that day. Else what was expected instead, for the problem.
pub(crate) fn half_day_of(day: &str, half: &str) -> Result<Option<HalfDay>, &'static str> {
    if half.is_empty() {
        return Ok(None);
    }
    match HalfDay::parse(half) {
        Some(h) if !day.is_empty() => Ok(Some(h)),
        Some(_) => Err("a half-day only with its day (the 'day' column)"),
        None => Err(HALF_DAY_EXPECTED),
    }
}

/// What offices write instead of a mark when a candidate sat no written exam in a
/// subject (absent, excused, exempted, not assessed), any case: such a row says the
/// subject is not eligible for that candidate, and is set aside. An empty grade says
/// the same and is counted under [`NO_MARK`].
pub(crate) const ABSENT_MARKS: [&str; 7] = ["ABS", "AB", "ABJ", "DISP", "DI", "NE", "EX"];

/// How a note names an empty grade among the [`ABSENT_MARKS`].
pub(crate) const NO_MARK: &str = "empty";

/// Which kind of absent mark `v` (trimmed) is: its index in [`ABSENT_MARKS`], or
/// `ABSENT_MARKS.len()` for an empty grade; `None` for anything else.
pub(crate) fn absent_mark(v: &str) -> Option<usize> {
    if v.is_empty() {
        return Some(ABSENT_MARKS.len());
    }
    ABSENT_MARKS.iter().position(|c| v.eq_ignore_ascii_case(c))
}

/// Parses a number written with a decimal point or a decimal comma.
pub(crate) fn parse_number(s: &str) -> Option<f64> {
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

/// Reads and decodes a file, or says in `problems` why it cannot. A spreadsheet's sheet
/// (`sheet`, or the first) comes back as comma-separated text, with `true`: the caller
/// reads it with ',' whatever `--separator` says.
pub(crate) fn read_text(
    path: &Path,
    problems: &mut Problems,
    sheet: Option<&str>,
) -> Option<(String, bool)> {
    if is_spreadsheet(path) {
        return match sheet_to_csv(path, sheet) {
            Ok((text, info)) => {
                problems.locate_in_sheet(path, info);
                Some((text, true))
            }
            Err(expected) => {
                problems.push(path, 0, "", "", &expected);
                None
            }
        };
    }
    read_csv_text(path, problems).map(|t| (t, false))
}

fn read_csv_text(path: &Path, problems: &mut Problems) -> Option<String> {
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
pub(crate) fn csv_reader(text: &str, separator: Separator) -> (csv::Reader<&[u8]>, u8) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
