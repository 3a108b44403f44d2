//! Metrics: the numbers a backtest reports, exactly as the README defines them. Per
//! (centre, subject) cell: `actual` orals, `expected` orals, `examiners`,
//! `needed = ceil(actual / capacity)`; from them coverage, cell_coverage, redundancy,
//! surplus, wape_subject, wape_cell; and log_loss with a calibration table from the
//! candidate-subject probabilities.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::numeric::bernoulli_loss;

use super::ScoredCell;

#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub(crate) struct Metrics {
    pub(crate) coverage: f64,
    pub(crate) cell_coverage: f64,
    pub(crate) redundancy: f64,
    pub(crate) surplus: f64,
    pub(crate) wape_subject: f64,
    pub(crate) wape_cell: f64,
    /// `None` for a method that gives no probabilities.
    pub(crate) log_loss: Option<f64>,
    pub(crate) examiners: usize,
    pub(crate) needed: usize,
    /// Reserve examiners on call, and the coverage once every one is called.
    pub(crate) reserve: usize,
    pub(crate) coverage_with_reserve: f64,
    /// Reserves that would have been called: in each cell, those needed beyond the firm
    /// examiners (and, with zones, beyond the idle ones moved in).
    pub(crate) reserve_calls: usize,
    /// With zones: firm examiners moved to another centre of their zone, and the
    /// coverage once they are (before any reserve). Without: 0 and the firm coverage.
    pub(crate) moves: usize,
    pub(crate) coverage_with_moves: f64,
    /// Examiner half-days used (with half-day slots): firm examiners plus reserves
    /// called.
    pub(crate) used: usize,
    /// Share of firm examiners (examiner half-days, with half-day slots) who would have
    /// heard nobody.
    pub(crate) idle_share: f64,
    /// Shares of subjects and of cells whose actual count fell outside the forecast's
    /// central interval (about 1 - `--interval` when the widening is calibrated).
    pub(crate) subjects_outside_interval: f64,
    pub(crate) cells_outside_interval: f64,
}

/// The share of `cells` whose actual count lies outside [low, high].
pub(crate) fn outside_share(cells: &[ScoredCell]) -> f64 {
    let outside = cells
        .iter()
        .filter(|c| c.actual < c.low || c.actual > c.high)
        .count();
    if cells.is_empty() {
        0.0
    } else {
        outside as f64 / cells.len() as f64
    }
}

/// One row of the calibration table.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct CalibrationBin {
    pub(crate) from: f64,
    pub(crate) to: f64,
    pub(crate) count: usize,
    pub(crate) mean_predicted: f64,
    pub(crate) observed_rate: f64,
}

/// Mean Bernoulli log-loss, probabilities clipped to [eps, 1 - eps].
pub(crate) fn log_loss(pairs: &[(f64, bool)], eps: f64) -> f64 {
    let n = pairs.len().max(1) as f64;
    pairs
        .iter()
        .map(|&(p, y)| bernoulli_loss(p, y, eps))
        .sum::<f64>()
        / n
}

pub(crate) fn calibration(pairs: &[(f64, bool)], bins: usize) -> Vec<CalibrationBin> {
    let mut acc = vec![(0usize, 0.0f64, 0usize); bins];
    for &(p, y) in pairs {
        let b = ((p * bins as f64) as usize).min(bins - 1);
        acc[b].0 += 1;
        acc[b].1 += p;
        acc[b].2 += usize::from(y);
    }
    acc.iter()
        .enumerate()
        .map(|(i, &(n, sp, sy))| CalibrationBin {
            from: i as f64 / bins as f64,
            to: (i + 1) as f64 / bins as f64,
            count: n,
            mean_predicted: if n > 0 { sp / n as f64 } else { 0.0 },
            observed_rate: if n > 0 { sy as f64 / n as f64 } else { 0.0 },
        })
        .collect()
}

