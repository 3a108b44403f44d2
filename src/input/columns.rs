//! Columns: the names of every column the tool reads, in one place.
//!
//! The candidate files' columns are an enum, so that a reader asks for a column by
//! name and the compiler checks every use: adding or reordering a column cannot shift
//! another. Every name the tool reads, the small tables' included, has its entry in the
//! alias table ([`ALIASES`]): the names offices write for it, which the header match and
//! the header search below a title block both use.

use crate::shown::escape_controls;

/// A column of the candidate files (history and file to forecast), in the README's
/// order: the order the simulator writes and messages list them in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    Session,
    CandidateId,
    Center,
    Track,
    Average,
    Subject,
    Coefficient,
    Grade,
    Chosen,
    Day,
    HalfDay,
}

impl Column {
    /// Every column, in the README's order. The required ones come first (the header
    /// match counts them from the start; a test checks it).
    pub(crate) const ALL: [Column; 11] = [
        Column::Session,
        Column::CandidateId,
        Column::Center,
        Column::Track,
        Column::Average,
        Column::Subject,
        Column::Coefficient,
        Column::Grade,
        Column::Chosen,
        Column::Day,
        Column::HalfDay,
    ];

    /// The column's name in a header.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Column::Session => "session",
            Column::CandidateId => "candidate_id",
            Column::Center => "center",
            Column::Track => "track",
            Column::Average => "average",
            Column::Subject => "subject",
            Column::Coefficient => "coefficient",
            Column::Grade => "grade",
            Column::Chosen => "chosen",
            Column::Day => "day",
            Column::HalfDay => "half_day",
        }
    }

    /// Whether a file without this column is refused: `chosen` only in a history (a
    /// file to forecast has no choices yet), the slot never (plans without slots are
    /// plans over the whole period).
    pub(crate) fn required(self, history: bool) -> bool {
        match self {
            Column::Chosen => history,
            Column::Day | Column::HalfDay => false,
            _ => true,
        }
    }

    /// Whether the column is part of the candidate's slot.
    pub(crate) fn is_slot(self) -> bool {
        matches!(self, Column::Day | Column::HalfDay)
    }

    /// The column's position in [`Column::ALL`] (and in [`COLUMNS`]).
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// How many columns a file must have, counted from the start of [`Column::ALL`].
    pub(crate) fn required_count(history: bool) -> usize {
        Column::ALL
            .iter()
            .take_while(|c| c.required(history))
            .count()
    }
}

/// The names of [`Column::ALL`], in its order.
pub(crate) const COLUMNS: [&str; Column::ALL.len()] = {
    let mut names = [""; Column::ALL.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = Column::ALL[i].name();
        i += 1;
    }
    names
};

/// The columns of `summons.csv`, which `forecast` writes and `confirm` reads back: see
/// [`super::summons`], which owns the format. The last, `zone`, is written only for a
/// plan with zones.
pub(crate) const SUMMONS_COLUMNS: [&str; 8] = [
    "examiner_id",
    "name",
    "subject",
    "center",
    "day",
    "half_day",
    "role",
    "zone",
];

/// The other names offices give the columns (French exports, usual variants), for each
/// column the tool reads. A header matches a column when it is the column's name or one
/// of these once both are [`normalised`]: case, accents, spaces and punctuation do not
/// count, so `Demi-journée`, `demi journee` and `DEMI_JOURNEE` are one name. No name is
/// the alias of two columns (a test checks it). The README lists this table.
pub(crate) const ALIASES: [(&str, &[&str]); 24] = [
    (
        "session",
        &["année", "année de session", "millésime", "session d'examen"],
    ),
    (
        "candidate_id",
        &[
            "candidat",
            "n° candidat",
            "no candidat",
            "numéro candidat",
            "numéro de candidat",
            "num candidat",
            "id candidat",
            "identifiant candidat",
            "matricule",
        ],
    ),
    (
        "center",
        &[
            "centre",
            "centre d'examen",
            "centre examen",
            "code centre",
            "établissement",
            "code établissement",
            "lycée",
            "uai",
            "code uai",
        ],
    ),
    ("track", &["voie", "série", "filière", "série du bac"]),
    (
        "average",
        &[
            "moyenne",
            "moyenne générale",
            "moyenne 1er groupe",
            "moyenne premier groupe",
        ],
    ),
    (
        "subject",
        &[
            "matière",
            "discipline",
            "épreuve",
            "code matière",
            "code épreuve",
            "enseignement",
        ],
    ),
    ("coefficient", &["coef", "coeff", "coefficient épreuve"]),
    (
        "grade",
        &[
            "note",
            "note écrit",
            "note 1er groupe",
            "note premier groupe",
        ],
    ),
    ("chosen", &["choisi", "choix", "oral choisi", "retenu"]),
    (
        "day",
        &["jour", "date", "date oral", "date de l'oral", "jour oral"],
    ),
    (
        "half_day",
        &["demi-journée", "demi journée oral", "matin ou après-midi"],
    ),
    (
        "examiner_id",
        &[
            "examinateur",
            "id examinateur",
            "n° examinateur",
            "numéro examinateur",
            "identifiant examinateur",
        ],
    ),
    (
        "name",
        &["nom", "nom prénom", "nom et prénom", "prénom nom"],
    ),
    ("role", &["statut", "convocation"]),
    ("priority", &["priorité", "rang"]),
    (
        "unavailable",
        &["indisponible", "indisponibilité", "indisponibilités"],
    ),
    ("capacity", &["capacité", "candidats par examinateur"]),
    ("probability", &["probabilité"]),
    ("code", &["code retenu", "nouveau code", "nouveau libellé"]),
    (
        "alias",
        &[
            "aliases",
            "libellé",
            "libellés",
            "ancien libellé",
            "ancien code",
            "autres noms",
        ],
    ),
    (
        "preparation",
        &["durée préparation", "temps de préparation"],
    ),
    ("oral", &["durée oral", "durée de l'oral", "interrogation"]),
    (
        "zone",
        &["secteur", "bassin", "ville", "commune", "zone géographique"],
    ),
    (
        "host_center",
        &["centre hôte", "centre d'accueil", "centre de regroupement"],
    ),
];

