//! Planning: how many examiners to summon per (centre, subject, slot), firm and in
//! reserve, and whom.
//!
//! The default rule is a marginal allocation: starting from no examiner anywhere, each
//! examiner goes to the cell where it saves the most expected uncovered orals, until the
//! expected share of covered orals reaches the target. Because the expected uncovered
//! count of a cell is convex in its number of examiners, this greedy order is optimal:
//! no other plan with as many examiners leaves fewer orals uncovered (tested against
//! exhaustive search). The per-cell service-level rule is offered for comparison and for
//! offices that prefer it.
//!
//! Reserve examiners continue the same marginal allocation from the firm plan up to a
//! higher target: they are the next examiners the rule would add, so firm plus reserve
//! is the optimal plan at the reserve target. A reserve is called the day before only
//! when its cell's orals exceed what the firm examiners (and the reserves before it) can
//! hear.
//!
//! Whom to summon for a plan, from a roster, is [`summon`]'s.

mod pools;
mod summon;

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};

pub(crate) use self::pools::PoolPlan;
use self::pools::Shortfall;
pub(crate) use self::summon::{summon, Shortage};
use crate::data::{CellKey, Dataset, Hosts, SlotKind, ZoneMap, MAX_CAPACITY};
use crate::forecast::{CountDist, ForecastCell, Shared};

#[derive(Debug, Clone)]
pub(crate) struct PlanOptions {
    /// Candidates one examiner hears in a cell: over a half-day, a day, or the whole
    /// oral period, depending on the data's slots (whose unit gives the default,
    /// [`SlotKind::default_capacity`]).
    pub(crate) capacity: usize,
    /// Per-subject overrides of `capacity`.
    pub(crate) capacity_by_subject: BTreeMap<String, usize>,
    /// Expected share of all orals that must find an examiner.
    pub(crate) coverage: f64,
    /// When set, the per-cell rule replaces the marginal allocation.
    pub(crate) service_level: Option<f64>,
    /// Expected coverage that the firm plan plus the reserve reach.
    pub(crate) reserve_coverage: f64,
    /// Where orals are held when the plan regrouped them (`--zones`): `confirm` reads
    /// them from the plan's manifest and counts a moved oral at its host.
    pub(crate) hosts: Hosts,
    /// The centres' zones (`--zones`): each (zone, subject, slot) of two cells or more
    /// shares one reserve ([`pools`]). Empty: a reserve per cell.
    pub(crate) zones: ZoneMap,
}

/// What a plan was made with, as `forecast` records it in `manifest.json` for `confirm`
/// to judge the convocations by the same rule.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct PlanSettings {
    /// The slot unit of the cells (`period`, `day`, `half_day`), [`SlotKind::code`].
    pub(crate) slots: String,
    pub(crate) capacity: usize,
    pub(crate) capacity_by_subject: BTreeMap<String, usize>,
    pub(crate) coverage: f64,
    pub(crate) reserve_coverage: f64,
    pub(crate) service_level: Option<f64>,
    /// The (centre, subject, host centre) whose orals the plan holds at the host (with
    /// `--zones`), for `confirm` to count them there too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) hosts: Vec<[String; 3]>,
    /// Each centre's zone (centre, zone) when the plan pooled reserves by zone, for
    /// `confirm` to send them and move examiners within a zone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) zones: Vec<[String; 2]>,
}

impl PlanSettings {
    pub(crate) fn of(opts: &PlanOptions, slots: SlotKind) -> PlanSettings {
        PlanSettings {
            hosts: Vec::new(),
            zones: Vec::new(),
            slots: slots.code().to_string(),
            capacity: opts.capacity,
            capacity_by_subject: opts.capacity_by_subject.clone(),
            coverage: opts.coverage,
            reserve_coverage: opts.reserve_coverage,
            service_level: opts.service_level,
        }
    }

