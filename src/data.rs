//! Data: the validated candidates every stage works on.
//!
//! `input` builds a [`Dataset`]; the model, the forecast, planning and the backtest only
//! read it. Names (centres, tracks, subjects) are interned once, sorted, so that every
//! result is independent of row and file order. [`Sessions`] is the one way to take the
//! candidates of some sessions: the dataset is sorted by session, so those are a slice,
//! borrowed rather than copied.

use std::collections::BTreeMap;

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

/// A cell's names: centre, subject, day, half-day (the last two empty without slots).
pub(crate) type CellKey = (String, String, String, String);

/// A half of an oral day: examiners are convened and paid per half-day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum HalfDay {
    Am,
    Pm,
}

impl HalfDay {
    /// `am`/`pm`, `matin`/`après-midi` (or `apres-midi`), any case.
    pub(crate) fn parse(s: &str) -> Option<HalfDay> {
        match s.trim().to_lowercase().as_str() {
            "am" | "matin" => Some(HalfDay::Am),
            "pm" | "après-midi" | "apres-midi" | "aprés-midi" => Some(HalfDay::Pm),
            _ => None,
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            HalfDay::Am => "am",
            HalfDay::Pm => "pm",
        }
    }
}

/// When a candidate's orals take place: a day (an index into [`Dataset::days`]) and,
/// when the schedule says, a half-day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Slot {
    pub(crate) day: u32,
    pub(crate) half: Option<HalfDay>,
}

/// The unit `--capacity` counts in: what one examiner hears in a half-day, a day, or the
/// whole oral period when the data has no slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlotKind {
    Period,
    Day,
    HalfDay,
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
    /// The candidate's oral slot, when the file or the schedule gives one.
    pub(crate) slot: Option<Slot>,
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
        }
    }

    /// What `--capacity` counts: every candidate has a slot with a half-day, or a day,
    /// or no candidate has a slot (input makes sure there is no mix).
    pub(crate) fn slot_kind(&self) -> SlotKind {
        match self.candidates.first().and_then(|c| c.slot) {
            None => SlotKind::Period,
            Some(Slot { half: None, .. }) => SlotKind::Day,
            Some(_) => SlotKind::HalfDay,
        }
    }

    /// The slots of the candidates, sorted (`None` alone without slots).
    pub(crate) fn slots(&self) -> Vec<Option<Slot>> {
        let mut slots: Vec<Option<Slot>> = self.candidates.iter().map(|c| c.slot).collect();
        slots.sort_unstable();
        slots.dedup();
        slots
    }

    /// The day and half-day labels of a slot (empty without one).
    pub(crate) fn slot_labels(&self, slot: Option<Slot>) -> (&str, &str) {
        match slot {
            None => ("", ""),
            Some(s) => (
                self.days[s.day as usize].as_str(),
                s.half.map_or("", HalfDay::label),
            ),
        }
    }
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
