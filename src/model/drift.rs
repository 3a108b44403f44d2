//! Drift: how far whole subjects (and cells) move from one session to the next beyond
//! what independent candidates explain, by the method of moments on forecasts of past
//! sessions. The forecast widens its count distributions by it.

use std::collections::BTreeMap;

use super::Model;
use crate::data::Sessions;

/// Expected count, its variance under independent candidates, and the actual count.
pub(crate) type Tally = [f64; 3];

/// Adds the (session, subject) and (session, centre, subject) tallies of `data` under
/// `model`.
pub(crate) fn tally(
    model: &Model,
    data: Sessions<'_>,
    subj: &mut BTreeMap<(i32, u32), Tally>,
    cell: &mut BTreeMap<(i32, u32, u32), Tally>,
) {
    let map = model.mapping(data.names);
    let ns = data.names.subjects.len();
    // Summed in dense tables, one session at a time (the candidates are in session
    // order), rather than through a map lookup per row.
    let mut by_subject: Vec<Option<Tally>> = vec![None; ns];
    let mut by_cell: Vec<Option<Tally>> = vec![None; data.names.centers.len() * ns];
    for session in data.candidates.chunk_by(|a, b| a.session == b.session) {
        for c in session {
            let p = model.inclusion(c, &map);
            for (s, pj) in c.subjects.iter().zip(p) {
                let a = f64::from(u8::from(s.chosen == Some(true)));
                let j = s.subject as usize;
                for e in [&mut by_subject[j], &mut by_cell[c.center as usize * ns + j]] {
                    let e = e.get_or_insert_default();
                    e[0] += pj;
                    e[1] += pj * (1.0 - pj);
                    e[2] += a;
                }
            }
        }
        let year = session[0].session;
        for (j, e) in by_subject.iter_mut().enumerate() {
            if let Some(t) = e.take() {
                subj.insert((year, j as u32), t);
            }
        }
        for (k, e) in by_cell.iter_mut().enumerate() {
            if let Some(t) = e.take() {
                cell.insert((year, (k / ns) as u32, (k % ns) as u32), t);
            }
        }
    }
}

/// The starting point of [`pooled`]: the method of moments, each group weighted by its
/// expectation squared (which lets the largest subjects decide).
pub(crate) fn moment<'a>(it: impl Iterator<Item = &'a Tally>, extra: impl Fn(f64) -> f64) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for [e, v, a] in it {
        num += (a - e).powi(2) - v - extra(*e);
        den += e * e;
    }
    if den > 0.0 {
        (num / den).max(0.0)
    } else {
        0.0
    }
}

/// Below this relative variance (a 3% standard deviation) the weights stop growing: a
/// drift estimated at zero must not hand the whole estimate to the largest subject.
const WEIGHT_FLOOR: f64 = 1e-3;

/// One group's estimate of the relative variance, `((a - e)^2 - v) / e^2`, and its
/// precision when the relative variance is `r`: the estimate's variance is about
/// `2 (v + r e^2)^2 / e^4` (the square of a normal deviation). For a large group the
/// precision tends to `1 / (2 r^2)`, the same for every large group, so no one subject
/// outweighs the others however many candidates it has.
fn estimate([e, v, a]: &Tally, r: f64) -> Option<(f64, f64)> {
    if *e <= 1e-9 {
        return None;
    }
    let e2 = e * e;
    let z = ((a - e).powi(2) - v) / e2;
    let precision = e2 * e2 / (2.0 * (v + r.max(WEIGHT_FLOOR) * e2).powi(2));
    Some((z, precision))
}

/// The precision-weighted mean of the groups' estimates at relative variance `r`, and
/// their total precision; `None` when no group has an expectation.
fn combined(tallies: &[Tally], r: f64) -> Option<(f64, f64)> {
    let (mut num, mut den) = (0.0, 0.0);
    for (z, w) in tallies.iter().filter_map(|t| estimate(t, r)) {
        num += w * z;
        den += w;
    }
    (den > 0.0).then(|| (num / den, den))
}

/// The académie-wide relative variance: the precision-weighted mean of the groups'
/// estimates, the precisions taken at the estimate itself (iterated to a fixed point).
pub(crate) fn pooled(tallies: &[Tally]) -> f64 {
    let mut r = moment(tallies.iter(), |_| 0.0);
    for _ in 0..100 {
        let next = combined(tallies, r).map_or(0.0, |(z, _)| z.max(0.0));
        let done = (next - r).abs() <= 1e-10 + 1e-6 * r;
        r = next;
        if done {
            break;
        }
    }
    r
}