    /// What is wrong with settings read back from a file (a manifest edited or damaged):
    /// a slot unit, capacities and shares within the ranges the options accept.
    pub(crate) fn check(&self) -> Result<(), String> {
        let kinds = [SlotKind::Period, SlotKind::Day, SlotKind::HalfDay];
        if !kinds.iter().any(|k| k.code() == self.slots) {
            // Read from a file: control characters escaped, as every message quotes one.
            let shown = crate::shown::escape_controls(&self.slots, 40);
            return Err(format!(
                "slots '{shown}' (expected period, day or half_day)"
            ));
        }
        let capacities = std::iter::once(&self.capacity).chain(self.capacity_by_subject.values());
        if let Some(c) = capacities
            .into_iter()
            .find(|c| !(1..=MAX_CAPACITY).contains(*c))
        {
            return Err(format!("a capacity of {c} (expected 1 to {MAX_CAPACITY})"));
        }
        let shares = [
            Some(self.coverage),
            Some(self.reserve_coverage),
            self.service_level,
        ];
        if let Some(v) = shares
            .into_iter()
            .flatten()
            .find(|v| !(*v > 0.0 && *v <= 1.0))
        {
            return Err(format!(
                "a coverage of {v} (expected a share above 0 and at most 1)"
            ));
        }
        Ok(())
    }
}

impl Default for PlanOptions {
    /// The capacity of files without slots: a command sets the default of the data's
    /// slot unit once it has read the data.
    fn default() -> Self {
        PlanOptions {
            capacity: SlotKind::Period.default_capacity(),
            capacity_by_subject: BTreeMap::new(),
            coverage: 0.995,
            service_level: None,
            reserve_coverage: 0.999,
            hosts: Hosts::default(),
            zones: ZoneMap::default(),
        }
    }
}

impl PlanOptions {
    /// [`PlanOptions::capacity_for`] the subject numbered `subject` in `data`.
    pub(crate) fn capacity_of(&self, data: &Dataset, subject: u32) -> usize {
        self.capacity_for(&data.subjects[subject as usize])
    }

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
    pub(crate) cell: CellKey,
    pub(crate) eligible: usize,
    pub(crate) expected: f64,
    /// Firm examiners.
    pub(crate) examiners: usize,
    /// Reserve examiners, on call.
    pub(crate) reserve: usize,
    pub(crate) capacity: usize,
    /// With the firm examiners only.
    pub(crate) expected_uncovered: f64,
    /// With every reserve called.
    pub(crate) expected_uncovered_with_reserve: f64,
    /// Expected number of reserves called: reserve k is called when the orals exceed
    /// what the firm examiners and the k - 1 reserves before it hear.
    pub(crate) expected_calls: f64,
}

#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Every cell; in a pool, its reserve is the pool's ([`PoolPlan`]) and its
    /// `expected_uncovered_with_reserve` its share of the pool's (in proportion to the
    /// orals its firm examiners leave unheard).
    pub(crate) cells: Vec<CellPlan>,
    /// The zones' shared reserves (with `--zones`), in (zone, subject, slot) order.
    pub(crate) pools: Vec<PoolPlan>,
    pub(crate) rule: String,
    pub(crate) examiners: usize,
    pub(crate) expected_orals: f64,
    pub(crate) expected_uncovered: f64,
    pub(crate) reserve: usize,
    pub(crate) expected_uncovered_with_reserve: f64,
    pub(crate) expected_calls: f64,
    /// Examiners the marginal allocation needs for the same target (always computed).
    pub(crate) marginal_examiners: usize,
    /// Examiners a per-cell 95% rule would need.
    pub(crate) per_cell_95_examiners: usize,
}

impl Plan {
    /// With the firm examiners only.
    pub(crate) fn expected_coverage(&self) -> f64 {
        self.coverage_leaving(self.expected_uncovered)
    }

    /// With every reserve called.
    pub(crate) fn expected_coverage_with_reserve(&self) -> f64 {
        self.coverage_leaving(self.expected_uncovered_with_reserve)
    }

    fn coverage_leaving(&self, uncovered: f64) -> f64 {
        if self.expected_orals > 0.0 {
            1.0 - uncovered / self.expected_orals
        } else {
            1.0
        }
    }
    /// Per subject id: firm examiners, expected orals, expected uncovered orals.
    pub(crate) fn by_subject(&self) -> BTreeMap<u32, (usize, f64, f64)> {
        let mut m: BTreeMap<u32, (usize, f64, f64)> = BTreeMap::new();
        for c in &self.cells {
            let e = m.entry(c.cell.subject).or_default();
            e.0 += c.examiners;
            e.1 += c.expected;
            e.2 += c.expected_uncovered;
        }
        m
    }
}

/// Smallest number of examiners whose capacity covers the count with probability `q`.
fn service_level_examiners(dist: &CountDist, capacity: usize, q: f64) -> usize {
    dist.quantile(q).div_ceil(capacity)
}

