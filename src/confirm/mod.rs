//! Confirm: results day. The real choices meet the convocations sent: each firm
//! examiner is told to come or released, each reserve called or left at home, the orals
//! no examiner can hear are named, and every other oral gets a time ([`timetable`]).
//!
//! Per (centre, subject, slot) cell the orals need ceil(orals / capacity) examiners. The
//! firm examiners come first, in the order of `summons.csv` (the plan's priority order),
//! as many as needed; the rest are released tonight. Reserves are called only where the
//! firm ones cannot cover, in the same order. What even the reserves cannot hear is a
//! shortage, reported first.
//!
//! With zones (a plan made with `--zones`), before any reserve is called a firm examiner
//! who would be released at one centre moves to a centre of the same zone short of an
//! examiner of the subject and half-day; then the cells' own reserves are called, then
//! the zone's pooled reserve, sent where examiners are still missing ([`share`]).

pub(crate) mod share;
pub(crate) mod timetable;

use std::collections::BTreeMap;

use crate::data::{CellKey, Dataset, Role, Slot, Summon};
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
    /// Firm, not needed at its centre, sent to another centre of its zone.
    Move,
}

impl Action {
    /// The code of `confirmations.csv` (`come`, `release`, `call`, `stay-home`, `move`): the
    /// stable contract for scripts.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Action::Come => "come",
            Action::Release => "release",
            Action::Call => "call",
            Action::StayHome => "stay-home",
            Action::Move => "move",
        }
    }
}

/// One cell of results day.
#[derive(Debug, Clone, Default)]
pub(crate) struct CellWork {
    /// The orals: (candidate index, index of the subject among the candidate's own).
    pub(crate) orals: Vec<(usize, usize)>,
    /// Indices into the summons of the cell's examiners, in file order.
    pub(crate) examiners: Vec<usize>,
    /// Indices into the summons of those who hear its orals: its firm examiners who
    /// come, its reserves called, and those moved or sent there from its zone.
    pub(crate) hearing: Vec<usize>,
    pub(crate) capacity: usize,
    pub(crate) needed: usize,
}

/// The decisions of results day.
#[derive(Debug, Clone)]
pub(crate) struct Decisions {
    /// One action per summons row, in the same order.
    pub(crate) actions: Vec<Action>,
    /// Per summons row: the cell an examiner moved or a pooled reserve called goes to.
    pub(crate) sent: Vec<Option<CellKey>>,
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
    for (i, s) in summons.iter().enumerate().filter(|(_, s)| s.zone.is_none()) {
        cells.entry(s.cell).or_default().examiners.push(i);
    }
    for (key, cell) in cells.iter_mut() {
        cell.capacity = opts.capacity_of(data, key.subject);
        cell.needed = cell.orals.len().div_ceil(cell.capacity);
    }
    cells
}

/// Come or release, call or stay home, move or not, for every examiner summoned.
pub(crate) fn decide(
    data: &Dataset,
    choices: &Choices,
    summons: &[Summon],
    opts: &PlanOptions,
) -> Decisions {
    let mut d = Decisions {
        actions: summons
            .iter()
            .map(|s| match s.role {
                Role::Firm => Action::Release,
                Role::Reserve => Action::StayHome,
            })
            .collect(),
        sent: vec![None; summons.len()],
        cells: cells(data, choices, summons, opts),
    };
    for key in zone_groups(&d.cells, opts).into_values() {
        d.share(&key, summons, &pooled(summons, &key, opts));
    }
    d
}

/// The cells per (zone, subject, slot), each cell alone without zones.
fn zone_groups(
    cells: &BTreeMap<CellKey, CellWork>,
    opts: &PlanOptions,
) -> BTreeMap<(u32, u32, u32, Slot), Vec<CellKey>> {
    let mut groups: BTreeMap<(u32, u32, u32, Slot), Vec<CellKey>> = BTreeMap::new();
    for key in cells.keys() {
        let zone = match opts.zones.of(key.center) {
            Some(z) => (z, 0),
            None => (u32::MAX, key.center),
        };
        groups
            .entry((zone.0, zone.1, key.subject, key.slot))
            .or_default()
            .push(*key);
    }
    groups
}

/// The pooled reserves of the zone, subject and slot of `cells`, in file order.
fn pooled(summons: &[Summon], cells: &[CellKey], opts: &PlanOptions) -> Vec<usize> {
    let first = cells[0];
    let Some(zone) = opts.zones.of(first.center) else {
        return Vec::new();
    };
    summons
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            s.zone == Some(zone) && s.cell.subject == first.subject && s.cell.slot == first.slot
        })
        .map(|(i, _)| i)
        .collect()
}

impl Decisions {
    /// Results day in one zone's `keys` (one subject and slot), sharing the `pool`: the
    /// firm examiners needed come, those a cell would release move where another is
    /// short, then the cells' own reserves are called, then the pool's.
    fn share(&mut self, keys: &[CellKey], summons: &[Summon], pool: &[usize]) {
        let of = |cell: &CellWork, role: Role| -> Vec<usize> {
            let mine = cell.examiners.iter().copied();
            mine.filter(|&i| summons[i].role == role).collect()
        };
        let firm: Vec<Vec<usize>> = keys
            .iter()
            .map(|k| of(&self.cells[k], Role::Firm))
            .collect();
        let own: Vec<Vec<usize>> = keys
            .iter()
            .map(|k| of(&self.cells[k], Role::Reserve))
            .collect();
        let needed: Vec<usize> = keys.iter().map(|k| self.cells[k].needed).collect();
        let mut short: Vec<usize> = (0..keys.len())
            .map(|c| needed[c].saturating_sub(firm[c].len()))
            .collect();
        for (c, list) in firm.iter().enumerate() {
            for &i in list.iter().take(needed[c]) {
                self.hear(i, keys[c], Action::Come, false);
            }
        }
        let spare: Vec<usize> = (0..keys.len())
            .flat_map(|c| firm[c].iter().skip(needed[c]).copied())
            .collect();
        let targets = share::fill(&mut short, spare.len());
        for (&i, &c) in spare.iter().zip(&targets) {
            self.hear(i, keys[c], Action::Move, true);
        }
        for (c, list) in own.iter().enumerate() {
            let called = short[c].min(list.len());
            for &i in &list[..called] {
                self.hear(i, keys[c], Action::Call, false);
            }
            short[c] -= called;
        }
        let targets = share::fill(&mut short, pool.len());
        for (&i, &c) in pool.iter().zip(&targets) {
            self.hear(i, keys[c], Action::Call, true);
        }
    }

    /// Summons `i` hears the orals of `key` (`sent` there from elsewhere in its zone).
    fn hear(&mut self, i: usize, key: CellKey, action: Action, sent: bool) {
        self.actions[i] = action;
        if sent {
            self.sent[i] = Some(key);
        }
        self.cells
            .get_mut(&key)
            .expect("a cell of the decisions")
            .hearing
            .push(i);
    }
}
