//! Worlds: behaviours that differ from the baseline in structure (heterogeneous
//! candidates, rule followers, centres with their own subjects, trending tastes, subjects
//! appearing and disappearing with a jump in candidates, hard papers, class advice,
//! candidates counting the orals they need), so that the model is judged on
//! more than the one simulator it was designed on. Each world draws from a random stream
//! of its own: the baseline's draws are the same in every world.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{normal, round_half, sidx, Behaviour, SimCandidate, SimConfig, SUBJECTS};

/// Behavioural worlds built to differ from the baseline in structure, not in degree, so
/// that a model tuned on one of them shows it on the others. Each draws its own
/// perturbations from a random stream of its own: the baseline's draws (and files) are
/// the same in every world but for what the world changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum World {
    /// The behaviour described in the README (the bundled sample).
    #[default]
    Baseline,
    /// Candidates differ in how much they weigh points to recover and low marks (each
    /// sensitivity scaled by a lognormal factor, sd 0.6).
    Heterogeneous,
    /// Three candidates in ten follow a simple rule: the one or two lowest marks, 90% of
    /// the time.
    Rules,
    /// Each centre advises its own subjects (a centre x subject taste, sd 0.8), which no
    /// centre slope on marks and coefficients can express.
    Centers,
    /// Subject tastes trend steadily (a rate per subject, sd 0.25 a session) instead of
    /// wandering.
    Trend,
    /// A subject appears (NSI from the third session), one disappears (HLP from the
    /// fourth), and the number of candidates jumps by 40% in the last two sessions.
    Shocks,
    /// Written to break bacpredict's model, which reads marks as they are: every
    /// session one subject's paper is much harder (3 points lower for everyone), and
    /// candidates judge their marks against the session's marks in the subject, so a
    /// hard paper lowers every mark without sending more candidates to its oral.
    Papers,
    /// Written to break bacpredict's model, whose tastes are per subject, centre and
    /// track but the same from one session to the next within a centre: each class (a
    /// centre's track in one session) gets advice of its own on every subject (sd 0.9,
    /// drawn anew each session), and a quarter of the candidates follow the official
    /// advice, the subjects with the most coefficient-weighted points below 12, 90% of
    /// the time.
    Classes,
    /// Written to break bacpredict's count model, whose number of orals moves smoothly
    /// with the points missing and the best room: candidates count what they need. One
    /// oral where the best subject, retaken at 14, would make up what is missing; two
    /// where only the two best would; where even two would not, most give up. Each
    /// candidate does so 85% of the time, the rest as in the baseline.
    Enough,
}

/// A candidate's departures from the baseline behaviour in its world.
#[derive(Debug, Clone, Default)]
pub(crate) struct Quirks {
    /// Multipliers of the weight of points to recover and of the low-mark preference
    /// (1 in the baseline).
    pub(crate) gain_scale: Option<f64>,
    pub(crate) mark_scale: Option<f64>,
    /// The centre's own taste for each subject.
    pub(crate) center_taste: Option<Vec<f64>>,
    /// Follows the lowest-marks rule.
    pub(crate) rule: bool,
    /// Follows the official advice ([`follow_advice`]).
    pub(crate) advice: bool,
    /// Added to each mark (by subject index) before the candidate weighs it: the
    /// session's difficulty undone in the Papers world.
    pub(crate) mark_shift: Option<Vec<f64>>,
    /// Counts the orals it needs ([`count_what_is_needed`]).
    pub(crate) enough: bool,
}

/// The mark a candidate of the Enough world hopes for at the oral.
const HOPED_MARK: f64 = 14.0;
/// How often a candidate of the Enough world counts what it needs.
const COUNTS_NEEDS: f64 = 0.85;

/// The Enough world's number of orals: one where the best subject retaken at
/// [`HOPED_MARK`] makes up the points missing, two where the two best do, mostly none
/// where they do not; blended with the baseline's `count`.
pub(crate) fn count_what_is_needed(c: &SimCandidate, count: &mut [f64; 3]) {
    // Points on the 2000-point scale, total coefficient 100.
    let missing = (10.0 - c.average) * 100.0;
    let mut gains: Vec<f64> = c
        .subjects
        .iter()
        .map(|&(_, coef, g)| coef * (HOPED_MARK - g).max(0.0))
        .collect();
    gains.sort_by(|a, b| b.total_cmp(a));
    let two = gains.iter().take(2).sum::<f64>();
    let needs: [f64; 3] = if gains.first().is_some_and(|&g| g >= missing) {
        [0.05, 0.9, 0.05]
    } else if two >= missing && c.subjects.len() >= 2 {
        [0.1, 0.1, 0.8]
    } else {
        [0.6, 0.1, 0.3]
    };
    for (p, n) in count.iter_mut().zip(needs) {
        *p = COUNTS_NEEDS * n + (1.0 - COUNTS_NEEDS) * *p;
    }
    if c.subjects.len() < 2 {
        count[1] += count[2];
        count[2] = 0.0;
    }
}

