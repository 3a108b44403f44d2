//! Data: the types every stage shares, and the validated candidates they work on.
//!
//! `input` reads files into these types; the model, the forecast, planning, results day
//! and the backtest only use them, so no stage imports another's file reader. Names
//! (centres, tracks, subjects, days) are interned once, sorted, so that every result is
//! independent of row and file order and an id's order is its name's. [`Sessions`] is
//! the one way to take the candidates of some sessions: the dataset is sorted by
//! session, so those are a slice, borrowed rather than copied.
//! - [`slot`]: half-days, slots and the capacity's unit;
//! - [`cell`]: the (centre, subject, slot) key of a cell;
//! - [`people`]: roster entries, roles and summons.

mod cell;
mod people;
mod renames;
mod slot;

use std::collections::BTreeMap;

pub(crate) use cell::{CellKey, Hosts, ZoneMap};
pub(crate) use people::{Role, RosterEntry, Summon};
pub(crate) use renames::{likely_renames, LikelyRename};
pub(crate) use slot::{HalfDay, Slot, SlotKind, MAX_CAPACITY};

/// The pass mark of the baccalauréat, out of [`MAX_MARK`]: points missing are counted
/// from it.
pub(crate) const PASS_MARK: f64 = 10.0;
/// The top of the marking scale.
pub(crate) const MAX_MARK: f64 = 20.0;

/// One subject a candidate may retake orally.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SubjectRow {
    /// Index into [`Dataset::subjects`].
    pub(crate) subject: u32,
    pub(crate) coefficient: f64,
    pub(crate) grade: f64,
    /// Whether the oral was taken; `None` in a file to forecast.
    pub(crate) chosen: Option<bool>,
}

/// One second-group candidate with all eligible subjects.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Candidate {
    pub(crate) session: i32,
    pub(crate) id: String,
    /// Index into [`Dataset::centers`].
    pub(crate) center: u32,
    /// Index into [`Dataset::tracks`].
    pub(crate) track: u32,
    pub(crate) average: f64,
    /// Sorted by subject name, so that outputs do not depend on row order.
    pub(crate) subjects: Vec<SubjectRow>,
    /// The candidate's oral slot ([`Slot::PERIOD`] when neither the file nor the
    /// schedule gives one).
    pub(crate) slot: Slot,
}

impl Candidate {
    /// Number of orals taken, when known.
    pub(crate) fn n_chosen(&self) -> Option<usize> {
        let mut n = 0;
        for s in &self.subjects {
            match s.chosen {
                Some(true) => n += 1,
                Some(false) => {}
                None => return None,
            }
        }
        Some(n)
    }

    /// The positions of the subjects chosen, when the choice says something about
    /// preferences: one or two orals among two or more eligible subjects (a single
    /// eligible subject, or no oral, says nothing).
    pub(crate) fn revealed_choice(&self) -> Option<Vec<u32>> {
        if self.subjects.len() < 2 {
            return None;
        }
        let chosen: Vec<u32> = (0..)
            .zip(&self.subjects)
            .filter(|(_, s)| s.chosen == Some(true))
            .map(|(i, _)| i)
            .collect();
        (1..=2).contains(&chosen.len()).then_some(chosen)
    }
}

