//! Timetable: a time for every oral an examiner can hear, per centre and slot.
//!
//! A candidate prepares, then is heard; a second oral starts its preparation at least
//! `gap` minutes after the first ends. An examiner hears one candidate at a time (the
//! next candidate prepares while the previous one is heard) and at most `capacity` in
//! the slot. List scheduling by dispatching: the oral that can start earliest, over
//! every candidate's next possible oral, goes first, to the examiner of its subject who
//! can hear it earliest. It is greedy, so each centre's last end is reported next to a
//! lower bound: the busiest
//! subject's oral minutes shared evenly among its examiners after one preparation, or
//! the longest candidate sequence.

use std::collections::BTreeMap;

use super::Decisions;
use crate::data::{CellKey, Dataset, HalfDay, Slot};
use crate::input::{Choices, Durations};

/// When orals start and how long they last.
#[derive(Debug, Clone)]
pub(crate) struct TimetableOptions {
    /// Minutes after midnight a morning (or a whole day) starts.
    pub(crate) am_start: u32,
    /// Minutes after midnight an afternoon starts.
    pub(crate) pm_start: u32,
    /// Minutes between a candidate's two orals.
    pub(crate) gap: u32,
    pub(crate) default: Durations,
    pub(crate) by_subject: BTreeMap<String, Durations>,
}

impl TimetableOptions {
    fn durations(&self, subject: &str) -> Durations {
        self.by_subject
            .get(subject)
            .copied()
            .unwrap_or(self.default)
    }
}

/// One oral with its time (minutes after midnight).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scheduled {
    pub(crate) candidate: usize,
    pub(crate) subject: String,
    /// Index into the summons.
    pub(crate) examiner: usize,
    pub(crate) preparation_start: u32,
    pub(crate) oral_start: u32,
    pub(crate) oral_end: u32,
}

/// An oral no examiner could take (its cell's examiners were full or absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unheard {
    pub(crate) candidate: usize,
    pub(crate) subject: String,
}

/// How one centre's slot ends against its lower bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SlotEnd {
    /// An index into the dataset's centres.
    pub(crate) center: u32,
    pub(crate) slot: Slot,
    pub(crate) last_end: u32,
    pub(crate) lower_bound: u32,
}

/// The whole timetable.
#[derive(Debug, Clone, Default)]
pub(crate) struct Timetable {
    pub(crate) orals: Vec<Scheduled>,
    pub(crate) unheard: Vec<Unheard>,
    pub(crate) ends: Vec<SlotEnd>,
}

/// An examiner's state while scheduling.
struct Busy {
    summon: usize,
    free_at: u32,
    heard: usize,
    capacity: usize,
}

/// Schedules every (centre, slot) group of cells.
pub(crate) fn timetable(
    data: &Dataset,
    choices: &Choices,
    decisions: &Decisions,
    opts: &TimetableOptions,
) -> Timetable {
    // Cells grouped by (centre, day, half-day): a candidate's orals are in one group.
    let mut groups: BTreeMap<(u32, Slot), Vec<&CellKey>> = BTreeMap::new();
    for key in decisions.cells.keys() {
        groups.entry((key.center, key.slot)).or_default().push(key);
    }
    let mut out = Timetable::default();
    for ((center, slot), keys) in groups {
        let start = match slot.half() {
            Some(HalfDay::Pm) => opts.pm_start,
            Some(HalfDay::Am) | None => opts.am_start,
        };
        let group = Group::new(data, choices, decisions, &keys, start);
        let bound_of = |scheduled: &[Scheduled], group: &Group| lower_bound(scheduled, group, opts);
        let (scheduled, bound) = group.schedule(data, choices, opts, &mut out, bound_of);
        out.ends.push(SlotEnd {
            center,
            slot,
            last_end: scheduled.iter().map(|s| s.oral_end).max().unwrap_or(start),
            lower_bound: bound,
        });
        out.orals.extend(scheduled);
    }
    out
}

/// One centre's slot: its examiners per subject (those who come or are called), its
/// candidates and its start.
struct Group {
    examiners: BTreeMap<String, Vec<Busy>>,
    candidates: Vec<usize>,
    start: u32,
}

impl Group {
    fn new(
        data: &Dataset,
        choices: &Choices,
        decisions: &Decisions,
        keys: &[&CellKey],
        start: u32,
    ) -> Group {
        let mut examiners: BTreeMap<String, Vec<Busy>> = BTreeMap::new();
        let mut candidates = Vec::new();
        for key in keys {
            let cell = &decisions.cells[*key];
            let busy = cell
                .examiners
                .iter()
                .filter(|&&i| decisions.actions[i].hears())
                .map(|&i| Busy {
                    summon: i,
                    free_at: start,
                    heard: 0,
                    capacity: cell.capacity,
                });
            let subject = data.subjects[key.subject as usize].clone();
            examiners.entry(subject).or_default().extend(busy);
            candidates.extend(cell.orals.iter().map(|&(k, _)| k));
        }
        candidates.sort_unstable();
        candidates.dedup();
        // Two orals first (the longest sequences), then by id.
        candidates.sort_by(|&a, &b| {
            let n = |k: usize| choices.get(&k).map_or(0, Vec::len);
            let id = |k: usize| data.candidates[k].id.as_str();
            n(b).cmp(&n(a)).then_with(|| id(a).cmp(id(b)))
        });
        Group {
            examiners,
            candidates,
            start,
        }
    }