/// The lowest-marks rule: 90% on the lowest mark (the two lowest for two orals), the
/// rest spread evenly.
pub(crate) fn follow_rule(c: &SimCandidate, b: &mut Behaviour) {
    let mut order: Vec<usize> = (0..c.subjects.len()).collect();
    order.sort_by(|&x, &y| c.subjects[x].2.total_cmp(&c.subjects[y].2).then(x.cmp(&y)));
    favour(&order, b);
}

/// The official advice: the subject with the most coefficient-weighted points below 12
/// (the two with the most for two orals), 90% of the time, the rest spread evenly.
pub(crate) fn follow_advice(c: &SimCandidate, b: &mut Behaviour) {
    let points = |i: usize| c.subjects[i].1 * (12.0 - c.subjects[i].2).max(0.0);
    let mut order: Vec<usize> = (0..c.subjects.len()).collect();
    order.sort_by(|&x, &y| points(y).total_cmp(&points(x)).then(x.cmp(&y)));
    favour(&order, b);
}

/// A rule's choice: 90% on the first subject of `order` for one oral and on its first
/// two for two, the rest spread evenly.
fn favour(order: &[usize], b: &mut Behaviour) {
    let rest = 0.1 / order.len() as f64;
    for (i, p) in b.single.iter_mut().enumerate() {
        *p = rest + if i == order[0] { 0.9 } else { 0.0 };
    }
    if order.len() >= 2 {
        let (lo, hi) = (order[0].min(order[1]), order[0].max(order[1]));
        let rest = 0.1 / b.pairs.len() as f64;
        for p in b.pairs.iter_mut() {
            p.2 = rest + if (p.0, p.1) == (lo, hi) { 0.9 } else { 0.0 };
        }
    }
}

/// A world's own random stream and state (see [`World`]).
pub(crate) struct WorldState {
    world: World,
    rng: ChaCha8Rng,
    /// Centres: a taste per subject (the Centers world).
    center_taste: Vec<Vec<f64>>,
    /// A trend per subject and session (the Trend world).
    trend: Vec<f64>,
    /// The session's difficulty per subject, which candidates undo (the Papers world).
    difficulty: Vec<f64>,
    /// Per centre and track, the session's advice per subject (the Classes world).
    class_advice: Vec<Vec<Vec<f64>>>,
    centers: usize,
}

