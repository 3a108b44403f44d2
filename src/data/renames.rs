//! Renames: the subjects of a history that look like one subject under two labels, a
//! label that stops being used in the session a new one starts, in the same tracks and
//! for a similar share of candidates. `train` warns of them and gives the subjects
//! file's line; it never merges on its own, since a subject that ends while another
//! begins may also be a real change of the programme.

use std::collections::{BTreeMap, BTreeSet};

use super::Dataset;

/// A subject that looks renamed: `old` in sessions up to `old_last`, `new` from
/// `new_first` (the next session of the history) on.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct LikelyRename {
    pub(crate) old: String,
    pub(crate) new: String,
    pub(crate) old_sessions: (i32, i32),
    pub(crate) new_sessions: (i32, i32),
    /// The share of candidates eligible for it, under each label.
    pub(crate) old_share: f64,
    pub(crate) new_share: f64,
}

/// The tracks two labels must share (Jaccard index of their sets of tracks), and how far
/// apart their shares of eligible candidates may be (ratio): a renamed spécialité keeps
/// its tracks and its audience, two unrelated subjects rarely have both.
const MIN_SHARED_TRACKS: f64 = 0.5;
const MAX_SHARE_RATIO: f64 = 1.5;

/// What the history says of one label.
#[derive(Default)]
struct Label {
    sessions: BTreeSet<i32>,
    tracks: BTreeSet<u32>,
    rows: usize,
}

/// The likely renames of `data`'s subjects, each old label with the closest new one.
pub(crate) fn likely_renames(data: &Dataset) -> Vec<LikelyRename> {
    let mut labels: BTreeMap<u32, Label> = BTreeMap::new();
    let mut candidates: BTreeMap<i32, usize> = BTreeMap::new();
    for c in &data.candidates {
        *candidates.entry(c.session).or_default() += 1;
        for s in &c.subjects {
            let l = labels.entry(s.subject).or_default();
            l.sessions.insert(c.session);
            l.tracks.insert(c.track);
            l.rows += 1;
        }
    }
    let sessions: Vec<i32> = candidates.keys().copied().collect();
    let share = |l: &Label| {
        let n: usize = l.sessions.iter().map(|s| candidates[s]).sum();
        l.rows as f64 / n.max(1) as f64
    };
    let mut out = Vec::new();
    let mut taken = BTreeSet::new();
    for (&a, la) in &labels {
        let (Some(&a_last), Some(&a_first)) = (la.sessions.last(), la.sessions.first()) else {
            continue;
        };
        // The session after the old label's last one, if the history goes on.
        let Some(&next) = sessions.iter().find(|&&s| s > a_last) else {
            continue;
        };
        let best = labels
            .iter()
            .filter(|(b, lb)| {
                !taken.contains(*b)
                    && lb.sessions.first() == Some(&next)
                    && jaccard(&la.tracks, &lb.tracks) >= MIN_SHARED_TRACKS
            })
            .map(|(&b, lb)| (b, lb, (share(lb) / share(la)).ln().abs()))
            .filter(|&(_, _, d)| d <= MAX_SHARE_RATIO.ln())
            .min_by(|x, y| x.2.total_cmp(&y.2));
        if let Some((b, lb, _)) = best {
            taken.insert(b);
            out.push(LikelyRename {
                old: data.subjects[a as usize].clone(),
                new: data.subjects[b as usize].clone(),
                old_sessions: (a_first, a_last),
                new_sessions: (next, *lb.sessions.last().unwrap_or(&next)),
                old_share: share(la),
                new_share: share(lb),
            });
        }
    }
    out
}

fn jaccard(a: &BTreeSet<u32>, b: &BTreeSet<u32>) -> f64 {
    let both = a.intersection(b).count();
    let either = a.union(b).count();
    both as f64 / either.max(1) as f64
}
