//! Pools: with zones, the reserve of one (zone, subject, slot) is shared by the zone's
//! centres. One examiner on call can be sent to whichever centre of the zone is short,
//! and on results day a firm examiner who would be released at one centre moves first
//! to a centre of the zone short of the same subject and half-day (`confirm`).
//!
//! What a pool must cover is then the zone's net need: with `N_i = ceil(X_i / capacity)`
//! examiners needed at centre i and `e_i` firm there, the reserves called are
//! `max(0, sum (N_i - e_i))` (the idle examiners of one centre fill the shortfall of
//! another). Its distribution is exact, the convolution of the centres' `N_i`. The orals
//! left unheard are not: once examiners are missing, which orals stay unheard depends
//! on how the short centres' excesses split. A pool counts, per examiner still missing,
//! the orals a missing examiner leaves unheard in its cells on average (their expected
//! excess over their expected missing examiners, both exact). That is convex in the
//! reserve (a constant times the expected excess of the net need), so the marginal rule
//! that shares reserves among cells and pools stays optimal for it.
//!
//! A (zone, subject, slot) with one cell keeps a reserve of its own, sized exactly.

use std::collections::BTreeMap;

use crate::data::{CellKey, Slot, ZoneMap};
use crate::forecast::{lognormal_nodes, CountDist, Shared};

/// A zone's reserve of one subject and slot.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PoolPlan {
    pub(crate) zone: u32,
    pub(crate) subject: u32,
    pub(crate) slot: Slot,
    /// Its cells: indices into the plan's cells, in key order.
    pub(crate) cells: Vec<usize>,
    pub(crate) capacity: usize,
    /// Reserve examiners on call for the whole zone.
    pub(crate) reserve: usize,
    /// Expected orals unheard in its cells once idle firm examiners moved and every
    /// reserve was called.
    pub(crate) expected_uncovered_with_reserve: f64,
    /// Expected reserves called.
    pub(crate) expected_calls: f64,
    /// Expected firm examiners moved from one centre to another.
    pub(crate) expected_moves: f64,
}

/// A pool's (zone, subject, slot) and its cells' indices.
pub(crate) type Group = ((u32, u32, Slot), Vec<usize>);

/// The (zone, subject, slot)s of `keys` that hold two cells or more, each with its cells'
/// indices; none without zones.
pub(crate) fn groups(keys: &[CellKey], zones: &ZoneMap) -> Vec<Group> {
    let mut by: BTreeMap<(u32, u32, Slot), Vec<usize>> = BTreeMap::new();
    for (i, k) in keys.iter().enumerate() {
        if let Some(z) = zones.of(k.center) {
            by.entry((z, k.subject, k.slot)).or_default().push(i);
        }
    }
    by.into_iter().filter(|(_, c)| c.len() > 1).collect()
}

/// A pool's need: the examiners its cells need in all, `sum N_i`, and the orals a
/// missing examiner leaves unheard; with the firm examiners `firm` of its cells, its net
/// need once the idle ones moved (negative: examiners to spare).
#[derive(Debug, Clone)]
pub(crate) struct Shortfall {
    /// `pmf[k]`: the probability that the cells need `k` examiners in all.
    pmf: Vec<f64>,
    firm: usize,
    /// Orals a missing examiner leaves unheard, on average over the cells' shortfalls
    /// with their `firm` examiners each.
    per_examiner: f64,
    /// Expected examiners missing cell by cell, before any move.
    short: f64,
}

