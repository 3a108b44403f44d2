//! Replay: the held-out sessions of the rolling origin, kept in the model as their
//! cells' forecast and outcome, so that `forecast` can replay its plan rule on the
//! office's own past sessions and calibrate the coverage it promises
//! (`promise.rs`), each with the drift estimated from the other held-out sessions.
//! A cell keeps its subject, its number of eligible
//! candidates, the sum of their probabilities and of their variances, and the orals
//! taken: aggregates, without the centre's name, sorted so that the file's order says
//! nothing of the centres either.

use std::collections::BTreeMap;

use super::{Drift, Model, Replay, ReplayCell};
use crate::data::{Sessions, Slot, SlotKind};

/// Sums kept to four decimals: the replay needs no more, and the model file stays short.
fn rounded(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

/// The replay of the one session in `held_out`, forecast by `model` (fitted on the
/// sessions before it) and widened by `drift` (estimated without it). Cells are at the
/// history's grain, and also over the whole period when the history has slots.
pub(crate) fn replay(model: &Model, held_out: Sessions<'_>, drift: Drift) -> Replay {
    let map = model.mapping(held_out.names);
    let mut cells: BTreeMap<(u32, u32, Slot), [f64; 4]> = BTreeMap::new();
    for c in held_out.candidates {
        for (s, p) in c.subjects.iter().zip(model.inclusion(c, &map)) {
            let e = cells.entry((c.center, s.subject, c.slot)).or_default();
            e[0] += 1.0;
            e[1] += p;
            e[2] += p * (1.0 - p);
            e[3] += f64::from(u8::from(s.chosen == Some(true)));
        }
    }
    let kind = held_out
        .candidates
        .first()
        .map_or(SlotKind::Period, |c| c.slot.kind());
    let period = if kind == SlotKind::Period {
        Vec::new()
    } else {
        let mut whole: BTreeMap<(u32, u32), [f64; 4]> = BTreeMap::new();
        for (&(center, subject, _), t) in &cells {
            let e = whole.entry((center, subject)).or_default();
            for (a, b) in e.iter_mut().zip(t) {
                *a += b;
            }
        }
        anonymous(whole.iter().map(|(&(_, j), t)| (j, t)))
    };
    Replay {
        session: held_out.candidates.first().map_or(0, |c| c.session),
        slots: kind.code().to_string(),
        cells: anonymous(cells.iter().map(|(&(_, j, _), t)| (j, t))),
        period,
        drift,
    }
}

/// The cells without their centre, in an order of their own values.
fn anonymous<'a>(cells: impl Iterator<Item = (u32, &'a [f64; 4])>) -> Vec<ReplayCell> {
    let mut out: Vec<ReplayCell> = cells
        .map(|(subject, &[n, e, v, a])| {
            let expected = rounded(e);
            ReplayCell {
                subject,
                eligible: n as u32,
                expected,
                variance: rounded(v).min(expected),
                actual: a as u32,
            }
        })
        .collect();
    out.sort_by(|x, y| {
        (x.subject, x.eligible, x.actual)
            .cmp(&(y.subject, y.eligible, y.actual))
            .then(x.expected.total_cmp(&y.expected))
            .then(x.variance.total_cmp(&y.variance))
    });
    out
}

impl From<ReplayCell> for String {
    fn from(c: ReplayCell) -> String {
        format!(
            "{} {} {} {} {}",
            c.subject, c.eligible, c.expected, c.variance, c.actual
        )
    }
}

impl TryFrom<String> for ReplayCell {
    type Error = String;

    /// A cell written by [`From`]; anything else (an edited file) is an error, which the
    /// model file reports as damage.
    fn try_from(s: String) -> Result<ReplayCell, String> {
        let bad = || {
            format!(
                "a replay cell '{}' (expected 'subject eligible expected variance actual')",
                crate::shown::escape_controls(&s, 60)
            )
        };
        let parts: Vec<&str> = s.split(' ').collect();
        let [j, n, e, v, a] = parts[..] else {
            return Err(bad());
        };
        let int = |x: &str| x.parse::<u32>().map_err(|_| bad());
        let real = |x: &str| {
            x.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(bad)
        };
        Ok(ReplayCell {
            subject: int(j)?,
            eligible: int(n)?,
            expected: real(e)?,
            variance: real(v)?,
            actual: int(a)?,
        })
    }
}

impl ReplayCell {
    /// What is wrong with a cell read back, given the model's number of subjects and of
    /// training candidates (no cell can have more eligible candidates than the history:
    /// the replay allocates per candidate, so an edited count must not reach it).
    pub(crate) fn check(&self, subjects: usize, candidates: usize) -> Result<(), String> {
        let n = f64::from(self.eligible);
        let ok = (self.subject as usize) < subjects
            && self.eligible > 0
            && self.eligible as usize <= candidates
            && (0.0..=n + 1e-3).contains(&self.expected)
            && (0.0..=self.expected + 1e-3).contains(&self.variance)
            && self.actual <= self.eligible;
        if ok {
            Ok(())
        } else {
            Err(format!(
                "a replay cell out of range ('{}')",
                String::from(*self)
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_reads_back_what_it_wrote_and_refuses_anything_else() {
        let c = ReplayCell {
            subject: 3,
            eligible: 12,
            expected: 2.4512,
            variance: 1.8301,
            actual: 2,
        };
        let s = String::from(c);
        assert_eq!(s, "3 12 2.4512 1.8301 2");
        assert_eq!(ReplayCell::try_from(s).unwrap(), c);
        for bad in [
            "",
            "3 12 2.4 1.8",
            "3 12 2.4 1.8 2 9",
            "3 12 NaN 1 2",
            "-1 1 0 0 0",
            "a b c d e",
        ] {
            assert!(ReplayCell::try_from(bad.to_string()).is_err(), "{bad}");
        }
        assert!(c.check(4, 100).is_ok());
        assert!(c.check(3, 100).is_err());
        assert!(c.check(4, 11).is_err());
        let more_than_eligible = ReplayCell { actual: 13, ..c };
        assert!(more_than_eligible.check(4, 100).is_err());
    }
}
