//! Planning: how many examiners to summon per (centre, subject), and whom.
//!
//! The default rule is a marginal allocation: starting from no examiner anywhere, each
//! examiner goes to the cell where it saves the most expected uncovered orals, until the
//! expected share of covered orals reaches the target. Because the expected uncovered
//! count of a cell is convex in its number of examiners, this greedy order is optimal:
//! no other plan with as many examiners leaves fewer orals uncovered (tested against
//! exhaustive search). The per-cell service-level rule is offered for comparison and for
//! offices that prefer it.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap, HashSet};

use crate::forecast::{CountDist, ForecastCell};
use crate::input::RosterEntry;

/// The most candidates one examiner can be said to hear (the option and the capacity
/// file): far above any oral period, and small enough that no count overflows.
pub(crate) const MAX_CAPACITY: usize = 1000;

#[derive(Debug, Clone)]
pub(crate) struct PlanOptions {
    /// Candidates one examiner can hear over the whole oral period.
    pub(crate) capacity: usize,
    /// Per-subject overrides of `capacity`.
    pub(crate) capacity_by_subject: BTreeMap<String, usize>,
    /// Expected share of all orals that must find an examiner.
    pub(crate) coverage: f64,
    /// When set, the per-cell rule replaces the marginal allocation.
    pub(crate) service_level: Option<f64>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            capacity: 24,
            capacity_by_subject: BTreeMap::new(),
            coverage: 0.995,
            service_level: None,
        }
    }
}