#[derive(PartialEq)]
struct Gain(f64, usize);
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
fn marginal_allocation(dists: &[&CountDist], caps: &[usize], coverage: f64) -> Vec<usize> {
    marginal_allocation_from(dists, caps, coverage, vec![0; dists.len()])
}

/// The marginal rule continued from `e` examiners per cell until the expected coverage
/// reaches `coverage` (nothing added if it already does).
fn marginal_allocation_from(
    dists: &[&CountDist],
    caps: &[usize],
    coverage: f64,
    e: Vec<usize>,
) -> Vec<usize> {
    let total: f64 = dists.iter().map(|d| d.mean()).sum();
    let uncovered = |i: usize, n: usize| dists[i].expected_excess(n * caps[i]);
    greedy(&uncovered, total, coverage, e)
}

/// The marginal rule on any units whose expected uncovered orals `uncovered(i, n)` with
/// `n` examiners are convex in `n`: from `e` examiners per unit, each next examiner goes
/// where it saves the most, until the uncovered orals are at most `1 - coverage` of
/// `total`.
fn greedy(
    uncovered: &dyn Fn(usize, usize) -> f64,
    total: f64,
    coverage: f64,
    mut e: Vec<usize>,
) -> Vec<usize> {
    let budget = (1.0 - coverage).max(0.0) * total;
    let mut unc: Vec<f64> = e
        .iter()
        .enumerate()
        .map(|(i, &n)| uncovered(i, n))
        .collect();
    let mut left: f64 = unc.iter().sum();
    let mut heap = BinaryHeap::new();
    for (i, &n) in e.iter().enumerate() {
        let g = unc[i] - uncovered(i, n + 1);
        if g > 0.0 {
            heap.push(Gain(g, i));
        }
    }
    // The small slack absorbs rounding in the sums; without it a 100% target could loop
    // on gains of 1e-17.
    while left > budget + 1e-9 * total.max(1.0) {
        let Some(Gain(_, i)) = heap.pop() else { break };
        e[i] += 1;
        let next = uncovered(i, e[i]);
        left -= unc[i] - next;
        unc[i] = next;
        let g = next - uncovered(i, e[i] + 1);
        if g > 0.0 {
            heap.push(Gain(g, i));
        }
    }
    e
}

/// Each cell's capacity per examiner under `opts`.
fn capacities(cells: &[ForecastCell], opts: &PlanOptions, data: &Dataset) -> Vec<usize> {
    cells
        .iter()
        .map(|c| opts.capacity_of(data, c.key.subject))
        .collect()
}

/// The price of an examiner in the firm plan of `cells`: the expected uncovered orals
/// the marginal rule's last examiner saved to reach `opts.coverage` (infinite when no
/// examiner is needed). Every cell holds the examiners that save at least that much.
pub(crate) fn marginal_price(cells: &[ForecastCell], opts: &PlanOptions, data: &Dataset) -> f64 {
    let dists: Vec<&CountDist> = cells.iter().map(|c| &c.dist).collect();
    let caps = capacities(cells, opts, data);
    let e = marginal_allocation(&dists, &caps, opts.coverage);
    dists
        .iter()
        .zip(&caps)
        .zip(&e)
        .filter(|(_, &n)| n > 0)
        .map(|((d, &c), &n)| d.expected_excess((n - 1) * c) - d.expected_excess(n * c))
        .fold(f64::INFINITY, f64::min)
}

/// The firm examiners `cell` gets under `opts` at the examiner price `price` (see
/// [`marginal_price`]): as many as each save at least `price` orals, or the per-cell
/// rule's count with `--service-level`.
pub(crate) fn examiners_at(
    cell: &ForecastCell,
    opts: &PlanOptions,
    data: &Dataset,
    price: f64,
) -> usize {
    let cap = opts.capacity_of(data, cell.key.subject);
    if let Some(q) = opts.service_level {
        return service_level_examiners(&cell.dist, cap, q);
    }
    let d = &cell.dist;
    let gain = |n: usize| d.expected_excess(n * cap) - d.expected_excess((n + 1) * cap);
    let mut n = 0;
    while n < MAX_EXAMINERS_PER_CELL && gain(n) > 0.0 && gain(n) >= price {
        n += 1;
    }
    n
}

/// More examiners than any cell's orals could need (a cell holds at most a few thousand
/// candidates, each examiner hears at least one): only a guard on the loop above.
const MAX_EXAMINERS_PER_CELL: usize = 100_000;