impl WorldState {
    pub(crate) fn new(cfg: &SimConfig) -> WorldState {
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x5EED_0F00_0000_0001_u64);
        let center_taste = match cfg.world {
            World::Centers => (0..cfg.centers)
                .map(|_| SUBJECTS.iter().map(|_| 0.8 * normal(&mut rng)).collect())
                .collect(),
            _ => Vec::new(),
        };
        let trend = match cfg.world {
            World::Trend => SUBJECTS.iter().map(|_| 0.25 * normal(&mut rng)).collect(),
            _ => Vec::new(),
        };
        WorldState {
            world: cfg.world,
            rng,
            center_taste,
            trend,
            difficulty: Vec::new(),
            class_advice: Vec::new(),
            centers: cfg.centers,
        }
    }

    /// At the start of each session: in Papers one subject's paper made 3 points harder
    /// (in `difficulty`, which makes the marks) and the whole difficulty kept for the
    /// candidates to undo; in Classes every class's advice drawn anew.
    pub(crate) fn start_session(&mut self, difficulty: &mut [f64]) {
        match self.world {
            World::Papers => {
                let j = self.rng.random_range(0..difficulty.len());
                difficulty[j] -= 3.0;
                self.difficulty = difficulty.to_vec();
            }
            World::Classes => {
                let rng = &mut self.rng;
                self.class_advice = (0..self.centers)
                    .map(|_| {
                        (0..super::TRACKS.len())
                            .map(|_| SUBJECTS.iter().map(|_| 0.9 * normal(rng)).collect())
                            .collect()
                    })
                    .collect();
            }
            _ => {}
        }
    }

    /// Session `k`'s number of candidates: 40% more in the last two sessions of Shocks.
    pub(crate) fn candidates(&self, n: usize, k: usize, total: usize) -> usize {
        if self.world == World::Shocks && k + 2 >= total {
            (n as f64 * 1.4).round() as usize
        } else {
            n
        }
    }

    /// Session `k`'s tastes: in Trend, the starting tastes plus k steps of each
    /// subject's trend instead of the random walk.
    pub(crate) fn taste(&self, walked: &[f64], k: usize) -> Vec<f64> {
        match self.world {
            World::Trend => SUBJECTS
                .iter()
                .zip(&self.trend)
                .map(|(s, r)| s.taste + r * (k as f64 + 1.0))
                .collect(),
            _ => walked.to_vec(),
        }
    }

    /// In Shocks, NSI does not exist before the third session (SES in its place) and HLP
    /// no more from the fourth (LLCER in its place).
    pub(crate) fn remap_subjects(&self, c: &mut SimCandidate, k: usize, difficulty: &[f64]) {
        if self.world != World::Shocks {
            return;
        }
        for j in 0..c.subjects.len() {
            let sub = c.subjects[j];
            let to = match SUBJECTS[sub.0].code {
                "NSI" if k < 2 => "SES",
                "HLP" if k >= 3 => "LLCER",
                _ => continue,
            };
            let s = sidx(to);
            if c.subjects_have(s) {
                continue;
            }
            // The same candidate's relative standing in the other subject.
            let shift = SUBJECTS[s].mean + difficulty[s] - SUBJECTS[sub.0].mean - difficulty[sub.0];
            c.subjects[j] = (s, sub.1, round_half((sub.2 + shift).clamp(0.0, 20.0)));
        }
    }

    pub(crate) fn quirks(&mut self, c: &SimCandidate) -> Quirks {
        match self.world {
            World::Heterogeneous => Quirks {
                gain_scale: Some((0.6 * normal(&mut self.rng)).exp()),
                mark_scale: Some((0.6 * normal(&mut self.rng)).exp()),
                ..Quirks::default()
            },
            World::Rules => Quirks {
                rule: self.rng.random_bool(0.3),
                ..Quirks::default()
            },
            World::Centers => Quirks {
                center_taste: Some(self.center_taste[c.center].clone()),
                ..Quirks::default()
            },
            World::Papers => Quirks {
                mark_shift: Some(self.difficulty.iter().map(|d| -d).collect()),
                ..Quirks::default()
            },
            World::Classes => Quirks {
                center_taste: Some(self.class_advice[c.center][c.track].clone()),
                advice: self.rng.random_bool(0.25),
                ..Quirks::default()
            },
            World::Enough => Quirks {
                enough: true,
                ..Quirks::default()
            },
            _ => Quirks::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::numeric::{bernoulli_loss, LOSS_CLIP};
    use crate::simulate::{behaviour, make_candidate, normal, pick, CenterHabit, SUBJECTS};

    /// Log-loss of inclusion probabilities against choices, clipped as the backtest does.
    fn log_loss(pairs: &[(f64, bool)]) -> f64 {
        let sum: f64 = pairs
            .iter()
            .map(|&(p, y)| bernoulli_loss(p, y, LOSS_CLIP))
            .sum();
        sum / pairs.len() as f64
    }

    /// How much of the Rules world's truth no model can reach: the truth knows which
    /// candidates follow the rule; the best any model of what a file shows can do is
    /// the mixture of both behaviours at the class's share. Measured on 20,000 simulated
    /// candidates, the mixture's log-loss is far above the truth's (the README's worlds
    /// table reads the Rules world's gap against this).
    #[test]
    fn the_rules_worlds_truth_knows_what_no_file_shows() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let centers: Vec<CenterHabit> = (0..14)
            .map(|_| CenterHabit {
                strategy: 0.35 * normal(&mut rng),
                no_show: 0.3 * normal(&mut rng),
                two: 0.4 * normal(&mut rng),
                size: 1.0,
            })
            .collect();
        let taste: Vec<f64> = SUBJECTS.iter().map(|s| s.taste).collect();
        let difficulty = vec![0.0; SUBJECTS.len()];
        let (mut truth, mut marginal) = (Vec::new(), Vec::new());
        for i in 0..20_000 {
            let c = make_candidate(&mut rng, 2025, i, &centers, &difficulty, true);
            let rule = rng.random_bool(0.3);
            let of = |rule| {
                let q = Quirks {
                    rule,
                    ..Quirks::default()
                };
                behaviour(&c, &centers[c.center], &taste, &q)
            };
            let (b, by_rule) = (of(false), of(true));
            let drawn = if rule { &by_rule } else { &b };
            let k = pick(&mut rng, drawn.count.iter().copied());
            let mut chosen = vec![false; c.subjects.len()];
            match k {
                1 => chosen[pick(&mut rng, drawn.single.iter().copied())] = true,
                2 => {
                    let (a, bb, _) = drawn.pairs[pick(&mut rng, drawn.pairs.iter().map(|p| p.2))];
                    chosen[a] = true;
                    chosen[bb] = true;
                }
                _ => {}
            }
            let (pt, pb, pr) = (drawn.inclusion(), b.inclusion(), by_rule.inclusion());
            for j in 0..chosen.len() {
                truth.push((pt[j], chosen[j]));
                marginal.push((0.7 * pb[j] + 0.3 * pr[j], chosen[j]));
            }
        }
        let gap = log_loss(&marginal) / log_loss(&truth) - 1.0;
        eprintln!(
            "Rules world: the best model of the files is {:.1}% above the truth",
            100.0 * gap
        );
        assert!(gap > 0.06, "{gap}");
    }
}
