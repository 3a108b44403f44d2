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

/// Each centre's zone (`--zones`): the centres close enough for an examiner to go from
/// one to another within a half-day. Empty: no zones, every centre alone, and the plan
/// pools nothing. Zones are numbered in the order of their sorted names.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ZoneMap {
    /// Zone names, sorted.
    pub(crate) names: Vec<String>,
    /// Per centre of the dataset, its zone's index in `names`.
    of_center: Vec<u32>,
}

impl ZoneMap {
    /// The map of `zone_of` (each centre's zone name, in centre order).
    pub(crate) fn new(zone_of: Vec<String>) -> ZoneMap {
        let mut names = zone_of.clone();
        names.sort();
        names.dedup();
        let of_center = zone_of
            .iter()
            .map(|z| names.binary_search(z).expect("a zone of the list") as u32)
            .collect();
        ZoneMap { names, of_center }
    }

    /// `center`'s zone; `None` without zones or for a centre the map does not know (one
    /// only the summons name).
    pub(crate) fn of(&self, center: u32) -> Option<u32> {
        self.of_center.get(center as usize).copied()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.of_center.is_empty()
    }

    /// The zone named `name`.
    pub(crate) fn id(&self, name: &str) -> Option<u32> {
        self.names
            .binary_search_by(|n| n.as_str().cmp(name))
            .ok()
            .map(|i| i as u32)
    }

    /// The centres of `zone`, in centre order.
    pub(crate) fn centers(&self, zone: u32) -> impl Iterator<Item = u32> + '_ {
        (0..self.of_center.len() as u32).filter(move |&c| self.of(c) == Some(zone))
    }

    /// Each centre's zone name, in centre order (for the manifest).
    pub(crate) fn zone_names(&self) -> impl Iterator<Item = &str> + '_ {
        self.of_center
            .iter()
            .map(|&z| self.names[z as usize].as_str())
    }
}
