//! Header: where a file's header row is and which of its names are the columns a reader
//! asks for.
//!
//! Offices export files with a title block above the header ("Académie de ...,
//! session 2025") and name columns in French (`note`, `matière`, `n° candidat`). The
//! header is the first line naming at least two known columns, a CSV's as a
//! spreadsheet's ([`super::sheet`]); names match by the alias table of
//! [`super::columns`], and `--column NAME=HEADER` maps any other by hand. A column that
//! is still missing is reported with the header name that looks most like it.

use std::borrow::Cow;
use std::path::Path;

use super::columns::{canonical, names_columns, normalised};
use super::problems::{shown_value, Problems};
use super::text::parse_number;

/// How many lines a title block may take above the header.
const MAX_TITLE_LINES: usize = 30;

/// The 1-based line of `text`'s header: the first of its first lines that names at least
/// two known columns (split at ',' or ';'), or 1 when the first line does or none does
/// (the header match then says what is missing).
pub(crate) fn header_line(text: &str) -> usize {
    let is_header = |line: &str| {
        [',', ';']
            .iter()
            .any(|&sep| names_columns(line.split(sep).map(|f| f.trim_matches('"'))))
    };
    text.lines()
        .take(MAX_TITLE_LINES + 1)
        .position(is_header)
        .map_or(1, |i| i + 1)
}

/// `text` with its lines before `header` emptied, their line breaks kept: the CSV reader
/// skips empty lines, so it reads the header first and numbers every line as the file
/// does.
pub(crate) fn without_title(text: &str, header: usize) -> Cow<'_, str> {
    if header <= 1 {
        return Cow::Borrowed(text);
    }
    let mut cut = 0;
    for _ in 1..header {
        cut += text[cut..].find('\n').map_or(text.len() - cut, |i| i + 1);
    }
    let breaks = text[..cut].matches('\n').count();
    Cow::Owned("\n".repeat(breaks) + &text[cut..])
}

/// What a reader asks of a header.
pub(crate) struct Wanted<'a> {
    /// The columns it reads, by name, in its order.
    pub(crate) columns: &'a [&'a str],
    /// How many of them, from the first, a file must have.
    pub(crate) required: usize,
    /// `--column` mappings (column name, header name), for the files that take them;
    /// `None` for the small tables, whose messages then do not suggest the option.
    pub(crate) by_hand: Option<&'a [(String, String)]>,
}