/// The metrics of a set of scored cells (see the module doc for the definitions).
pub(crate) fn metrics(cells: &[ScoredCell], log_loss: Option<f64>) -> Metrics {
    let actual: usize = cells.iter().map(|c| c.actual).sum();
    let needed: usize = cells.iter().map(|c| c.needed).sum();
    let examiners: usize = cells.iter().map(|c| c.examiners).sum();
    let covered: usize = cells
        .iter()
        .map(|c| (c.examiners * c.capacity).min(c.actual))
        .sum();
    let heard = |n: fn(&ScoredCell) -> usize| -> usize {
        cells
            .iter()
            .map(|c| (n(c) * c.capacity).min(c.actual))
            .sum()
    };
    let covered_with_moves = heard(|c| c.with_moves);
    let covered_with_reserve = heard(|c| c.with_moves + c.calls);
    let reserve: usize = cells.iter().map(|c| c.reserve).sum();
    let reserve_calls: usize = cells.iter().map(|c| c.calls).sum();
    let share = |covered: usize| {
        if actual > 0 {
            covered as f64 / actual as f64
        } else {
            1.0
        }
    };
    let needing: Vec<&ScoredCell> = cells.iter().filter(|c| c.needed > 0).collect();
    let ok = needing.iter().filter(|c| c.examiners >= c.needed).count();
    let surplus: usize = cells
        .iter()
        .map(|c| c.examiners.saturating_sub(c.needed))
        .sum();
    let mut by_subject: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for c in cells {
        let e = by_subject.entry(&c.subject).or_default();
        e.0 += c.expected;
        e.1 += c.actual as f64;
    }
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let wape_subject = ratio(
        by_subject.values().map(|(e, a)| (e - a).abs()).sum(),
        actual as f64,
    );
    let wape_cell = ratio(
        cells
            .iter()
            .map(|c| (c.expected - c.actual as f64).abs())
            .sum(),
        actual as f64,
    );
    Metrics {
        coverage: if actual > 0 {
            covered as f64 / actual as f64
        } else {
            1.0
        },
        cell_coverage: if needing.is_empty() {
            1.0
        } else {
            ok as f64 / needing.len() as f64
        },
        redundancy: ratio(examiners as f64 - needed as f64, needed as f64),
        surplus: ratio(surplus as f64, needed as f64),
        wape_subject,
        wape_cell,
        log_loss,
        examiners,
        needed,
        reserve,
        coverage_with_reserve: share(covered_with_reserve),
        reserve_calls,
        moves: cells.iter().map(|c| c.moved_in).sum(),
        coverage_with_moves: share(covered_with_moves),
        used: examiners + reserve_calls,
        idle_share: ratio(surplus as f64, examiners as f64),
        // The subjects' share is set once the subject totals are known.
        subjects_outside_interval: 0.0,
        cells_outside_interval: outside_share(cells),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(
        subject: &str,
        expected: f64,
        actual: usize,
        examiners: usize,
        capacity: usize,
    ) -> ScoredCell {
        ScoredCell {
            center: "C".into(),
            subject: subject.into(),
            expected,
            low: 0,
            high: 0,
            actual,
            examiners,
            needed: actual.div_ceil(capacity),
            capacity,
            day: String::new(),
            half_day: String::new(),
            reserve: 0,
            with_moves: examiners,
            moved_in: 0,
            calls: 0,
        }
    }

    /// The metric definitions, worked by hand on three cells.
    #[test]
    fn metrics_match_hand_computation() {
        let cells = vec![
            cell("A", 10.0, 12, 1, 10), // needed 2, covers 10 of 12
            cell("A", 3.0, 2, 1, 10),   // needed 1, covers 2
            cell("B", 1.0, 0, 1, 10),   // needed 0, surplus 1
        ];
        let m = metrics(&cells, None);
        assert!((m.coverage - 12.0 / 14.0).abs() < 1e-12);
        assert!((m.cell_coverage - 0.5).abs() < 1e-12);
        assert_eq!((m.examiners, m.needed), (3, 3));
        assert!(m.redundancy.abs() < 1e-12);
        assert!((m.surplus - 1.0 / 3.0).abs() < 1e-12);
        // Subjects: A expected 13 vs 14, B 1 vs 0 -> (1 + 1) / 14.
        assert!((m.wape_subject - 2.0 / 14.0).abs() < 1e-12);
        // Cells: 2 + 1 + 1 = 4 over 14.
        assert!((m.wape_cell - 4.0 / 14.0).abs() < 1e-12);
        // Without reserve, coverage with reserve is the coverage; one firm examiner of
        // three (B's) heard nobody.
        assert_eq!((m.reserve, m.reserve_calls), (0, 0));
        assert!((m.coverage_with_reserve - m.coverage).abs() < 1e-12);
        assert!((m.idle_share - 1.0 / 3.0).abs() < 1e-12);
    }

    /// The share outside the intervals counts both sides, and the bounds are inside.
    #[test]
    fn share_outside_the_intervals() {
        let mut cells = vec![
            cell("A", 5.0, 5, 1, 10),
            cell("B", 5.0, 9, 1, 10),
            cell("C", 5.0, 1, 1, 10),
            cell("D", 5.0, 8, 1, 10),
        ];
        for c in cells.iter_mut() {
            (c.low, c.high) = (2, 8);
        }
        // 9 is above, 1 below; 5 and 8 (a bound) are inside.
        assert!((outside_share(&cells) - 0.5).abs() < 1e-12);
        assert!((metrics(&cells, None).cells_outside_interval - 0.5).abs() < 1e-12);
        assert_eq!(outside_share(&[]), 0.0);
    }

    /// A reserve is called where the firm examiners cannot hear the orals; a reserve
    /// never needed stays home.
    #[test]
    fn reserves_called_only_where_the_firm_examiners_fall_short() {
        let short = cell("A", 10.0, 25, 1, 10).with_reserve(3); // needed 3: 2 called
        let enough = cell("B", 3.0, 4, 1, 10).with_reserve(1); // needed 1: stays home
        let m = metrics(&[short, enough], None);
        assert_eq!((m.reserve, m.reserve_calls), (4, 2));
        assert!((m.coverage - 14.0 / 29.0).abs() < 1e-12);
        assert!((m.coverage_with_reserve - 1.0).abs() < 1e-12);
        assert!(m.idle_share.abs() < 1e-12);
    }

    #[test]
    fn log_loss_and_calibration() {
        let pairs = [(0.5, true), (0.5, false), (0.9, true)];
        let ll = log_loss(&pairs, 1e-3);
        let expect = (-(0.5f64.ln()) * 2.0 - 0.9f64.ln()) / 3.0;
        assert!((ll - expect).abs() < 1e-12);
        let cal = calibration(&pairs, 10);
        assert_eq!(cal[5].count, 2);
        assert!((cal[5].observed_rate - 0.5).abs() < 1e-12);
        assert_eq!(cal[9].count, 1);
    }
}
