//! Columns: the names of every column the tool reads, in one place.
//!
//! The candidate files' columns are an enum, so that a reader asks for a column by
//! name and the compiler checks every use: adding or reordering a column cannot shift
//! another. The small tables' columns (summons, roster, ...) are listed here too, for
//! the header search of spreadsheets, which needs every name the tool knows.

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
/// [`super::summons`], which owns the format.
pub(crate) const SUMMONS_COLUMNS: [&str; 7] = [
    "examiner_id",
    "name",
    "subject",
    "center",
    "day",
    "half_day",
    "role",
];

/// The column names of the other small tables: the roster's, the capacities', the
/// truth's, the durations', the schedule's.
const OTHER_COLUMNS: [&str; 8] = [
    "priority",
    "unavailable",
    "capacity",
    "probability",
    "preparation",
    "oral",
    "examiners",
    "reserve",
];

/// Whether `name` (lower case) is a column the tool reads, to find the header row below
/// a title block.
pub(crate) fn is_known_column(name: &str) -> bool {
    COLUMNS
        .iter()
        .chain(&SUMMONS_COLUMNS)
        .chain(&OTHER_COLUMNS)
        .any(|k| *k == name)
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
}
