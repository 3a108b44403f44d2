//! Cells: the unit the plan convenes examiners for, one (centre, subject, slot).
//!
//! A key holds the dataset's interned ids rather than names: the name tables are
//! sorted, so the order of keys is the order of their names, and every output sorted by
//! key comes out as sorted by name. The names are looked up only to be written.

use super::{Candidate, Slot, SubjectRow};

/// One (centre, subject, slot) cell: indices into [`super::Dataset::centers`] and
/// [`super::Dataset::subjects`], and the slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct CellKey {
    pub(crate) center: u32,
    pub(crate) subject: u32,
    pub(crate) slot: Slot,
}

impl CellKey {
    /// The cell of a candidate's subject.
    pub(crate) fn of(c: &Candidate, s: &SubjectRow) -> CellKey {
        CellKey {
            center: c.center,
            subject: s.subject,
            slot: c.slot,
        }
    }
}