/// Per-subject relative variances (`groups[j]` holds subject j's sessions), each shrunk
/// towards the académie-wide `overall` as a random-effects meta-analysis does: the
/// between-subject spread tau^2 by DerSimonian and Laird's moments, then each subject's
/// own estimate weighted by its precision against 1 / tau^2. A subject seen in a few
/// small sessions stays near `overall`; a large one that really moves keeps its own.
pub(crate) fn shrunk(groups: &[Vec<Tally>], overall: f64) -> Vec<f64> {
    let own: Vec<Option<(f64, f64)>> = groups.iter().map(|g| combined(g, overall)).collect();
    let seen: Vec<(f64, f64)> = own.iter().flatten().copied().collect();
    let tau2 = between_variance(&seen, overall);
    own.iter()
        .map(|o| match o {
            Some((z, p)) if tau2 > 0.0 => ((p * z + overall / tau2) / (p + 1.0 / tau2)).max(0.0),
            _ => overall,
        })
        .collect()
}

/// DerSimonian-Laird: the spread of the estimates `(z, precision)` around `centre`
/// beyond what their precisions explain.
fn between_variance(est: &[(f64, f64)], centre: f64) -> f64 {
    if est.len() < 2 {
        return 0.0;
    }
    let sw: f64 = est.iter().map(|(_, w)| w).sum();
    let sw2: f64 = est.iter().map(|(_, w)| w * w).sum();
    let q: f64 = est.iter().map(|(z, w)| w * (z - centre).powi(2)).sum();
    let denom = sw - sw2 / sw;
    if denom > 0.0 {
        ((q - (est.len() - 1) as f64) / denom).max(0.0)
    } else {
        0.0
    }
}

/// The cells' extra variance beyond their subject's drift, `linear * e + rel * e^2`, by
/// weighted least squares on `(a - e)^2 - v - subject * e^2` (`cells` holds each cell's
/// tally and its subject's relative variance), the weights the inverse variance of each
/// square (iterated). The linear part is what a relative variance alone misses: a model
/// error that does not grow with the cell (a few candidates of a centre choosing
/// otherwise) weighs most in the small cells, whose tails the plan's coverage hangs on.
/// Returns `(linear, rel)`, both at least 0.
pub(crate) fn cell_variance(cells: &[(Tally, f64)]) -> (f64, f64) {
    let rows: Vec<(f64, f64, f64, f64)> = cells
        .iter()
        .filter(|([e, ..], _)| *e > 1e-9)
        .map(|([e, v, a], s)| (*e, *v, s * e * e, (a - e).powi(2) - v - s * e * e))
        .collect();
    let mut fit: (f64, f64) = (0.0, 0.0);
    for _ in 0..50 {
        let var = |e: f64, v: f64, s: f64| {
            let r = fit.1.max(WEIGHT_FLOOR);
            2.0 * (v + fit.0 * e + s + r * e * e).powi(2)
        };
        let weighted = rows.iter().map(|&(e, v, s, y)| (e, y, 1.0 / var(e, v, s)));
        let next = nonnegative_least_squares(weighted);
        let done = (next.0 - fit.0).abs() < 1e-9 && (next.1 - fit.1).abs() < 1e-9;
        fit = next;
        if done {
            break;
        }
    }
    fit
}