impl Shortfall {
    /// The need of cells with count distributions `dists`, `firm` examiners each, each
    /// hearing `capacity`.
    ///
    /// With what the cells share (`shared`, one per cell), their total need is counted
    /// with their subject's drift as one factor common to them all: given the factor,
    /// the cells are independent with their own drift only. Without, the cells are taken
    /// as independent.
    pub(crate) fn of(
        dists: &[&CountDist],
        shared: Option<&[&Shared]>,
        firm: &[usize],
        capacity: usize,
    ) -> Shortfall {
        let needed: Vec<Vec<f64>> = dists
            .iter()
            .map(|d| examiners_needed(d, capacity))
            .collect();
        let pmf = match shared {
            Some(cells) if cells.iter().any(|c| c.subject_var > 0.0) => joint_need(cells, capacity),
            _ => needed.iter().fold(vec![1.0], |pmf, n| convolve(&pmf, n)),
        };
        let short: f64 = needed.iter().zip(firm).map(|(n, &e)| beyond(n, e)).sum();
        let excess: f64 = dists
            .iter()
            .zip(firm)
            .map(|(d, &e)| d.expected_excess(e * capacity))
            .sum();
        let per_examiner = if short > 1e-12 {
            excess / short
        } else {
            capacity as f64
        };
        Shortfall {
            pmf,
            firm: firm.iter().sum(),
            per_examiner,
            short,
        }
    }

    /// Expected examiners still missing with `reserve` on call.
    pub(crate) fn missing(&self, reserve: usize) -> f64 {
        beyond(&self.pmf, self.firm + reserve)
    }

    /// Expected orals unheard with `reserve` on call, every one called if needed.
    pub(crate) fn uncovered(&self, reserve: usize) -> f64 {
        self.uncovered_with(self.firm + reserve)
    }

    /// Expected orals unheard with `examiners` in all in the cells, moved where needed.
    pub(crate) fn uncovered_with(&self, examiners: usize) -> f64 {
        self.per_examiner * beyond(&self.pmf, examiners)
    }

    /// Expected orals unheard with `firm` examiners in the cells of `dists` (capacity
    /// `capacity`) once the idle ones moved, each missing examiner leaving unheard what
    /// one does on average with that `firm` ([`Shortfall::of`]'s ratio).
    pub(crate) fn uncovered_spread(
        &self,
        dists: &[&CountDist],
        firm: &[usize],
        capacity: usize,
    ) -> f64 {
        let (excess, short) = dists.iter().zip(firm).fold((0.0, 0.0), |(x, s), (d, &e)| {
            let n = examiners_needed(d, capacity);
            (x + d.expected_excess(e * capacity), s + beyond(&n, e))
        });
        let per_examiner = if short > 1e-12 {
            excess / short
        } else {
            capacity as f64
        };
        per_examiner * beyond(&self.pmf, firm.iter().sum())
    }

    /// The probability that more than `reserve` reserves are needed.
    pub(crate) fn tail(&self, reserve: usize) -> f64 {
        self.pmf.iter().skip(self.firm + reserve + 1).sum()
    }

    /// The pool's plan with `reserve` on call.
    pub(crate) fn plan(
        &self,
        (zone, subject, slot): (u32, u32, Slot),
        cells: Vec<usize>,
        capacity: usize,
        reserve: usize,
    ) -> PoolPlan {
        PoolPlan {
            zone,
            subject,
            slot,
            cells,
            capacity,
            reserve,
            expected_uncovered_with_reserve: self.uncovered(reserve),
            expected_calls: (0..reserve).map(|k| self.tail(k)).sum(),
            expected_moves: self.short - self.missing(0),
        }
    }
}

/// The distribution of the examiners `cells` need in all, their subject's drift a
/// factor common to them (the first cell's: the cells of a pool share their subject),
/// mixed over its Gauss-Hermite nodes.
fn joint_need(cells: &[&Shared], capacity: usize) -> Vec<f64> {
    let mut pmf: Vec<f64> = Vec::new();
    for (r, w) in lognormal_nodes(cells[0].subject_var) {
        let given = cells.iter().fold(vec![1.0], |acc, c| {
            let scaled: Vec<f64> = c.ps.iter().map(|p| (p * r).min(1.0)).collect();
            let d = CountDist::with_drift(&scaled, c.own_var);
            convolve(&acc, &examiners_needed(&d, capacity))
        });
        if pmf.len() < given.len() {
            pmf.resize(given.len(), 0.0);
        }
        for (a, b) in pmf.iter_mut().zip(&given) {
            *a += w * b;
        }
    }
    pmf
}

/// `E[(N - from)^+]` for `N` of distribution `pmf`.
fn beyond(pmf: &[f64], from: usize) -> f64 {
    pmf.iter()
        .enumerate()
        .skip(from + 1)
        .map(|(k, p)| (k - from) as f64 * p)
        .sum()
}

