//! Cells: the unit the plan convenes examiners for, one (centre, subject, slot).
//!
//! A key holds the dataset's interned ids rather than names: the name tables are
//! sorted, so the order of keys is the order of their names, and every output sorted by
//! key comes out as sorted by name. The names are looked up only to be written.

use std::collections::BTreeMap;

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

/// Where each (centre, subject)'s orals are held when the plan regroups them (see
/// `zones.rs`): the host centre of a (centre, subject) it moved, its own centre
/// otherwise. Empty: every oral at its own centre, the plan without zones.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Hosts {
    host: BTreeMap<(u32, u32), u32>,
}

impl Hosts {
    /// The centre where the orals of `subject` of `center`'s candidates are held.
    pub(crate) fn of(&self, center: u32, subject: u32) -> u32 {
        self.host.get(&(center, subject)).copied().unwrap_or(center)
    }

    /// Holds the orals of `subject` of `center`'s candidates at `host`.
    pub(crate) fn insert(&mut self, center: u32, subject: u32, host: u32) {
        if host != center {
            self.host.insert((center, subject), host);
        }
    }

    /// Every (centre, subject, host) moved, in centre then subject order.
    pub(crate) fn moved(&self) -> impl Iterator<Item = (u32, u32, u32)> + '_ {
        self.host.iter().map(|(&(c, s), &h)| (c, s, h))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.host.is_empty()
    }
}

impl CellKey {
    /// The cell where a candidate's oral in `s` is held under `hosts`.
    pub(crate) fn hosted(c: &Candidate, s: &SubjectRow, hosts: &Hosts) -> CellKey {
        CellKey {
            center: hosts.of(c.center, s.subject),
            ..CellKey::of(c, s)
        }
    }
}
