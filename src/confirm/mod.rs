//! Confirm: results day. The real choices meet the convocations sent: each firm
//! examiner is told to come or released, each reserve called or left at home, the orals
//! no examiner can hear are named, and every other oral gets a time ([`timetable`]).
//!
//! Per (centre, subject, slot) cell the orals need ceil(orals / capacity) examiners. The
//! firm examiners come first, in the order of `summons.csv` (the plan's priority order),
//! as many as needed; the rest are released tonight. Reserves are called only where the
//! firm ones cannot cover, in the same order. What even the reserves cannot hear is a
//! shortage, reported first.

pub(crate) mod timetable;

use std::collections::BTreeMap;

use crate::data::{CellKey, Dataset, Role, Summon};
use crate::input::Choices;
use crate::planning::PlanOptions;

/// What an examiner is told tonight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Firm and needed.
    Come,
    /// Firm and not needed.
    Release,
    /// Reserve and needed.
    Call,
    /// Reserve and not needed.
    StayHome,
}

impl Action {
    /// The code of `confirmations.csv` (`come`, `release`, `call`, `stay-home`): the
    /// stable contract for scripts.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Action::Come => "come",
            Action::Release => "release",
            Action::Call => "call",
            Action::StayHome => "stay-home",
        }
    }

    /// Whether the examiner hears orals.
    pub(crate) fn hears(self) -> bool {
        matches!(self, Action::Come | Action::Call)
    }
}

/// One cell of results day.
#[derive(Debug, Clone, Default)]
pub(crate) struct CellWork {
    /// The orals: (candidate index, index of the subject among the candidate's own).
    pub(crate) orals: Vec<(usize, usize)>,
    /// Indices into the summons of the cell's examiners, in file order.
    pub(crate) examiners: Vec<usize>,
    pub(crate) capacity: usize,
    pub(crate) needed: usize,
}

/// The decisions of results day.
#[derive(Debug, Clone)]
pub(crate) struct Decisions {
    /// One action per summons row, in the same order.
    pub(crate) actions: Vec<Action>,
    pub(crate) cells: BTreeMap<CellKey, CellWork>,
}

impl Decisions {
    /// How many examiners were given `action`.
    pub(crate) fn count(&self, action: Action) -> usize {
        self.actions.iter().filter(|&&a| a == action).count()
    }
}

/// The cell of each chosen oral, and the summons of each cell.
pub(crate) fn cells(
    data: &Dataset,
    choices: &Choices,
    summons: &[Summon],
    opts: &PlanOptions,
) -> BTreeMap<CellKey, CellWork> {
    let mut cells: BTreeMap<CellKey, CellWork> = BTreeMap::new();
    for (&k, chosen) in choices {
        let c = &data.candidates[k];
        for &j in chosen {
            let key = CellKey::hosted(c, &c.subjects[j], &opts.hosts);
            cells.entry(key).or_default().orals.push((k, j));
        }
    }
    for (i, s) in summons.iter().enumerate() {
        cells.entry(s.cell).or_default().examiners.push(i);
    }
    for (key, cell) in cells.iter_mut() {
        cell.capacity = opts.capacity_of(data, key.subject);
        cell.needed = cell.orals.len().div_ceil(cell.capacity);
    }
    cells
}

/// Come or release, call or stay home, for every examiner summoned.
pub(crate) fn decide(
    data: &Dataset,
    choices: &Choices,
    summons: &[Summon],
    opts: &PlanOptions,
) -> Decisions {
    let cells = cells(data, choices, summons, opts);
    let mut actions = vec![Action::Release; summons.len()];
    for cell in cells.values() {
        let firm: Vec<usize> = cell
            .examiners
            .iter()
            .copied()
            .filter(|&i| summons[i].role == Role::Firm)
            .collect();
        let reserve = cell
            .examiners
            .iter()
            .copied()
            .filter(|&i| summons[i].role == Role::Reserve);
        for (n, i) in firm.iter().enumerate() {
            actions[*i] = if n < cell.needed {
                Action::Come
            } else {
                Action::Release
            };
        }
        let missing = cell.needed.saturating_sub(firm.len());
        for (n, i) in reserve.enumerate() {
            actions[i] = if n < missing {
                Action::Call
            } else {
                Action::StayHome
            };
        }
    }
    Decisions { actions, cells }
}