/// `total` examiners shared among cells of distributions `dists` (capacity `capacity`),
/// each next one where it saves the most orals in its own cell (the lowest on a tie).
pub(crate) fn spread(dists: &[&CountDist], capacity: usize, total: usize) -> Vec<usize> {
    let mut e = vec![0; dists.len()];
    let gain = |i: usize, n: usize| {
        dists[i].expected_excess(n * capacity) - dists[i].expected_excess((n + 1) * capacity)
    };
    for _ in 0..total {
        let best = (0..dists.len())
            .fold(None, |b: Option<(usize, f64)>, i| match b {
                Some((_, g)) if g >= gain(i, e[i]) => b,
                _ => Some((i, gain(i, e[i]))),
            })
            .map(|(i, _)| i);
        if let Some(i) = best {
            e[i] += 1;
        }
    }
    e
}

/// The distribution of the examiners a count needs, `ceil(count / capacity)`.
fn examiners_needed(d: &CountDist, capacity: usize) -> Vec<f64> {
    let mut out = vec![0.0; d.pmf.len().div_ceil(capacity.max(1)) + 1];
    for (x, p) in d.pmf.iter().enumerate() {
        out[x.div_ceil(capacity.max(1))] += p;
    }
    while out.len() > 1 && out.last() == Some(&0.0) {
        out.pop();
    }
    out
}

fn convolve(a: &[f64], b: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; a.len() + b.len() - 1];
    for (i, x) in a.iter().enumerate() {
        if *x == 0.0 {
            continue;
        }
        for (j, y) in b.iter().enumerate() {
            out[i + j] += x * y;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The net need against enumeration of two small cells: P(reserves needed > r), the
    /// expected examiners missing and the expected moves, each from every joint count.
    #[test]
    fn the_net_need_follows_every_joint_count() {
        let a = CountDist::poisson_binomial(&[0.9, 0.6, 0.5, 0.4, 0.2]);
        let b = CountDist::poisson_binomial(&[0.7, 0.7, 0.3]);
        let (cap, firm) = (2, [2usize, 0]);
        let s = Shortfall::of(&[&a, &b], None, &firm, cap);
        let (mut tail, mut missing, mut moves) = ([0.0; 4], [0.0; 4], 0.0);
        for (x, pa) in a.pmf.iter().enumerate() {
            for (y, pb) in b.pmf.iter().enumerate() {
                let p = pa * pb;
                let (na, nb) = (x.div_ceil(cap) as i64, y.div_ceil(cap) as i64);
                let net = na + nb - 2;
                let short = (na - 2).max(0) + nb;
                let spare = (2 - na).max(0);
                moves += p * short.min(spare) as f64;
                for r in 0..4 {
                    tail[r] += p * f64::from(u8::from(net > r as i64));
                    missing[r] += p * (net - r as i64).max(0) as f64;
                }
            }
        }
        for r in 0..4 {
            assert!((s.tail(r) - tail[r]).abs() < 1e-12, "tail {r}");
            assert!((s.missing(r) - missing[r]).abs() < 1e-12, "missing {r}");
        }
        let plan = s.plan((0, 0, Slot::PERIOD), vec![0, 1], cap, 1);
        assert!((plan.expected_moves - moves).abs() < 1e-12);
        assert!((plan.expected_calls - tail[0]).abs() < 1e-12);
    }

    /// Idle examiners of one centre cover another's shortfall: the pool's unheard orals
    /// without any reserve are at most the cells' own, and fall as the reserve grows.
    #[test]
    fn moves_and_reserves_only_lower_the_orals_unheard() {
        let a = CountDist::poisson_binomial(&[0.5; 12]);
        let b = CountDist::poisson_binomial(&[0.5; 7]);
        let s = Shortfall::of(&[&a, &b], None, &[1, 1], 4);
        let apart = a.expected_excess(4) + b.expected_excess(4);
        assert!(s.uncovered(0) <= apart + 1e-12);
        for r in 0..5 {
            assert!(s.uncovered(r + 1) <= s.uncovered(r));
        }
    }
}