/// Builds the examiner plan for the forecast's cells: firm examiners by the marginal
/// rule (or the per-cell rule), then the reserve by the marginal rule continued from them.
pub(crate) fn plan(cells: &[ForecastCell], opts: &PlanOptions, data: &Dataset) -> Plan {
    plan_with_reserve(cells, cells, opts, data)
}

/// [`plan`] with the reserve sized on distributions of its own, `reserve_cells` (the
/// same cells in the same order, widened as the reserve target was calibrated,
/// `promise.rs`): the firm plan and its expected coverage come from `cells`, the
/// reserve, its coverage and its calls from `reserve_cells`.
pub(crate) fn plan_with_reserve(
    cells: &[ForecastCell],
    reserve_cells: &[ForecastCell],
    opts: &PlanOptions,
    data: &Dataset,
) -> Plan {
    debug_assert!(cells.iter().zip(reserve_cells).all(|(a, b)| a.key == b.key));
    let dists: Vec<&CountDist> = cells.iter().map(|c| &c.dist).collect();
    let reserve_dists: Vec<&CountDist> = reserve_cells.iter().map(|c| &c.dist).collect();
    let caps = capacities(cells, opts, data);
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
    let (firm, rule) = match opts.service_level {
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
    let keys: Vec<CellKey> = cells.iter().map(|c| c.key).collect();
    let groups = pools::groups(&keys, &opts.zones);
    let moves = opts.service_level.is_none() && !groups.is_empty();
    let (firm, rule) = if moves {
        let firm = firm_with_moves((cells, &caps), &groups, opts.coverage, &firm);
        (
            firm,
            format!("{rule}, idle examiners moved within their zone"),
        )
    } else {
        (firm, rule)
    };
    let reserve = Reserve {
        cells: reserve_cells,
        dists: &reserve_dists,
        caps: &caps,
        firm: &firm,
        moves,
    };
    let (plans, pools) = reserve.plan(cells, groups, opts.reserve_coverage);
    Plan {
        examiners: plans.iter().map(|c| c.examiners).sum(),
        expected_orals: plans.iter().map(|c| c.expected).sum(),
        expected_uncovered: plans.iter().map(|c| c.expected_uncovered).sum(),
        reserve: plans.iter().map(|c| c.reserve).sum::<usize>()
            + pools.iter().map(|p| p.reserve).sum::<usize>(),
        expected_uncovered_with_reserve: plans
            .iter()
            .map(|c| c.expected_uncovered_with_reserve)
            .sum(),
        expected_calls: plans.iter().map(|c| c.expected_calls).sum::<f64>()
            + pools.iter().map(|p| p.expected_calls).sum::<f64>(),
        pools,
        cells: plans,
        rule,
        marginal_examiners: marginal_total,
        per_cell_95_examiners: per95,
    }
}

/// The firm plan when the idle examiners of a zone can move to its short cells: the
/// marginal rule shares examiners among the cells outside pools and the pools of
/// `groups`, then each pool's examiners are spread over its cells ([`pools::spread`]).
/// A pool's orals unheard with `E` examiners are its net need's expected excess times
/// the orals a missing examiner leaves unheard when its cells hold `E` so spread: taken
/// at the plan made cell by cell (`apart`) instead, they would be those of the far
/// tails, where a missing examiner leaves fewer orals, and the plan would count on moves
/// that cannot cover what it cut.
fn firm_with_moves(
    (cells, caps): (&[ForecastCell], &[usize]),
    groups: &[pools::Group],
    coverage: f64,
    apart: &[usize],
) -> Vec<usize> {
    let dists: Vec<&CountDist> = cells.iter().map(|c| &c.dist).collect();
    let n = dists.len();
    let mut pooled = vec![false; n];
    let needs: Vec<(Shortfall, Vec<&CountDist>)> = groups
        .iter()
        .map(|(_, m)| {
            m.iter().for_each(|&i| pooled[i] = true);
            let e: Vec<usize> = m.iter().map(|&i| apart[i]).collect();
            let d = m.iter().map(|&i| dists[i]).collect();
            (shortfall(cells, m, &e, caps[m[0]]), d)
        })
        .collect();
    let uncovered = |u: usize, k: usize| match u.checked_sub(n) {
        Some(g) => {
            let (need, d) = &needs[g];
            let cap = caps[groups[g].1[0]];
            need.uncovered_spread(d, &pools::spread(d, cap, k), cap)
        }
        None if pooled[u] => 0.0,
        None => dists[u].expected_excess(k * caps[u]),
    };
    let total: f64 = dists.iter().map(|d| d.mean()).sum();
    let all = greedy(&uncovered, total, coverage, vec![0; n + groups.len()]);
    // The plan cell by cell reaches the target on this measure too (its idle examiners
    // only add): should the measure's bends make the marginal rule take more, that plan.
    if all.iter().sum::<usize>() > apart.iter().sum::<usize>() {
        return apart.to_vec();
    }
    let mut firm: Vec<usize> = (0..n).map(|i| if pooled[i] { 0 } else { all[i] }).collect();
    for ((_, m), &e) in groups.iter().zip(&all[n..]) {
        let d: Vec<&CountDist> = m.iter().map(|&i| dists[i]).collect();
        for (&i, k) in m.iter().zip(pools::spread(&d, caps[m[0]], e)) {
            firm[i] = k;
        }
    }
    firm
}

/// The reserve's sizing: the cells' distributions widened as the reserve target was
/// calibrated, their capacities and the firm plan.
struct Reserve<'a> {
    /// The cells the reserve is sized on, and their distributions.
    cells: &'a [ForecastCell],
    dists: &'a [&'a CountDist],
    caps: &'a [usize],
    firm: &'a [usize],
    /// Whether the firm plan counted on moves within pools: a pooled cell's firm orals
    /// unheard are then its share of the pool's once the idle examiners moved.
    moves: bool,
}