    /// Schedules the group's orals; returns them with the group's lower bound (computed
    /// by `bound` on the examiners as they were, before any booking).
    ///
    /// Dispatching: among every candidate's next possible oral (either of two, for a
    /// candidate who has both left), the one that can start earliest is booked first
    /// (ties: the candidate with more orals left, then the earlier in the list), so an
    /// examiner waiting for a candidate who prepares hears someone else meanwhile.
    fn schedule(
        mut self,
        data: &Dataset,
        choices: &Choices,
        opts: &TimetableOptions,
        out: &mut Timetable,
        bound: impl Fn(&[Scheduled], &Group) -> u32,
    ) -> (Vec<Scheduled>, u32) {
        // Each candidate's orals left and the time from which they are free.
        let mut left: Vec<(usize, Vec<String>, u32)> = self
            .candidates
            .iter()
            .map(|&k| {
                let c = &data.candidates[k];
                let subjects = choices[&k]
                    .iter()
                    .map(|&j| data.subject_name(&c.subjects[j]).to_string())
                    .collect();
                (k, subjects, self.start)
            })
            .collect();
        let mut done = Vec::new();
        loop {
            let mut best: Option<(u32, usize, usize, usize)> = None;
            for (pos, (_, subjects, free)) in left.iter().enumerate() {
                for (si, subject) in subjects.iter().enumerate() {
                    let d = opts.durations(subject);
                    if let Some((_, start)) = self.earliest(subject, *free, d) {
                        let key = (start, usize::MAX - subjects.len(), pos, si);
                        if best.is_none_or(|b| key < b) {
                            best = Some(key);
                        }
                    }
                }
            }
            let Some((_, _, pos, si)) = best else { break };
            let (k, subjects, free) = &mut left[pos];
            let subject = subjects.remove(si);
            let s = self
                .place(*k, &subject, *free, opts)
                .expect("an examiner was free for it");
            *free = s.oral_end + opts.gap;
            done.push(s);
        }
        // What is left has no examiner with room.
        for (k, subjects, _) in left {
            for subject in subjects {
                out.unheard.push(Unheard {
                    candidate: k,
                    subject,
                });
            }
        }
        let b = bound(&done, &self);
        (done, b)
    }

    /// The examiner of `subject` who can hear a candidate free from `t` earliest, and
    /// when the oral would start.
    fn earliest(&self, subject: &str, t: u32, d: Durations) -> Option<(usize, u32)> {
        self.examiners
            .get(subject)?
            .iter()
            .enumerate()
            .filter(|(_, e)| e.heard < e.capacity)
            .map(|(i, e)| (i, e.free_at.max(t + d.preparation)))
            .min_by_key(|&(i, start)| (start, i))
    }

    /// Books the earliest oral of `subject` for candidate `k`, free from `t`.
    fn place(
        &mut self,
        k: usize,
        subject: &str,
        t: u32,
        opts: &TimetableOptions,
    ) -> Option<Scheduled> {
        let d = opts.durations(subject);
        let (i, oral_start) = self.earliest(subject, t, d)?;
        let e = &mut self.examiners.get_mut(subject)?[i];
        e.free_at = oral_start + d.oral;
        e.heard += 1;
        Some(Scheduled {
            candidate: k,
            subject: subject.to_string(),
            examiner: e.summon,
            preparation_start: oral_start - d.preparation,
            oral_start,
            oral_end: oral_start + d.oral,
        })
    }
}

/// No timetable of the group can end before this: the busiest subject's oral minutes
/// shared evenly among its examiners after one preparation, or the longest candidate
/// sequence (preparations, orals and the gap).
fn lower_bound(scheduled: &[Scheduled], group: &Group, opts: &TimetableOptions) -> u32 {
    let mut minutes: BTreeMap<&str, u32> = BTreeMap::new();
    for s in scheduled {
        *minutes.entry(&s.subject).or_default() += opts.durations(&s.subject).oral;
    }
    let by_subject = minutes.iter().map(|(subject, &m)| {
        let n = group.examiners.get(*subject).map_or(1, |e| e.len().max(1)) as u32;
        opts.durations(subject).preparation + m.div_ceil(n)
    });
    let mut sequences: BTreeMap<usize, (u32, u32)> = BTreeMap::new();
    for o in scheduled {
        let d = opts.durations(&o.subject);
        let e = sequences.entry(o.candidate).or_default();
        e.0 += d.preparation + d.oral;
        e.1 += 1;
    }
    let by_candidate = sequences
        .values()
        .map(|&(minutes, n)| minutes + opts.gap * n.saturating_sub(1));
    group.start + by_subject.chain(by_candidate).max().unwrap_or(0)
}

/// `HH:MM` for minutes after midnight.
pub(crate) fn clock(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Minutes after midnight from `HH:MM`.
pub(crate) fn parse_clock(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    let (h, m) = (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}