/// Validated candidates, with centre, track and subject names interned.
#[derive(Debug, Clone, Default)]
pub(crate) struct Dataset {
    pub(crate) candidates: Vec<Candidate>,
    pub(crate) centers: Vec<String>,
    pub(crate) tracks: Vec<String>,
    pub(crate) subjects: Vec<String>,
    /// Oral days named by the slots, sorted.
    pub(crate) days: Vec<String>,
    /// Candidates read but outside the average band.
    pub(crate) set_aside: usize,
    /// Rows set aside for an absent mark, by what the grade said (`ABS`, `empty`, ...):
    /// the subject is not eligible for those candidates.
    pub(crate) without_mark: Vec<(&'static str, usize)>,
    /// How the files were read, for the person at the terminal: a title block skipped,
    /// columns read under other names.
    pub(crate) notes: Vec<String>,
}

impl Dataset {
    pub(crate) fn center_name(&self, c: &Candidate) -> &str {
        &self.centers[c.center as usize]
    }
    pub(crate) fn track_name(&self, c: &Candidate) -> &str {
        &self.tracks[c.track as usize]
    }
    pub(crate) fn subject_name(&self, s: &SubjectRow) -> &str {
        &self.subjects[s.subject as usize]
    }
    /// Sessions present, with their candidate counts.
    pub(crate) fn sessions(&self) -> BTreeMap<i32, usize> {
        let mut m = BTreeMap::new();
        for c in &self.candidates {
            *m.entry(c.session).or_insert(0) += 1;
        }
        m
    }
    /// The candidates of some sessions, keeping the name tables.
    pub(crate) fn filter_sessions(&self, keep: impl Fn(i32) -> bool) -> Dataset {
        Dataset {
            candidates: self
                .candidates
                .iter()
                .filter(|c| keep(c.session))
                .cloned()
                .collect(),
            centers: self.centers.clone(),
            tracks: self.tracks.clone(),
            subjects: self.subjects.clone(),
            days: self.days.clone(),
            set_aside: 0,
            without_mark: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// What `--capacity` counts: every candidate has a slot with a half-day, or a day,
    /// or no candidate has a slot (input makes sure there is no mix).
    pub(crate) fn slot_kind(&self) -> SlotKind {
        self.candidates
            .first()
            .map_or(SlotKind::Period, |c| c.slot.kind())
    }

    /// The slots of the candidates, sorted.
    pub(crate) fn slots(&self) -> Vec<Slot> {
        let mut slots: Vec<Slot> = self.candidates.iter().map(|c| c.slot).collect();
        slots.sort_unstable();
        slots.dedup();
        slots
    }

    /// The day and half-day labels of a slot (empty without one).
    pub(crate) fn slot_labels(&self, slot: Slot) -> (&str, &str) {
        (
            slot.day().map_or("", |d| self.days[d as usize].as_str()),
            slot.half().map_or("", HalfDay::code),
        )
    }

    /// The names of a cell: centre, subject, day and half-day (the last two empty
    /// without slots).
    pub(crate) fn cell_names(&self, cell: &CellKey) -> [&str; 4] {
        let (day, half) = self.slot_labels(cell.slot);
        [
            self.centers[cell.center as usize].as_str(),
            self.subjects[cell.subject as usize].as_str(),
            day,
            half,
        ]
    }

    /// Adds the names another file brings (the centres, subjects and days of a summons
    /// file) to the tables, which stay sorted, and renumbers the candidates: an id's
    /// order stays its name's order.
    pub(crate) fn add_names<'n>(
        &mut self,
        centers: impl IntoIterator<Item = &'n str>,
        subjects: impl IntoIterator<Item = &'n str>,
        days: impl IntoIterator<Item = &'n str>,
    ) {
        let center = merge_names(&mut self.centers, centers);
        let subject = merge_names(&mut self.subjects, subjects);
        let day = merge_names(&mut self.days, days);
        for c in &mut self.candidates {
            c.center = center[c.center as usize];
            c.slot = c.slot.renumbered(|d| day[d as usize]);
            for s in &mut c.subjects {
                s.subject = subject[s.subject as usize];
            }
        }
    }

    /// The id of a centre, subject or day name, if the tables hold it.
    pub(crate) fn center_id(&self, name: &str) -> Option<u32> {
        find(&self.centers, name)
    }
    pub(crate) fn subject_id(&self, name: &str) -> Option<u32> {
        find(&self.subjects, name)
    }
    pub(crate) fn day_id(&self, name: &str) -> Option<u32> {
        find(&self.days, name)
    }
}

fn find(sorted: &[String], name: &str) -> Option<u32> {
    sorted
        .binary_search_by(|n| n.as_str().cmp(name))
        .ok()
        .map(|i| i as u32)
}

/// `table` with `more` added, sorted and without repeats; and the new id of each old one
/// (monotonic, so a candidate's subjects stay in order).
fn merge_names<'n>(table: &mut Vec<String>, more: impl IntoIterator<Item = &'n str>) -> Vec<u32> {
    let more: Vec<String> = more.into_iter().map(str::to_string).collect();
    let (all, mut maps) = sorted_union([table.as_slice(), more.as_slice()]);
    *table = all;
    maps.swap_remove(0)
}

/// The sorted union of some name tables, without repeats, and for each table the id in
/// the union of each of its names: how the name tables of chunks, files and summons
/// become one table whose id order is name order.
pub(crate) fn sorted_union<'t>(
    tables: impl IntoIterator<Item = &'t [String]> + Clone,
) -> (Vec<String>, Vec<Vec<u32>>) {
    let mut all: Vec<String> = tables.clone().into_iter().flatten().cloned().collect();
    all.sort_unstable();
    all.dedup();
    let maps = tables
        .into_iter()
        .map(|t| {
            t.iter()
                .map(|n| find(&all, n).expect("a name of the union"))
                .collect()
        })
        .collect();
    (all, maps)
}

/// The candidates one fit learns from (or one session to forecast), with the name tables
/// of their dataset. The rolling-origin fits use the first sessions: the dataset is
/// sorted by session, so those candidates are a prefix, borrowed rather than copied.
#[derive(Clone, Copy)]
pub(crate) struct Sessions<'a> {
    pub(crate) names: &'a Dataset,
    pub(crate) candidates: &'a [Candidate],
}

impl<'a> Sessions<'a> {
    /// The candidates of the sessions in `range`.
    pub(crate) fn of(data: &'a Dataset, range: impl std::ops::RangeBounds<i32>) -> Sessions<'a> {
        let c = &data.candidates;
        let lo = c.partition_point(|x| match range.start_bound() {
            std::ops::Bound::Included(&s) => x.session < s,
            std::ops::Bound::Excluded(&s) => x.session <= s,
            std::ops::Bound::Unbounded => false,
        });
        let hi = c.partition_point(|x| match range.end_bound() {
            std::ops::Bound::Included(&s) => x.session <= s,
            std::ops::Bound::Excluded(&s) => x.session < s,
            std::ops::Bound::Unbounded => true,
        });
        Sessions {
            names: data,
            candidates: &c[lo..hi.max(lo)],
        }
    }
}