impl Reserve<'_> {
    /// The marginal rule continued from the firm plan up to `coverage`, sharing
    /// reserves among the cells outside pools and the pools of `groups` (a pooled cell
    /// has none of its own): each cell's plan and each pool's.
    fn plan(
        &self,
        cells: &[ForecastCell],
        groups: Vec<pools::Group>,
        coverage: f64,
    ) -> (Vec<CellPlan>, Vec<PoolPlan>) {
        let n = cells.len();
        let mut pool_of = vec![None; n];
        for (g, (_, members)) in groups.iter().enumerate() {
            for &i in members {
                pool_of[i] = Some(g);
            }
        }
        let shortfalls: Vec<Shortfall> = groups.iter().map(|(_, m)| self.shortfall(m)).collect();
        let uncovered = |u: usize, k: usize| match u.checked_sub(n) {
            Some(g) => shortfalls[g].uncovered(k),
            None if pool_of[u].is_some() => 0.0,
            None => self.dists[u].expected_excess(k * self.caps[u]),
        };
        let total: f64 = self.dists.iter().map(|d| d.mean()).sum();
        let start = self
            .firm
            .iter()
            .copied()
            .chain(vec![0; groups.len()])
            .collect();
        let all = greedy(&uncovered, total, coverage, start);
        let mut plans: Vec<CellPlan> = (0..n)
            .map(|i| {
                let reserve = if pool_of[i].is_some() {
                    0
                } else {
                    all[i] - self.firm[i]
                };
                cell_plan(
                    &cells[i],
                    self.dists[i],
                    self.firm[i],
                    reserve,
                    self.caps[i],
                )
            })
            .collect();
        let pools: Vec<PoolPlan> = groups
            .into_iter()
            .zip(&shortfalls)
            .zip(&all[n..])
            .map(|(((key, members), s), &r)| {
                let cap = self.caps[members[0]];
                s.plan(key, members, cap, r)
            })
            .collect();
        for p in &pools {
            // Each cell's part: what its firm examiners alone leave unheard.
            let own: Vec<f64> = p
                .cells
                .iter()
                .map(|&i| plans[i].expected_uncovered)
                .collect();
            if self.moves {
                let e: Vec<usize> = p.cells.iter().map(|&i| self.firm[i]).collect();
                let moved = shortfall(cells, &p.cells, &e, p.capacity).uncovered(0);
                for (&i, v) in p.cells.iter().zip(shares(&own, moved)) {
                    plans[i].expected_uncovered = v;
                }
            }
            let all = p.expected_uncovered_with_reserve;
            for (&i, v) in p.cells.iter().zip(shares(&own, all)) {
                plans[i].expected_uncovered_with_reserve = v;
            }
        }
        (plans, pools)
    }

    fn shortfall(&self, members: &[usize]) -> Shortfall {
        let firm: Vec<usize> = members.iter().map(|&i| self.firm[i]).collect();
        shortfall(self.cells, members, &firm, self.caps[members[0]])
    }
}