impl PlanOptions {
    pub(crate) fn capacity_for(&self, subject: &str) -> usize {
        self.capacity_by_subject
            .get(subject)
            .copied()
            .unwrap_or(self.capacity)
            .max(1)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CellPlan {
    pub(crate) center: String,
    pub(crate) subject: String,
    pub(crate) eligible: usize,
    pub(crate) expected: f64,
    pub(crate) examiners: usize,
    pub(crate) capacity: usize,
    pub(crate) expected_uncovered: f64,
}

#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) cells: Vec<CellPlan>,
    pub(crate) rule: String,
    pub(crate) examiners: usize,
    pub(crate) expected_orals: f64,
    pub(crate) expected_uncovered: f64,
    /// Examiners the marginal allocation needs for the same target (always computed).
    pub(crate) marginal_examiners: usize,
    /// Examiners a per-cell 95% rule would need.
    pub(crate) per_cell_95_examiners: usize,
}

impl Plan {
    pub(crate) fn expected_coverage(&self) -> f64 {
        if self.expected_orals > 0.0 {
            1.0 - self.expected_uncovered / self.expected_orals
        } else {
            1.0
        }
    }
    pub(crate) fn by_subject(&self) -> BTreeMap<&str, (usize, f64, f64)> {
        let mut m: BTreeMap<&str, (usize, f64, f64)> = BTreeMap::new();
        for c in &self.cells {
            let e = m.entry(c.subject.as_str()).or_default();
            e.0 += c.examiners;
            e.1 += c.expected;
            e.2 += c.expected_uncovered;
        }
        m
    }
}

/// Smallest number of examiners whose capacity covers the count with probability `q`.
pub(crate) fn service_level_examiners(dist: &CountDist, capacity: usize, q: f64) -> usize {
    dist.quantile(q).div_ceil(capacity)
}

#[derive(PartialEq)]
pub(crate) struct Gain(f64, usize);
impl Eq for Gain {}
impl PartialOrd for Gain {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Gain {
    // Largest saving first; ties go to the earlier cell so plans are deterministic.
    fn cmp(&self, o: &Self) -> Ordering {
        self.0.total_cmp(&o.0).then(o.1.cmp(&self.1))
    }
}

/// Examiners per cell from the marginal rule: `dists[i]` with capacity `caps[i]`.
pub(crate) fn marginal_allocation(
    dists: &[&CountDist],
    caps: &[usize],
    coverage: f64,
) -> Vec<usize> {
    let total: f64 = dists.iter().map(|d| d.mean()).sum();
    let budget = (1.0 - coverage).max(0.0) * total;
    let mut e = vec![0usize; dists.len()];
    let mut unc: Vec<f64> = dists.iter().map(|d| d.expected_excess(0)).collect();
    let mut left: f64 = unc.iter().sum();
    let mut heap = BinaryHeap::new();
    for (i, d) in dists.iter().enumerate() {
        let g = unc[i] - d.expected_excess(caps[i]);
        if g > 0.0 {
            heap.push(Gain(g, i));
        }
    }
    // The small slack absorbs rounding in the sums; without it a 100% target could loop
    // on gains of 1e-17.
    while left > budget + 1e-9 * total.max(1.0) {
        let Some(Gain(_, i)) = heap.pop() else { break };
        e[i] += 1;
        let next = dists[i].expected_excess(e[i] * caps[i]);
        left -= unc[i] - next;
        unc[i] = next;
        let g = next - dists[i].expected_excess((e[i] + 1) * caps[i]);
        if g > 0.0 {
            heap.push(Gain(g, i));
        }
    }
    e
}

/// Builds the examiner plan for the forecast's cells.
pub(crate) fn plan(cells: &[ForecastCell], opts: &PlanOptions) -> Plan {
    let dists: Vec<&CountDist> = cells.iter().map(|c| &c.dist).collect();
    let caps: Vec<usize> = cells
        .iter()
        .map(|c| opts.capacity_for(&c.subject))
        .collect();
    let marginal = marginal_allocation(&dists, &caps, opts.coverage);
    let per_cell = |q: f64| -> Vec<usize> {
        dists
            .iter()
            .zip(&caps)
            .map(|(d, &c)| service_level_examiners(d, c, q))
            .collect()
    };
    let per95: usize = per_cell(0.95).iter().sum();
    let marginal_total: usize = marginal.iter().sum();
    let (examiners, rule) = match opts.service_level {
        Some(q) => (
            per_cell(q),
            format!("per-cell service level {:.1}%", q * 100.0),
        ),
        None => (
            marginal,
            format!(
                "marginal allocation to {:.1}% expected coverage",
                opts.coverage * 100.0
            ),
        ),
    };
    let plans: Vec<CellPlan> = cells
        .iter()
        .zip(&examiners)
        .zip(&caps)
        .map(|((c, &e), &cap)| CellPlan {
            center: c.center.clone().unwrap_or_default(),
            subject: c.subject.clone(),
            eligible: c.eligible,
            expected: c.expected(),
            examiners: e,
            capacity: cap,
            expected_uncovered: c.dist.expected_excess(e * cap),
        })
        .collect();
    Plan {
        examiners: plans.iter().map(|c| c.examiners).sum(),
        expected_orals: plans.iter().map(|c| c.expected).sum(),
        expected_uncovered: plans.iter().map(|c| c.expected_uncovered).sum(),
        cells: plans,
        rule,
        marginal_examiners: marginal_total,
        per_cell_95_examiners: per95,
    }
}

/// One examiner to summon.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Summon {
    pub(crate) examiner_id: String,
    pub(crate) name: String,
    pub(crate) subject: String,
    pub(crate) center: String,
    /// Whether the examiner came from the pool (roster rows with no centre).
    pub(crate) from_pool: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Shortage {
    pub(crate) center: String,
    pub(crate) subject: String,
    pub(crate) planned: usize,
    pub(crate) summoned: usize,
}

/// Names the examiners to summon: for each cell, local examiners of the subject first,
/// then examiners from the pool, each by priority (lower first) then id; nobody twice.
/// Local examiners are placed for all cells before the pool is shared out, so that a
/// cell's pool draw never takes someone another cell could only get locally. The pool is
/// then shared in centre-subject order.
pub(crate) fn summon(plan: &Plan, roster: &[RosterEntry]) -> (Vec<Summon>, Vec<Shortage>) {
    let mut sorted: Vec<&RosterEntry> = roster.iter().collect();
    sorted.sort_by(|a, b| {
        (a.priority, &a.examiner_id, &a.subject, &a.center).cmp(&(
            b.priority,
            &b.examiner_id,
            &b.subject,
            &b.center,
        ))
    });
    let mut used: HashSet<&str> = HashSet::new();
    let mut got: Vec<Vec<Summon>> = vec![Vec::new(); plan.cells.len()];
    for pool in [false, true] {
        for (i, cell) in plan.cells.iter().enumerate() {
            for r in &sorted {
                if got[i].len() >= cell.examiners {
                    break;
                }
                let fits = r.subject == cell.subject
                    && if pool {
                        r.center.is_empty()
                    } else {
                        r.center == cell.center
                    };
                if fits && !used.contains(r.examiner_id.as_str()) {
                    used.insert(&r.examiner_id);
                    got[i].push(Summon {
                        examiner_id: r.examiner_id.clone(),
                        name: r.name.clone(),
                        subject: cell.subject.clone(),
                        center: cell.center.clone(),
                        from_pool: pool,
                    });
                }
            }
        }
    }
    let mut shortages = Vec::new();
    for (cell, g) in plan.cells.iter().zip(&got) {
        if g.len() < cell.examiners {
            shortages.push(Shortage {
                center: cell.center.clone(),
                subject: cell.subject.clone(),
                planned: cell.examiners,
                summoned: g.len(),
            });
        }
    }
    (got.into_iter().flatten().collect(), shortages)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dist(ps: &[f64]) -> CountDist {
        CountDist::poisson_binomial(ps)
    }

    /// Smallest total of examiners reaching the target, by trying every allocation.
    fn exhaustive_min(dists: &[&CountDist], caps: &[usize], coverage: f64, max_e: usize) -> usize {
        let total: f64 = dists.iter().map(|d| d.mean()).sum();
        let budget = (1.0 - coverage) * total + 1e-9 * total.max(1.0);
        let n = dists.len();
        let mut best = usize::MAX;
        let mut e = vec![0usize; n];
        loop {
            let unc: f64 = (0..n)
                .map(|i| dists[i].expected_excess(e[i] * caps[i]))
                .sum();
            if unc <= budget {
                best = best.min(e.iter().sum());
            }
            let mut k = 0;
            while k < n {
                e[k] += 1;
                if e[k] <= max_e {
                    break;
                }
                e[k] = 0;
                k += 1;
            }
            if k == n {
                return best;
            }
        }
    }

    #[test]
    fn marginal_allocation_is_optimal_on_small_cases() {
        let cells = [
            dist(&[0.9, 0.8, 0.7, 0.6, 0.5, 0.5, 0.4]),
            dist(&[0.2, 0.1, 0.1]),
            dist(&[0.95; 9]),
            dist(&[0.3, 0.6]),
        ];
        let refs: Vec<&CountDist> = cells.iter().collect();
        for caps in [[2, 2, 2, 2], [3, 1, 4, 2], [1, 1, 1, 1]] {
            for coverage in [0.5, 0.8, 0.9, 0.95, 0.99, 1.0] {
                let got = marginal_allocation(&refs, &caps, coverage);
                let total: f64 = refs.iter().map(|d| d.mean()).sum();
                let unc: f64 = (0..4)
                    .map(|i| refs[i].expected_excess(got[i] * caps[i]))
                    .sum();
                assert!(unc <= (1.0 - coverage) * total + 1e-6, "target missed");
                let best = exhaustive_min(&refs, &caps, coverage, 9);
                assert_eq!(
                    got.iter().sum::<usize>(),
                    best,
                    "caps {caps:?} coverage {coverage}"
                );
            }
        }
    }

    #[test]
    fn service_level_rule() {
        let d = dist(&[0.5; 10]);
        // 95% quantile of Binomial(10, 0.5) is 8.
        assert_eq!(d.quantile(0.95), 8);
        assert_eq!(service_level_examiners(&d, 3, 0.95), 3);
        assert_eq!(service_level_examiners(&d, 8, 0.95), 1);
    }

    fn cell(center: &str, subject: &str, examiners: usize) -> CellPlan {
        CellPlan {
            center: center.into(),
            subject: subject.into(),
            eligible: 10,
            expected: 1.0,
            examiners,
            capacity: 24,
            expected_uncovered: 0.0,
        }
    }

    fn entry(id: &str, subject: &str, center: &str, priority: i64) -> RosterEntry {
        RosterEntry {
            examiner_id: id.into(),
            name: format!("Name {id}"),
            subject: subject.into(),
            center: center.into(),
            priority,
        }
    }

    #[test]
    fn roster_rules_priority_pool_no_double_and_shortage() {
        let plan = Plan {
            cells: vec![
                cell("A", "MATHS", 2),
                cell("B", "MATHS", 2),
                cell("B", "SES", 1),
            ],
            rule: String::new(),
            examiners: 5,
            expected_orals: 0.0,
            expected_uncovered: 0.0,
            marginal_examiners: 5,
            per_cell_95_examiners: 5,
        };
        let roster = vec![
            entry("E9", "MATHS", "A", 2),
            entry("E1", "MATHS", "A", 5),
            entry("E3", "MATHS", "A", 1),
            entry("P2", "MATHS", "", 1),
            entry("P1", "MATHS", "", 1),
            // The same person listed for SES anywhere: only once in total.
            entry("P1", "SES", "", 0),
        ];
        let (s, short) = summon(&plan, &roster);
        let ids: Vec<(&str, &str, &str)> = s
            .iter()
            .map(|x| {
                (
                    x.center.as_str(),
                    x.subject.as_str(),
                    x.examiner_id.as_str(),
                )
            })
            .collect();
        // Local A by priority (E3 then E9); B has no local examiner: pool by priority then
        // id, but P1 was already summoned for SES in a pool pass? No: locals come first,
        // then the pool in cell order: B/MATHS takes P1 and P2, leaving nobody for B/SES.
        assert_eq!(
            ids,
            vec![
                ("A", "MATHS", "E3"),
                ("A", "MATHS", "E9"),
                ("B", "MATHS", "P1"),
                ("B", "MATHS", "P2"),
            ]
        );
        assert_eq!(
            short,
            vec![Shortage {
                center: "B".into(),
                subject: "SES".into(),
                planned: 1,
                summoned: 0
            }]
        );
        let unique: HashSet<&str> = s.iter().map(|x| x.examiner_id.as_str()).collect();
        assert_eq!(unique.len(), s.len());
    }
}