/// How a header matched: each wanted column's position (`None` when absent), and the
/// header names read under another name than the column's, for the note.
pub(crate) struct Matched {
    pub(crate) positions: Vec<Option<usize>>,
    pub(crate) renamed: Vec<(String, &'static str)>,
}

/// Finds the wanted columns in `header` (on line `line` of the file): by a `--column`
/// mapping first, else by name or alias. Records a problem and returns `None` when a
/// column appears twice (which one to read would be a guess) or a required one is
/// missing.
///
/// A header row is echoed in the message only as names: a first row that looks like
/// data (no column name recognised, a number among its fields) is said to be data and
/// not shown, since it would print a candidate's id next to their marks.
pub(crate) fn match_header(
    header: &csv::StringRecord,
    wanted: &Wanted<'_>,
    (sep, line): (u8, u64),
    path: &Path,
    problems: &mut Problems,
) -> Option<Matched> {
    let columns = wanted.columns;
    let by_hand = wanted.by_hand.unwrap_or(&[]);
    let mut idx: Vec<Option<usize>> = vec![None; columns.len()];
    let mut renamed = Vec::new();
    let mut ok = true;
    for (i, h) in header.iter().enumerate() {
        let h = h.trim().trim_start_matches('\u{feff}');
        let Some((k, column)) = column_of(h, columns, by_hand) else {
            continue;
        };
        match idx[k] {
            None => {
                idx[k] = Some(i);
                if normalised(h) != normalised(column) {
                    renamed.push((h.to_string(), column));
                }
            }
            Some(first) => {
                let mut expected = format!(
                    "each column once: '{}' is both column {} and column {}, which one to read would be a guess",
                    columns[k],
                    first + 1,
                    i + 1
                );
                if wanted.by_hand.is_some() {
                    let first_name = header.get(first).unwrap_or("").trim();
                    expected += &format!(
                        " (say which with --column {}=\"{}\")",
                        columns[k],
                        shown_value(first_name)
                    );
                }
                problems.push_header(path, line, columns[k], &expected);
                ok = false;
            }
        }
    }
    for (name, given) in by_hand {
        let found = header.iter().any(|h| normalised(h) == normalised(given));
        if !found {
            let expected = format!(
                "a column named '{}' in the header on line {line} (--column {name}={}; found: {})",
                shown_value(given),
                shown_value(given),
                header_names(header)
            );
            problems.push_header(path, line, name, &expected);
            ok = false;
        }
    }
    let missing: Vec<usize> = (0..wanted.required).filter(|&k| idx[k].is_none()).collect();
    if missing.is_empty() {
        return ok.then_some(Matched {
            positions: idx,
            renamed,
        });
    }
    report_missing(header, wanted, &idx, &missing, (sep, line), path, problems);
    None
}

/// The wanted column header name `h` stands for, with its position in `columns`: by a
/// `--column` mapping, else by its name or an alias unless a mapping names the column.
fn column_of(
    h: &str,
    columns: &[&str],
    by_hand: &[(String, String)],
) -> Option<(usize, &'static str)> {
    let n = normalised(h);
    if n.is_empty() {
        return None;
    }
    let column = match by_hand.iter().find(|(_, given)| normalised(given) == n) {
        Some((name, _)) => canonical(name)?,
        None => canonical(h).filter(|c| !by_hand.iter().any(|(name, _)| name == c))?,
    };
    columns
        .iter()
        .position(|c| *c == column)
        .map(|k| (k, column))
}

/// The problem for the required columns the header lacks: one message, naming the
/// header's line and names, and for each missing column the header name that looks
/// most like it.
fn report_missing(
    header: &csv::StringRecord,
    wanted: &Wanted<'_>,
    idx: &[Option<usize>],
    missing: &[usize],
    (sep, line): (u8, u64),
    path: &Path,
    problems: &mut Problems,
) {
    let columns = wanted.columns;
    let looks_like_data =
        idx.iter().all(Option::is_none) && header.iter().any(|h| parse_number(h).is_some());
    if looks_like_data {
        let expected = format!(
            "a header row naming the columns ({}): the first row looks like data, not a header",
            columns[..wanted.required].join(", ")
        );
        problems.push_header(path, line, "", &expected);
        return;
    }
    let sep_name = if sep == b';' { "';'" } else { "','" };
    let used: Vec<usize> = idx.iter().flatten().copied().collect();
    let names: Vec<String> = missing
        .iter()
        .map(|&k| format!("'{}'", columns[k]))
        .collect();
    let (what, column) = match missing {
        [k] => (format!("a column named {}", names[0]), columns[*k]),
        _ => (format!("columns named {}", names.join(", ")), ""),
    };
    let mut expected = format!(
        "{what} in the header on line {line} (separator {sep_name}; found: {})",
        header_names(header)
    );
    for &k in missing {
        let Some(close) = closest(header, &used, columns[k]) else {
            continue;
        };
        let close = shown_value(close);
        expected += &match wanted.by_hand {
            Some(_) => format!(
                "; '{close}' looks like '{}': use --column {}=\"{close}\"",
                columns[k], columns[k]
            ),
            None => format!("; '{close}' looks like '{}': rename it", columns[k]),
        };
    }
    problems.push_header(path, line, column, &expected);
}

/// The header name, among those not read as another column, that looks most like
/// `column` or one of its aliases: one containing the other (`note_finale` and `note`),
/// else one at most two letters away (`matiere_code` is not, `matire` is).
fn closest<'h>(header: &'h csv::StringRecord, used: &[usize], column: &str) -> Option<&'h str> {
    let names: Vec<String> = super::columns::ALIASES
        .iter()
        .filter(|(c, _)| *c == column)
        .flat_map(|(c, aliases)| std::iter::once(c).chain(aliases.iter()))
        .map(|a| normalised(a))
        .collect();
    let score = |h: &str| -> Option<usize> {
        let n = normalised(h);
        if n.len() < 3 || n.len() > 60 {
            return None;
        }
        names
            .iter()
            .filter_map(|a| {
                if a.len() >= 3 && (n.contains(a.as_str()) || a.contains(n.as_str())) {
                    Some(0)
                } else {
                    Some(edit_distance(&n, a)).filter(|&d| d <= 2)
                }
            })
            .min()
    };
    header
        .iter()
        .enumerate()
        .filter(|(i, _)| !used.contains(i))
        .filter_map(|(_, h)| score(h.trim()).map(|s| (s, h.trim())))
        .min_by_key(|&(s, _)| s)
        .map(|(_, h)| h)
}

/// The Levenshtein distance between two short names, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = (diag + usize::from(ca != cb)).min(row[j] + 1).min(up + 1);
            diag = up;
        }
    }
    row[b.len()]
}

/// The header's names for a message: each escaped and cut, at most a dozen.
fn header_names(header: &csv::StringRecord) -> String {
    const MAX_NAMES: usize = 12;
    let mut names: Vec<String> = header
        .iter()
        .take(MAX_NAMES)
        .map(|h| shown_value(h.trim()))
        .collect();
    if header.len() > MAX_NAMES {
        names.push(format!("and {} more", header.len() - MAX_NAMES));
    }
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_found_below_a_title_block() {
        let text =
            "Académie de Nancy-Metz;;\nSession 2025\n\nsession;n° candidat;centre\n2025;A;B\n";
        assert_eq!(header_line(text), 4);
        let t = without_title(text, 4);
        assert_eq!(t.lines().count(), text.lines().count());
        assert!(t.starts_with("\n\n\nsession;"));
        assert_eq!(header_line("session,candidate_id\n1,2\n"), 1);
        assert_eq!(header_line("nothing known\nat all\n"), 1);
    }

    #[test]
    fn names_close_to_a_column() {
        assert_eq!(edit_distance("matire", "matiere"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        let header = csv::StringRecord::from(vec!["session", "note_finale", "choix"]);
        assert_eq!(closest(&header, &[0], "grade"), Some("note_finale"));
        assert_eq!(closest(&header, &[0, 1], "grade"), None);
    }
}
