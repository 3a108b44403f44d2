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
//!
//! When the plan held some orals at another centre of their zone (`forecast --zones`),
//! the centres it linked are scheduled together: each oral is heard at the centre that
//! holds it, by that centre's examiners of the subject, and a candidate's two orals in
//! two centres are `travel` minutes apart instead of `gap`.

use std::collections::BTreeMap;

use super::Decisions;
use crate::data::{CellKey, Dataset, HalfDay, Hosts, Slot};
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
    /// Minutes between a candidate's two orals in two centres (at least `gap`).
    pub(crate) travel: u32,
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
    /// The centre the oral is held at (the candidate's, unless the plan moved it).
    pub(crate) center: u32,
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
    /// An index into the dataset's centres: the first of the centres scheduled together
    /// when the plan linked several.
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

/// Schedules every (centres, slot) group of cells, each oral where `hosts` holds it.
pub(crate) fn timetable(
    data: &Dataset,
    (choices, hosts): (&Choices, &Hosts),
    decisions: &Decisions,
    opts: &TimetableOptions,
) -> Timetable {
    // Cells grouped by (centres linked by a move, day, half-day): a candidate's orals
    // are in one group.
    let linked = linked_centers(data.centers.len(), hosts);
    let mut groups: BTreeMap<(u32, Slot), Vec<&CellKey>> = BTreeMap::new();
    for key in decisions.cells.keys() {
        let group = linked[key.center as usize];
        groups.entry((group, key.slot)).or_default().push(key);
    }
    let mut out = Timetable::default();
    for ((center, slot), keys) in groups {
        let start = match slot.half() {
            Some(HalfDay::Pm) => opts.pm_start,
            Some(HalfDay::Am) | None => opts.am_start,
        };
        let group = Group::new(data, choices, decisions, &keys, start);
        let bound_of = |scheduled: &[Scheduled], group: &Group| lower_bound(scheduled, group, opts);
        let (scheduled, bound) = group.schedule(data, (choices, hosts), opts, &mut out, bound_of);
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

/// Each centre's group: the smallest centre linked to it by the plan's moves (itself
/// when nothing moved), so that a candidate's orals in two centres are scheduled
/// together.
fn linked_centers(n: usize, hosts: &Hosts) -> Vec<u32> {
    let mut root: Vec<u32> = (0..n as u32).collect();
    fn find(root: &mut [u32], mut c: u32) -> u32 {
        while root[c as usize] != c {
            root[c as usize] = root[root[c as usize] as usize];
            c = root[c as usize];
        }
        c
    }
    for (c, _, h) in hosts.moved() {
        let (a, b) = (find(&mut root, c), find(&mut root, h));
        root[a.max(b) as usize] = a.min(b);
    }
    (0..n as u32).map(|c| find(&mut root, c)).collect()
}

/// An oral's place: the centre that holds it and the subject.
type Place = (u32, String);
/// A candidate's last oral so far: its centre and when it ended.
type LastOral = (u32, u32);

/// One slot of centres scheduled together: their examiners per (centre, subject) (those
/// who come or are called), their candidates and the start.
struct Group {
    examiners: BTreeMap<Place, Vec<Busy>>,
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
        let mut examiners: BTreeMap<Place, Vec<Busy>> = BTreeMap::new();
        let mut candidates = Vec::new();
        for key in keys {
            let cell = &decisions.cells[*key];
            let busy = cell.hearing.iter().map(|&i| Busy {
                summon: i,
                free_at: start,
                heard: 0,
                capacity: cell.capacity,
            });
            let subject = data.subjects[key.subject as usize].clone();
            examiners
                .entry((key.center, subject))
                .or_default()
                .extend(busy);
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
        (choices, hosts): (&Choices, &Hosts),
        opts: &TimetableOptions,
        out: &mut Timetable,
        bound: impl Fn(&[Scheduled], &Group) -> u32,
    ) -> (Vec<Scheduled>, u32) {
        // Each candidate's orals left and their last oral so far.
        let mut left: Vec<(usize, Vec<Place>, Option<LastOral>)> = self
            .candidates
            .iter()
            .map(|&k| {
                let c = &data.candidates[k];
                let places = choices[&k]
                    .iter()
                    .map(|&j| {
                        let s = &c.subjects[j];
                        let center = hosts.of(c.center, s.subject);
                        (center, data.subject_name(s).to_string())
                    })
                    .collect();
                (k, places, None)
            })
            .collect();
        // A candidate is free for an oral at `place` from the start, or from the end of
        // their last oral plus the gap (or the travel, when it is at another centre).
        let start = self.start;
        let free_for = |last: Option<LastOral>, place: &Place| match last {
            None => start,
            Some((c, end)) if c == place.0 => end + opts.gap,
            Some((_, end)) => end + opts.travel.max(opts.gap),
        };
        let mut done = Vec::new();
        loop {
            let mut best: Option<(u32, usize, usize, usize)> = None;
            for (pos, (_, places, last)) in left.iter().enumerate() {
                for (si, place) in places.iter().enumerate() {
                    let d = opts.durations(&place.1);
                    if let Some((_, start)) = self.earliest(place, free_for(*last, place), d) {
                        let key = (start, usize::MAX - places.len(), pos, si);
                        if best.is_none_or(|b| key < b) {
                            best = Some(key);
                        }
                    }
                }
            }
            let Some((_, _, pos, si)) = best else { break };
            let (k, places, last) = &mut left[pos];
            let place = places.remove(si);
            let from = free_for(*last, &place);
            let s = self
                .place(*k, &place, from, opts)
                .expect("an examiner was free for it");
            *last = Some((place.0, s.oral_end));
            done.push(s);
        }
        // What is left has no examiner with room.
        for (k, places, _) in left {
            for (_, subject) in places {
                out.unheard.push(Unheard {
                    candidate: k,
                    subject,
                });
            }
        }
        let b = bound(&done, &self);
        (done, b)
    }

    /// The examiner at `place` who can hear a candidate free from `t` earliest, and
    /// when the oral would start.
    fn earliest(&self, place: &Place, t: u32, d: Durations) -> Option<(usize, u32)> {
        self.examiners
            .get(place)?
            .iter()
            .enumerate()
            .filter(|(_, e)| e.heard < e.capacity)
            .map(|(i, e)| (i, e.free_at.max(t + d.preparation)))
            .min_by_key(|&(i, start)| (start, i))
    }

    /// Books the earliest oral at `place` for candidate `k`, free from `t`.
    fn place(
        &mut self,
        k: usize,
        place: &Place,
        t: u32,
        opts: &TimetableOptions,
    ) -> Option<Scheduled> {
        let d = opts.durations(&place.1);
        let (i, oral_start) = self.earliest(place, t, d)?;
        let e = &mut self.examiners.get_mut(place)?[i];
        e.free_at = oral_start + d.oral;
        e.heard += 1;
        Some(Scheduled {
            candidate: k,
            center: place.0,
            subject: place.1.clone(),
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
    let mut minutes: BTreeMap<Place, u32> = BTreeMap::new();
    for s in scheduled {
        let place = (s.center, s.subject.clone());
        *minutes.entry(place).or_default() += opts.durations(&s.subject).oral;
    }
    let by_subject = minutes.iter().map(|(place, &m)| {
        let n = group.examiners.get(place).map_or(1, |e| e.len().max(1)) as u32;
        opts.durations(&place.1).preparation + m.div_ceil(n)
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