/// A header name as compared: lower case, accents folded, letters and digits only.
pub(crate) fn normalised(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        let folded = match c {
            'à' | 'â' | 'ä' | 'á' | 'ã' => "a",
            'é' | 'è' | 'ê' | 'ë' => "e",
            'î' | 'ï' | 'í' | 'ì' => "i",
            'ô' | 'ö' | 'ó' | 'ò' | 'õ' => "o",
            'ù' | 'û' | 'ü' | 'ú' => "u",
            'ç' => "c",
            'ÿ' => "y",
            'ñ' => "n",
            'œ' => "oe",
            'æ' => "ae",
            c if c.is_alphanumeric() => {
                out.push(c);
                continue;
            }
            _ => continue,
        };
        out.push_str(folded);
    }
    out
}

/// The column `name` stands for (its own name or an alias, as a header writes it), by
/// the column's name: `Matière` is `subject`.
pub(crate) fn canonical(name: &str) -> Option<&'static str> {
    let n = normalised(name);
    if n.is_empty() {
        return None;
    }
    ALIASES
        .iter()
        .find(|(c, aliases)| normalised(c) == n || aliases.iter().any(|a| normalised(a) == n))
        .map(|(c, _)| *c)
}

/// The alias table as lines `name: alias, alias`, for `--help`.
pub(crate) fn aliases_help() -> String {
    ALIASES
        .iter()
        .map(|(c, aliases)| format!("  {c}: {}", aliases.join(", ")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `NAME=HEADER` as (the column's name, the header name), NAME being a column of the
/// candidate files under any of its names; else what is wrong, for a usage error.
pub(crate) fn column_by_hand(spec: &str) -> Result<(String, String), String> {
    // The value is echoed: control characters escaped, cut, as every message does.
    let shown = escape_controls(spec, 80);
    let Some((name, header)) = spec.split_once('=') else {
        return Err(format!(
            "--column takes NAME=HEADER (such as grade=note_finale), got '{shown}'"
        ));
    };
    let (name, header) = (name.trim(), header.trim());
    let column = canonical(name)
        .filter(|c| COLUMNS.contains(c))
        .ok_or_else(|| {
            format!(
                "--column {shown}: '{}' is not a column of the candidate files ({})",
                escape_controls(name, 60),
                COLUMNS.join(", ")
            )
        })?;
    if normalised(header).is_empty() {
        return Err(format!("--column {shown}: the header name is empty"));
    }
    Ok((column.to_string(), header.to_string()))
}

/// Whether `name` is a column the tool reads, under any of its names: to find the
/// header row below a title block.
fn is_known_column(name: &str) -> bool {
    canonical(name).is_some()
}

/// Whether a row's fields name at least two known columns: what makes it the header,
/// in a CSV file as in a spreadsheet.
pub(crate) fn names_columns<'a>(fields: impl IntoIterator<Item = &'a str>) -> bool {
    fields
        .into_iter()
        .filter(|f| is_known_column(f.trim()))
        .take(2)
        .count()
        >= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Column::index` is a position in `ALL`, and the required columns form a prefix of
    /// it, which the header match relies on.
    #[test]
    fn the_column_list_is_consistent() {
        for (i, c) in Column::ALL.iter().enumerate() {
            assert_eq!(c.index(), i);
            assert_eq!(COLUMNS[i], c.name());
        }
        for history in [false, true] {
            let n = Column::required_count(history);
            assert!(Column::ALL[n..].iter().all(|c| !c.required(history)));
        }
        assert_eq!(Column::required_count(true), 9);
        assert_eq!(Column::required_count(false), 8);
    }

    /// Every name the tool reads has its entry in the alias table, and no name (once
    /// normalised) stands for two columns.
    #[test]
    fn the_alias_table_covers_every_column_and_is_unambiguous() {
        for name in COLUMNS.iter().chain(&SUMMONS_COLUMNS) {
            assert_eq!(canonical(name), Some(*name), "{name}");
        }
        let mut seen = std::collections::BTreeMap::new();
        for (c, aliases) in ALIASES {
            for a in std::iter::once(&c).chain(aliases.iter()) {
                let before = seen.insert(normalised(a), c);
                assert!(before.is_none(), "{a} is an alias of {before:?} and {c}");
            }
        }
        assert_eq!(canonical("Demi-Journée"), Some("half_day"));
        assert_eq!(canonical(" N° candidat "), Some("candidate_id"));
        assert_eq!(canonical("MATIERE"), Some("subject"));
        assert_eq!(canonical("note_ecrit"), Some("grade"));
        assert_eq!(canonical("note_finale"), None);
        assert_eq!(normalised("Centre d'examen"), "centredexamen");
    }

    /// The README's table of names lists every alias (it is the office's reference).
    #[test]
    fn the_readme_lists_every_alias() {
        let readme = include_str!("../../README.md");
        for (c, aliases) in ALIASES {
            assert!(readme.contains(&format!("`{c}`")), "{c}");
            for a in aliases {
                assert!(readme.contains(a), "the README does not list '{a}' for {c}");
            }
        }
    }
}
