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
}

/// Validated candidates, with centre, track and subject names interned.
#[derive(Debug, Clone, Default)]
pub(crate) struct Dataset {
    pub(crate) candidates: Vec<Candidate>,
    pub(crate) centers: Vec<String>,
    pub(crate) tracks: Vec<String>,
    pub(crate) subjects: Vec<String>,
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
            set_aside: 0,
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