/// Weighted least squares of `y` on `(e, e^2)` without intercept, both coefficients at
/// least 0 (a negative one is dropped and the other refitted alone).
fn nonnegative_least_squares(rows: impl Iterator<Item = (f64, f64, f64)> + Clone) -> (f64, f64) {
    let (mut s11, mut s12, mut s22, mut t1, mut t2) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (e, y, w) in rows {
        let e2 = e * e;
        s11 += w * e * e;
        s12 += w * e * e2;
        s22 += w * e2 * e2;
        t1 += w * e * y;
        t2 += w * e2 * y;
    }
    let det = s11 * s22 - s12 * s12;
    if det > 1e-12 * s11 * s22 {
        let (b1, b2) = ((t1 * s22 - t2 * s12) / det, (t2 * s11 - t1 * s12) / det);
        if b1 >= 0.0 && b2 >= 0.0 {
            return (b1, b2);
        }
    }
    let only_linear = if s11 > 0.0 { (t1 / s11).max(0.0) } else { 0.0 };
    let only_rel = if s22 > 0.0 { (t2 / s22).max(0.0) } else { 0.0 };
    // The better of the two one-term fits (smaller weighted residual sum).
    let loss1 = -2.0 * only_linear * t1 + only_linear * only_linear * s11;
    let loss2 = -2.0 * only_rel * t2 + only_rel * only_rel * s22;
    if loss1 <= loss2 {
        (only_linear, 0.0)
    } else {
        (0.0, only_rel)
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Poisson, StandardNormal};

    use super::*;

    /// A count with expectation `e` whose rate is scaled by a lognormal factor of mean 1
    /// and relative variance `rel`, as [`crate::forecast::CountDist::with_drift`] widens
    /// one; the tally's variance is the Poisson one (`v = e`).
    fn draw(rng: &mut ChaCha8Rng, e: f64, rel: f64) -> Tally {
        let s2 = (1.0 + rel).ln();
        let z: f64 = StandardNormal.sample(rng);
        let rate = e * (-0.5 * s2 + s2.sqrt() * z).exp();
        let a = Poisson::new(rate.max(1e-12)).unwrap().sample(rng);
        [e, e, a]
    }

    #[test]
    fn pooled_recovers_a_known_widening_that_one_large_subject_cannot_hide() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let truth = 0.04;
        // 30 subjects of 20 to 600 expected orals over 6 sessions, all drifting by 20%...
        let mut tallies: Vec<Tally> = (0..180)
            .map(|i| draw(&mut rng, 20.0 + 20.0 * (i % 30) as f64, truth))
            .collect();
        let alone = pooled(&tallies);
        assert!((alone / truth - 1.0).abs() < 0.3, "{alone}");
        // ... and one huge subject that does not move at all, six sessions of it.
        tallies.extend((0..6).map(|_| draw(&mut rng, 20_000.0, 0.0)));
        let with_giant = pooled(&tallies);
        assert!((with_giant / truth - 1.0).abs() < 0.3, "{with_giant}");
        // Weighting by the expectation squared hands the estimate to the giant.
        let by_size = moment(tallies.iter(), |_| 0.0);
        assert!(by_size < truth / 4.0, "{by_size}");
    }

    #[test]
    fn shrinkage_keeps_a_subject_that_moves_and_pulls_the_others_in() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        // 12 steady subjects (5%) and one that moves by 50%, six sessions each.
        let groups: Vec<Vec<Tally>> = (0..13)
            .map(|j| {
                let rel = if j == 12 { 0.25 } else { 0.0025 };
                (0..6).map(|_| draw(&mut rng, 150.0, rel)).collect()
            })
            .collect();
        let all: Vec<Tally> = groups.iter().flatten().copied().collect();
        let overall = pooled(&all);
        let each = shrunk(&groups, overall);
        // The mover keeps most of its own estimate, far above every steady subject.
        let raw = groups[12]
            .iter()
            .map(|t| estimate(t, 0.0).unwrap().0)
            .sum::<f64>()
            / 6.0;
        assert!(each[12] > 0.8 * raw && raw > 0.05, "{each:?} {raw}");
        // Each steady subject lies between its own estimate and the académie's.
        for (g, r) in groups[..12].iter().zip(&each) {
            let own = g.iter().map(|t| estimate(t, 0.0).unwrap().0).sum::<f64>() / 6.0;
            assert!(
                (r - overall).abs() <= (own - overall).abs() + 1e-12,
                "{r} {own}"
            );
            assert!(*r < each[12] / 5.0, "{each:?}");
        }
        // Without a spread between subjects every one gets the académie's value.
        let same: Vec<Vec<Tally>> = (0..13)
            .map(|_| (0..6).map(|_| draw(&mut rng, 150.0, 0.01)).collect())
            .collect();
        let flat: Vec<Tally> = same.iter().flatten().copied().collect();
        let o = pooled(&flat);
        let each = shrunk(&same, o);
        assert!(each.iter().all(|r| (r - o).abs() < 0.5 * o), "{o} {each:?}");
    }

    #[test]
    fn cell_variance_separates_the_linear_and_relative_parts() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (linear, rel) = (0.5, 0.02);
        let cells: Vec<(Tally, f64)> = (0..4000)
            .map(|i| {
                let e = 1.0 + (i % 80) as f64;
                (draw(&mut rng, e, rel + linear / e), 0.0)
            })
            .collect();
        let (l, r) = cell_variance(&cells);
        assert!((l - linear).abs() < 0.25, "linear {l}");
        assert!((r - rel).abs() < 0.01, "relative {r}");
        // Independent counts: nothing beyond their own variance.
        let plain: Vec<(Tally, f64)> = (0..4000)
            .map(|i| (draw(&mut rng, 1.0 + (i % 80) as f64, 0.0), 0.0))
            .collect();
        let (l, r) = cell_variance(&plain);
        assert!(l < 0.1 && r < 0.003, "{l} {r}");
    }
}
