//! Subjects: the office's subjects file (`--subjects`), which says which labels are one
//! subject. A spécialité renamed between sessions (`SES` until 2023, `SCIENCES
//! ECONOMIQUES ET SOCIALES` from 2024) would otherwise be two unrelated subjects, the new
//! one with a single session of history.
//!
//! Rows are `code,alias` (one row per alias), or one row per subject with its aliases
//! in one field separated by `|` or `;` (quoted in a ';' file). Labels match as column
//! names do: case, accents, spaces and punctuation ignored. Every label is read as its
//! code as soon as a row is read, so the history, the file to forecast, the roster, the
//! capacities, the choices and every output know the code only.

use std::collections::HashMap;
use std::path::Path;

use super::chunks::MAX_NAME_CHARS;
use super::columns::normalised;
use super::problems::{InputError, Problems};
use super::tables::{into_result, read_small_table};
use super::Separator;

/// The subjects file: each label (normalised) with its code. Empty without a file.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Subjects {
    by_label: HashMap<String, String>,
}

impl Subjects {
    /// The code `label` stands for: itself when the file does not name it.
    pub(crate) fn code<'a>(&'a self, label: &'a str) -> &'a str {
        if self.by_label.is_empty() {
            return label;
        }
        self.by_label
            .get(&normalised(label))
            .map_or(label, String::as_str)
    }

    /// How many labels map to another code than themselves.
    pub(crate) fn aliases(&self) -> usize {
        self.by_label
            .iter()
            .filter(|(label, code)| normalised(code) != **label)
            .count()
    }
}

/// Reads a subjects file. A label given for two codes, a code that is another code's
/// alias, an empty code or a label longer than a subject name may be is a problem.
pub(crate) fn read_subjects(path: &Path, separator: Separator) -> Result<Subjects, InputError> {
    let mut problems = Problems::default();
    let rows = read_small_table(path, separator, &["code", "alias"], 1, &mut problems);
    let mut by_label: HashMap<String, (String, u64)> = HashMap::new();
    let mut codes: Vec<(String, u64)> = Vec::new();
    for (line, f) in rows {
        let [code, alias] = f;
        if code.is_empty() || code.chars().count() > MAX_NAME_CHARS {
            let expected = format!("a subject code of 1 to {MAX_NAME_CHARS} characters");
            problems.push(path, line, "code", &code, &expected);
            continue;
        }
        codes.push((code.clone(), line));
        let labels = alias
            .split(['|', ';'])
            .map(str::trim)
            .filter(|a| !a.is_empty());
        for label in std::iter::once(code.as_str()).chain(labels) {
            if label.chars().count() > MAX_NAME_CHARS {
                let expected = format!("a subject label of at most {MAX_NAME_CHARS} characters");
                problems.push(path, line, "alias", label, &expected);
                continue;
            }
            let key = normalised(label);
            match by_label.get(&key) {
                Some((other, at)) if *other != code => {
                    let expected = format!(
                        "each label for one code: '{label}' is already '{other}' (line {at})"
                    );
                    problems.push(path, line, "alias", label, &expected);
                }
                Some(_) => {}
                None => {
                    by_label.insert(key, (code.clone(), line));
                }
            }
        }
    }
    for (code, line) in &codes {
        if let Some((other, _)) = by_label.get(&normalised(code)).filter(|(o, _)| o != code) {
            let expected = format!(
                "a code that is no other code's alias ('{code}' is an alias of '{other}': merge the two rows)"
            );
            problems.push(path, *line, "code", code, &expected);
        }
    }
    let by_label = by_label
        .into_iter()
        .map(|(k, (code, _))| (k, code))
        .collect();
    into_result(Subjects { by_label }, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_read_as_their_code_and_contradictions_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.csv");
        std::fs::write(&p, "code,alias\nSES,SCIENCES ECONOMIQUES ET SOCIALES\nSES,Sciences éco.\nHGGSP,\"HIST GEO|HG-GSP\"\n").unwrap();
        let s = read_subjects(&p, Separator::Auto).unwrap();
        assert_eq!(s.code("Sciences Economiques et Sociales"), "SES");
        assert_eq!(s.code("sciences eco"), "SES");
        assert_eq!(s.code("hg gsp"), "HGGSP");
        assert_eq!(s.code("MATHS"), "MATHS");
        assert_eq!(s.aliases(), 3);
        std::fs::write(&p, "code,alias\nSES,ECO\nSVT,ECO\nECO,X\n").unwrap();
        let e = read_subjects(&p, Separator::Auto).unwrap_err().to_string();
        assert!(
            e.contains("line 3, column 'alias': value 'ECO': expected each label for one code"),
            "{e}"
        );
        assert!(
            e.contains(
                "line 4, column 'code': value 'ECO': expected a code that is no other code's alias"
            ),
            "{e}"
        );
    }
}