/// The [`Shortfall`] of `cells`' `members` with `firm` examiners each: counted jointly
/// when every one says what it shares with the others (a forecast's cells), as
/// independent otherwise.
fn shortfall(cells: &[ForecastCell], members: &[usize], firm: &[usize], cap: usize) -> Shortfall {
    let dists: Vec<&CountDist> = members.iter().map(|&i| &cells[i].dist).collect();
    let shared: Option<Vec<&Shared>> = members.iter().map(|&i| cells[i].shared.as_ref()).collect();
    Shortfall::of(&dists, shared.as_deref(), firm, cap)
}

/// `total` shared in proportion to `own` (equal shares when every one is 0).
fn shares(own: &[f64], total: f64) -> Vec<f64> {
    let sum: f64 = own.iter().sum();
    own.iter()
        .map(|o| {
            if sum > 0.0 {
                total * o / sum
            } else {
                total / own.len() as f64
            }
        })
        .collect()
}

/// A cell's plan: `reserve_dist` is the distribution its reserve was sized on.
fn cell_plan(
    c: &ForecastCell,
    reserve_dist: &CountDist,
    e: usize,
    reserve: usize,
    cap: usize,
) -> CellPlan {
    CellPlan {
        cell: c.key,
        eligible: c.eligible,
        expected: c.expected(),
        examiners: e,
        reserve,
        capacity: cap,
        expected_uncovered: c.dist.expected_excess(e * cap),
        expected_uncovered_with_reserve: reserve_dist.expected_excess((e + reserve) * cap),
        expected_calls: (0..reserve).map(|k| reserve_dist.tail((e + k) * cap)).sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Slot;

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

    /// Firm plus reserve is the marginal plan at the reserve target: the reserve is the
    /// next examiners the rule adds, and the total is optimal there too.
    #[test]
    fn reserve_continues_the_optimal_allocation() {
        let cells = [
            dist(&[0.9, 0.8, 0.7, 0.6, 0.5, 0.5, 0.4]),
            dist(&[0.2, 0.1, 0.1]),
            dist(&[0.95; 9]),
            dist(&[0.3, 0.6]),
        ];
        let refs: Vec<&CountDist> = cells.iter().collect();
        let caps = [2, 1, 3, 1];
        for (p, q) in [(0.8, 0.95), (0.9, 0.99), (0.95, 0.999)] {
            let firm = marginal_allocation(&refs, &caps, p);
            let all = marginal_allocation_from(&refs, &caps, q, firm.clone());
            assert!(firm.iter().zip(&all).all(|(f, a)| a >= f));
            assert_eq!(all, marginal_allocation(&refs, &caps, q), "{p} {q}");
            assert_eq!(
                all.iter().sum::<usize>(),
                exhaustive_min(&refs, &caps, q, 9)
            );
        }
    }

    /// Pooled reserves against exhaustive search on a small zone: two centres of a town
    /// share a subject's reserve, a third centre alone keeps its own. Whatever the
    /// targets, the marginal rule's reserve is the smallest of every allocation (own
    /// reserves and the pool's, 0 to 6 each) that reaches the reserve target, on the
    /// same measure of orals unheard (the pool's net need after moves).
    #[test]
    fn pooled_reserves_are_optimal_against_exhaustive_search() {
        let data = Dataset {
            centers: ["A", "B", "C"].map(String::from).to_vec(),
            subjects: vec!["S".into()],
            ..Dataset::default()
        };
        let cell = |center: u32, ps: &[f64]| ForecastCell {
            key: CellKey {
                center,
                subject: 0,
                slot: Slot::PERIOD,
            },
            eligible: ps.len(),
            dist: dist(ps),
            shared: None,
        };
        let cells = [
            cell(0, &[0.9, 0.8, 0.7, 0.6, 0.5, 0.5, 0.4, 0.3]),
            cell(1, &[0.6, 0.5, 0.4, 0.4, 0.2]),
            cell(2, &[0.7, 0.6, 0.5, 0.5, 0.3, 0.3]),
        ];
        let zones = ZoneMap::new(["town", "town", "alone"].map(String::from).to_vec());
        for (coverage, reserve_coverage) in [(0.6, 0.9), (0.8, 0.99), (0.9, 0.999)] {
            let opts = PlanOptions {
                capacity: 2,
                coverage,
                reserve_coverage,
                zones: zones.clone(),
                ..PlanOptions::default()
            };
            let plan = plan(&cells, &opts, &data);
            assert_eq!(plan.pools.len(), 1);
            let pool = &plan.pools[0];
            assert_eq!(pool.cells, vec![0, 1]);
            assert_eq!(plan.cells[0].reserve + plan.cells[1].reserve, 0);
            let firm: Vec<usize> = plan.cells.iter().map(|c| c.examiners).collect();
            let refs: Vec<&CountDist> = cells.iter().map(|c| &c.dist).collect();
            let short = Shortfall::of(&refs[..2], None, &firm[..2], 2);
            let total: f64 = refs.iter().map(|d| d.mean()).sum();
            let budget = (1.0 - reserve_coverage) * total + 1e-9 * total.max(1.0);
            let mut best = usize::MAX;
            for own in 0..=6 {
                for pooled in 0..=6 {
                    let left =
                        short.uncovered(pooled) + refs[2].expected_excess((firm[2] + own) * 2);
                    if left <= budget {
                        best = best.min(own + pooled);
                    }
                }
            }
            assert_eq!(plan.reserve, best, "{coverage} {reserve_coverage}");
            assert_eq!(plan.reserve, pool.reserve + plan.cells[2].reserve);
            let unheard = plan.expected_uncovered_with_reserve;
            let parts = short.uncovered(pool.reserve)
                + refs[2].expected_excess((firm[2] + plan.cells[2].reserve) * 2);
            assert!((unheard - parts).abs() < 1e-9);
        }
    }

    /// Counting on moves never takes more firm examiners than the plan made cell by cell
    /// (that plan already reaches the target once its idle examiners move), and reaches
    /// the target on the measure it plans with: 100 random zones of two to four cells of
    /// one subject, beside a centre alone.
    #[test]
    fn counting_on_moves_never_takes_more_firm_examiners() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for _ in 0..100 {
            let k = rng.random_range(2..=4);
            let ds: Vec<CountDist> = (0..=k)
                .map(|_| {
                    let n = rng.random_range(1..25);
                    dist(
                        &(0..n)
                            .map(|_| rng.random_range(0.0..1.0))
                            .collect::<Vec<_>>(),
                    )
                })
                .collect();
            let refs: Vec<&CountDist> = ds.iter().collect();
            let cells: Vec<ForecastCell> = ds
                .iter()
                .map(|d| ForecastCell {
                    key: CellKey {
                        center: 0,
                        subject: 0,
                        slot: Slot::PERIOD,
                    },
                    eligible: d.pmf.len() - 1,
                    dist: d.clone(),
                    shared: None,
                })
                .collect();
            let caps = vec![rng.random_range(1..9); k + 1];
            let coverage = rng.random_range(0.8..0.999);
            let group = ((0, 0, Slot::PERIOD), (0..k).collect::<Vec<_>>());
            let apart = marginal_allocation(&refs, &caps, coverage);
            let firm = firm_with_moves((&cells, &caps), &[group], coverage, &apart);
            assert!(firm.iter().sum::<usize>() <= apart.iter().sum::<usize>());
            let need = Shortfall::of(&refs[..k], None, &apart[..k], caps[0]);
            let left = need.uncovered_spread(&refs[..k], &firm[..k], caps[0])
                + refs[k].expected_excess(firm[k] * caps[k]);
            let total: f64 = refs.iter().map(|d| d.mean()).sum();
            assert!(left <= (1.0 - coverage) * total + 1e-6, "{left}");
        }
    }

    /// The expected number of reserve calls against enumeration: reserve k of a cell is
    /// called when the count exceeds (firm + k - 1) x capacity.
    #[test]
    fn expected_reserve_calls_follow_the_count_distribution() {
        let d = dist(&[0.5; 6]);
        let fc = ForecastCell {
            key: CellKey {
                center: 0,
                subject: 0,
                slot: Slot::PERIOD,
            },
            eligible: 6,
            dist: d.clone(),
            shared: None,
        };
        let c = cell_plan(&fc, &fc.dist, 1, 2, 2);
        let p = |n: usize| d.pmf.get(n).copied().unwrap_or(0.0);
        let over = |x: usize| (x + 1..=6).map(p).sum::<f64>();
        assert!((c.expected_calls - (over(2) + over(4))).abs() < 1e-12);
        assert!((c.expected_uncovered_with_reserve - d.expected_excess(6)).abs() < 1e-12);
    }
}
