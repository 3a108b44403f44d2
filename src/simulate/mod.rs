//! Simulate: a synthetic académie in the input contract, with a known behavioural model.
//!
//! The simulator exists so that the tool can be built, demonstrated and backtested
//! without personal data, and so that a forecaster can be compared with the best possible
//! one: for the last session it can write each candidate-subject's true probability.
//!
//! Its behaviour is deliberately *not* the model bacpredict fits: pairs of orals are
//! chosen by a pair-level logit with a penalty on two heavy spécialités (not sequential
//! picks), the gain of an oral saturates, marks of 14 and more are almost never retaken,
//! centres have their own strategic habits, and subject tastes and exam difficulty drift
//! from one session to the next. Sourced numbers and assumptions are listed in the README.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::data::HalfDay;
use crate::input::Column;
use crate::report::{Field, Table};

mod worlds;

pub(crate) use worlds::World;
use worlds::{count_what_is_needed, follow_advice, follow_rule, Quirks, WorldState};

#[derive(Debug, Clone)]
pub(crate) struct SimConfig {
    pub(crate) seed: u64,
    pub(crate) first_session: i32,
    /// Sessions with known choices (history).
    pub(crate) sessions: usize,
    /// Second-group candidates per session (about; varies by a few percent).
    pub(crate) candidates: usize,
    pub(crate) centers: usize,
    /// Share of extra candidates outside the 8-10 band, as in a whole results export.
    pub(crate) out_of_band: f64,
    /// Also simulate the session after the history, without choices.
    pub(crate) forecast_session: bool,
    /// The behavioural world (see [`World`]).
    pub(crate) world: World,
    /// Oral days (0: no slot columns). Each centre gives each série a day, and splits
    /// a day's candidates into a morning and an afternoon alphabetically.
    pub(crate) days: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 2026,
            first_session: 2021,
            sessions: 5,
            candidates: 1500,
            centers: 12,
            out_of_band: 0.03,
            forecast_session: true,
            days: 0,
            world: World::Baseline,
        }
    }
}

/// What `simulate` produces: tables ready to write.
pub(crate) struct Simulation {
    pub(crate) history: Table<'static>,
    /// True inclusion probabilities for the last history session.
    pub(crate) truth: Table<'static>,
    /// The next session's candidates, `chosen` empty.
    pub(crate) forecast: Option<Table<'static>>,
    /// The next session's real choices (`candidate_id,subject`), for `confirm`.
    pub(crate) choices: Option<Table<'static>>,
    /// The centres by town (`center,zone`), for `--zones`.
    pub(crate) zones: Table<'static>,
    pub(crate) summary: SimSummary,
}

#[derive(Debug, Default, Clone)]
pub(crate) struct SimSummary {
    pub(crate) candidates: usize,
    pub(crate) rows: usize,
    pub(crate) no_show: usize,
    pub(crate) one_oral: usize,
    pub(crate) two_orals: usize,
}

const CENTER_NAMES: [&str; 12] = [
    "Lycée Henri-Poincaré, Nancy",
    "Lycée Fabert, Metz",
    "Lycée Claude-Gellée, Épinal",
    "Lycée Louis-Vincent, Metz",
    "Lycée Jeanne-d'Arc, Nancy",
    "Lycée Raymond-Poincaré, Bar-le-Duc",
    "Lycée Jean-Victor-Poncelet, Saint-Avold",
    "Lycée Pierre-Mendès-France, Épinal",
    "Lycée Loritz, Nancy",
    "Lycée Charlemagne, Thionville",
    "Lycée Jacques-Marquette, Pont-à-Mousson",
    "Lycée Jules-Ferry, Saint-Dié-des-Vosges",
];

/// Each centre's town: what follows the comma of a named centre ("Lycée Fabert, Metz"),
/// and for numbered centres towns of 2, 3, 4 and 5 centres in turn ("Zone 01"), the
/// sizes issue 21 measured zones at.
fn towns(names: &[String]) -> Vec<String> {
    if names.iter().all(|n| n.contains(", ")) {
        return names
            .iter()
            .map(|n| n.rsplit(", ").next().unwrap_or(n).to_string())
            .collect();
    }
    let mut out = Vec::with_capacity(names.len());
    for (z, size) in (1..).zip([2, 3, 4, 5].into_iter().cycle()) {
        if out.len() >= names.len() {
            break;
        }
        let n = size.min(names.len() - out.len());
        out.extend(std::iter::repeat_n(format!("Zone {z:02}"), n));
    }
    out
}

/// Subject, first-group mean mark of second-group candidates [I], base taste [I].
pub(crate) struct SubjectSpec {
    pub(crate) code: &'static str,
    pub(crate) mean: f64,
    pub(crate) taste: f64,
}

pub(crate) const fn subj(code: &'static str, mean: f64, taste: f64) -> SubjectSpec {
    SubjectSpec { code, mean, taste }
}

pub(crate) const SUBJECTS: [SubjectSpec; 28] = [
    subj("FRANCAIS", 9.0, 0.25),
    subj("PHILOSOPHIE", 7.5, -0.6),
    subj("MATHEMATIQUES", 7.8, -0.25),
    subj("PHYSIQUE-CHIMIE", 8.3, -0.15),
    subj("SES", 9.3, 0.1),
    subj("HGGSP", 9.4, 0.15),
    subj("SVT", 9.2, 0.1),
    subj("LLCER", 10.4, 0.2),
    subj("HLP", 9.8, 0.0),
    subj("NSI", 9.6, -0.1),
    subj("SI", 9.5, -0.1),
    subj("ARTS", 11.0, 0.1),
    subj("DROIT-ÉCONOMIE", 9.0, 0.2),
    subj("MSGN", 9.2, 0.1),
    subj("2I2D", 9.6, 0.0),
    subj("PHYSIQUE-CHIMIE-MATHS", 7.9, -0.2),
    subj("BIOCHIMIE-BIOLOGIE", 9.0, 0.0),
    subj("SPCL", 8.6, -0.1),
    subj("STSS", 9.4, 0.15),
    subj("CBPH", 8.7, -0.05),
    subj("ANALYSE-METHODES-DESIGN", 10.0, 0.0),
    subj("CONCEPTION-CREATION", 10.5, 0.0),
    subj("ECONOMIE-GESTION-HOTELIERE", 9.4, 0.1),
    subj("SCIENCES-HOTELLERIE", 9.2, 0.0),
    subj("ECONOMIE-DROIT-SPECTACLE", 9.5, 0.0),
    subj("PRATIQUE-ARTISTIQUE", 11.0, 0.0),
    subj("BIOLOGIE-ECOLOGIE", 9.3, 0.0),
    subj("LLCA", 10.5, 0.05),
];

pub(crate) fn sidx(code: &str) -> usize {
    SUBJECTS
        .iter()
        .position(|s| s.code == code)
        .expect("known subject")
}

/// Track, share of second-group candidates [S: techno about twice as likely as général to
/// be in the second group; STMG the largest series], and its spécialité pairs with weights.
struct TrackSpec {
    pub(crate) name: &'static str,
    pub(crate) share: f64,
    pub(crate) philo_coef: f64,
    pub(crate) pairs: &'static [(&'static str, &'static str, f64)],
}

/// Général pairs, weighted to approach the DEPP 2023 shares (maths 44%, SES 35%, PC 31%,
/// HGGSP 26%, SVT 23%, LLCER 18%, HLP 11%, NSI 5%; maths+PC the most frequent pair).
const GENERAL_PAIRS: [(&str, &str, f64); 16] = [
    ("MATHEMATIQUES", "PHYSIQUE-CHIMIE", 20.0),
    ("HGGSP", "SES", 12.0),
    ("PHYSIQUE-CHIMIE", "SVT", 9.0),
    ("MATHEMATIQUES", "SES", 9.0),
    ("MATHEMATIQUES", "SVT", 5.0),
    ("MATHEMATIQUES", "NSI", 4.0),
    ("SES", "LLCER", 5.0),
    ("HGGSP", "LLCER", 5.0),
    ("HLP", "LLCER", 4.0),
    ("HGGSP", "HLP", 4.0),
    ("SES", "SVT", 3.0),
    ("SES", "HLP", 3.0),
    ("MATHEMATIQUES", "SI", 2.0),
    ("ARTS", "HLP", 2.0),
    ("SVT", "BIOLOGIE-ECOLOGIE", 1.0),
    ("LLCA", "HLP", 1.0),
];

const TRACKS: [TrackSpec; 8] = [
    TrackSpec {
        name: "GENERALE",
        share: 0.58,
        philo_coef: 8.0,
        pairs: &GENERAL_PAIRS,
    },
    TrackSpec {
        name: "STMG",
        share: 0.21,
        philo_coef: 4.0,
        pairs: &[("DROIT-ÉCONOMIE", "MSGN", 1.0)],
    },
    TrackSpec {
        name: "STI2D",
        share: 0.08,
        philo_coef: 4.0,
        pairs: &[("2I2D", "PHYSIQUE-CHIMIE-MATHS", 1.0)],
    },
    TrackSpec {
        name: "ST2S",
        share: 0.06,
        philo_coef: 4.0,
        pairs: &[("STSS", "CBPH", 1.0)],
    },
    TrackSpec {
        name: "STL",
        share: 0.03,
        philo_coef: 4.0,
        pairs: &[
            ("PHYSIQUE-CHIMIE-MATHS", "BIOCHIMIE-BIOLOGIE", 0.6),
            ("PHYSIQUE-CHIMIE-MATHS", "SPCL", 0.4),
        ],
    },
    TrackSpec {
        name: "STD2A",
        share: 0.015,
        philo_coef: 4.0,
        pairs: &[("ANALYSE-METHODES-DESIGN", "CONCEPTION-CREATION", 1.0)],
    },
    TrackSpec {
        name: "STHR",
        share: 0.015,
        philo_coef: 4.0,
        pairs: &[("ECONOMIE-GESTION-HOTELIERE", "SCIENCES-HOTELLERIE", 1.0)],
    },
    TrackSpec {
        name: "S2TMD",
        share: 0.01,
        philo_coef: 4.0,
        pairs: &[("ECONOMIE-DROIT-SPECTACLE", "PRATIQUE-ARTISTIQUE", 1.0)],
    },
];

pub(crate) fn pick<R: Rng>(rng: &mut R, weights: impl Iterator<Item = f64> + Clone) -> usize {
    let total: f64 = weights.clone().sum();
    let mut x = rng.random::<f64>() * total;
    let mut last = 0;
    for (i, w) in weights.enumerate() {
        last = i;
        if x < w {
            return i;
        }
        x -= w;
    }
    last
}

pub(crate) fn normal<R: Rng>(rng: &mut R) -> f64 {
    StandardNormal.sample(rng)
}

/// A centre's habits [I]: how strongly its candidates are coached to play the
/// coefficients, and its shifts on no-shows and on taking two orals.
pub(crate) struct CenterHabit {
    pub(crate) strategy: f64,
    pub(crate) no_show: f64,
    pub(crate) two: f64,
    pub(crate) size: f64,
}

/// What an oral is expected to add to a mark [I]: orals lift low marks, rarely good ones.
fn oral_lift(grade: f64) -> f64 {
    (0.6 * (13.0 - grade)).max(0.0)
}

impl SimCandidate {
    pub(crate) fn subjects_have(&self, s: usize) -> bool {
        self.subjects.iter().any(|x| x.0 == s)
    }
}

pub(crate) struct SimCandidate {
    pub(crate) id: String,
    pub(crate) center: usize,
    pub(crate) track: usize,
    pub(crate) average: f64,
    /// (subject index, coefficient, mark)
    pub(crate) subjects: Vec<(usize, f64, f64)>,
}

/// The behavioural model: probabilities of 0, 1, 2 orals, single-oral probabilities and
/// pair probabilities (over index pairs a < b).
pub(crate) struct Behaviour {
    pub(crate) count: [f64; 3],
    pub(crate) single: Vec<f64>,
    pub(crate) pairs: Vec<(usize, usize, f64)>,
}

pub(crate) fn behaviour(
    c: &SimCandidate,
    habit: &CenterHabit,
    taste: &[f64],
    q: &Quirks,
) -> Behaviour {
    let missing_points = (10.0 - c.average) * 100.0; // on the 2000-point scale
                                                     // The marks as the candidate weighs them (the Papers world undoes the session's
                                                     // difficulty; elsewhere they are the marks).
    let seen = |s: usize, g: f64| q.mark_shift.as_ref().map_or(g, |m| g + m[s]);
    let gains: Vec<f64> = c
        .subjects
        .iter()
        .map(|&(s, coef, g)| coef * oral_lift(seen(s, g)))
        .collect();
    let mut sorted = gains.clone();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let f1 = (sorted[0] / missing_points.max(1.0)).min(1.5);
    let f2 =
        ((sorted[0] + sorted.get(1).copied().unwrap_or(0.0)) / missing_points.max(1.0)).min(2.0);
    let m = missing_points / 100.0;
    let techno = f64::from(u8::from(TRACKS[c.track].name != "GENERALE"));
    let eta0 = -1.2 + 1.0 * (m - 1.0) - 1.1 * f2 + 0.25 * techno + habit.no_show;
    let eta1 = -2.2 + 1.6 * f1 - 1.3 * (m - 1.0) - habit.two;
    let z = [eta0, eta1, 0.0];
    let mx = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - mx).exp()).collect();
    let s: f64 = e.iter().sum();
    let mut count = [e[0] / s, e[1] / s, e[2] / s];
    if c.subjects.len() < 2 {
        count[1] += count[2];
        count[2] = 0.0;
    }
    if q.enough {
        count_what_is_needed(c, &mut count);
    }
    // Utility of retaking each subject: the saturating gain in points, a preference for
    // the lowest marks whatever the coefficient, the subject's (drifting) taste.
    let v: Vec<f64> = c
        .subjects
        .iter()
        .zip(&gains)
        .map(|(&(s, _, g), &gain)| {
            let g = seen(s, g);
            let useful = gain.min(missing_points * 1.2) / 40.0;
            let good_mark = if g >= 14.0 { -2.0 } else { 0.0 };
            let mut u = (1.0 + habit.strategy) * useful - 0.12 * (g - 10.0) + taste[s] + good_mark;
            if let (Some(a), Some(b)) = (q.gain_scale, q.mark_scale) {
                u += (a - 1.0) * (1.0 + habit.strategy) * useful - (b - 1.0) * 0.12 * (g - 10.0);
            }
            if let Some(t) = &q.center_taste {
                u += t[s];
            }
            u
        })
        .collect();
    let mx = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let ev: Vec<f64> = v.iter().map(|x| (x - mx).exp()).collect();
    let sv: f64 = ev.iter().sum();
    let single = ev.iter().map(|x| x / sv).collect();
    let mut pairs = Vec::new();
    for a in 0..v.len() {
        for b in a + 1..v.len() {
            let heavy = c.subjects[a].1 >= 16.0 && c.subjects[b].1 >= 16.0;
            let u = v[a] + v[b] - if heavy { 0.35 } else { 0.0 };
            pairs.push((a, b, u));
        }
    }
    let mx = pairs.iter().map(|p| p.2).fold(f64::NEG_INFINITY, f64::max);
    let sp: f64 = pairs.iter().map(|p| (p.2 - mx).exp()).sum();
    for p in &mut pairs {
        p.2 = (p.2 - mx).exp() / sp;
    }
    let mut b = Behaviour {
        count,
        single,
        pairs,
    };
    if q.rule {
        follow_rule(c, &mut b);
    }
    if q.advice {
        follow_advice(c, &mut b);
    }
    b
}

impl Behaviour {
    pub(crate) fn inclusion(&self) -> Vec<f64> {
        let mut p: Vec<f64> = self.single.iter().map(|s| self.count[1] * s).collect();
        for &(a, b, q) in &self.pairs {
            p[a] += self.count[2] * q;
            p[b] += self.count[2] * q;
        }
        p
    }
}

pub(crate) fn round_half(x: f64) -> f64 {
    (x * 2.0).round() / 2.0
}

pub(crate) fn make_candidate<R: Rng>(
    rng: &mut R,
    session: i32,
    serial: usize,
    centers: &[CenterHabit],
    difficulty: &[f64],
    band: bool,
) -> SimCandidate {
    let track = pick(rng, TRACKS.iter().map(|t| t.share));
    let spec = &TRACKS[track];
    let center = pick(rng, centers.iter().map(|c| c.size));
    let pair = spec.pairs[pick(rng, spec.pairs.iter().map(|p| p.2))];
    let codes = [
        ("FRANCAIS", 5.0),
        ("PHILOSOPHIE", spec.philo_coef),
        (pair.0, 16.0),
        (pair.1, 16.0),
    ];
    loop {
        let ability = normal(rng);
        let subjects: Vec<(usize, f64, f64)> = codes
            .iter()
            .map(|&(code, coef)| {
                let s = sidx(code);
                let g =
                    SUBJECTS[s].mean + difficulty[s] + 3.2 * (0.55 * ability + 0.83 * normal(rng));
                (s, coef, round_half(g.clamp(0.0, 20.0)))
            })
            .collect();
        // Everything that is not eligible (contrôle continu, grand oral, ...) [I].
        let other = (10.6 + 2.2 * (0.6 * ability + 0.8 * normal(rng))).clamp(0.0, 20.0);
        let ecoef: f64 = subjects.iter().map(|s| s.1).sum();
        let points: f64 = subjects.iter().map(|s| s.1 * s.2).sum::<f64>() + (100.0 - ecoef) * other;
        let average = (points / 100.0 * 100.0).round() / 100.0;
        let in_band = (8.0..10.0).contains(&average);
        let ok = if band {
            in_band
        } else {
            !in_band && (6.0..12.0).contains(&average)
        };
        if ok {
            return SimCandidate {
                id: format!("{:011}", i64::from(session) * 100_000 + serial as i64),
                center,
                track,
                average,
                subjects,
            };
        }
    }
}

/// Simulates the sessions of `cfg`: per session, tastes drift and exam difficulty is
/// drawn, then each candidate is made, behaves and chooses. The random draws come in a
/// fixed order, so a seed always gives the same files.
pub(crate) fn simulate(cfg: &SimConfig) -> Simulation {
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let centers: Vec<CenterHabit> = (0..cfg.centers)
        .map(|_| CenterHabit {
            strategy: 0.35 * normal(&mut rng),
            no_show: 0.3 * normal(&mut rng),
            two: 0.4 * normal(&mut rng),
            size: (0.5 * normal(&mut rng)).exp(),
        })
        .collect();
    let mut out = Writer::new(cfg);
    let mut taste: Vec<f64> = SUBJECTS.iter().map(|s| s.taste).collect();
    let mut world = WorldState::new(cfg);
    let total_sessions = cfg.sessions + usize::from(cfg.forecast_session);
    for k in 0..total_sessions {
        let session = cfg.first_session + k as i32;
        // Tastes drift as a random walk, exam difficulty is new each session [I].
        for t in taste.iter_mut() {
            *t += 0.12 * normal(&mut rng);
        }
        let mut difficulty: Vec<f64> = SUBJECTS.iter().map(|_| 0.5 * normal(&mut rng)).collect();
        world.start_session(&mut difficulty);
        let n = (cfg.candidates as f64 * (1.0 + 0.04 * normal(&mut rng))).round() as usize;
        let n = world.candidates(n, k, total_sessions);
        let taste_now = world.taste(&taste, k);
        let n_out = (n as f64 * cfg.out_of_band).round() as usize;
        let is_forecast = k >= cfg.sessions;
        let is_last = k + 1 == cfg.sessions;
        let mut drawn = Vec::with_capacity(n + n_out);
        for i in 0..n + n_out {
            let band = i < n;
            let mut c = make_candidate(&mut rng, session, i + 1, &centers, &difficulty, band);
            world.remap_subjects(&mut c, k, &difficulty);
            let chosen: Vec<bool> = if band {
                let quirks = world.quirks(&c);
                let b = behaviour(&c, &centers[c.center], &taste_now, &quirks);
                if is_last {
                    out.truth(session, &c, &b);
                }
                let (k, chosen) = draw_choices(&mut rng, &b, c.subjects.len());
                if !is_forecast {
                    out.count(k);
                }
                chosen
            } else {
                vec![false; c.subjects.len()]
            };
            drawn.push((c, chosen));
        }
        let slots = slots(&drawn, cfg.days, session);
        for ((c, chosen), slot) in drawn.iter().zip(&slots) {
            out.rows(session, c, chosen, is_forecast, slot.as_ref());
        }
    }
    out.finish()
}

/// Each candidate's (day, half-day), by série per centre as centres set them: track t
/// of centre c takes its orals on day (t + c) mod `days`, the morning for the first half
/// of that day's candidates in id order, the afternoon for the rest. Nothing when
/// `days` is 0. Days are dated from 7 July of the session.
fn slots(
    drawn: &[(SimCandidate, Vec<bool>)],
    days: usize,
    session: i32,
) -> Vec<Option<(String, HalfDay)>> {
    if days == 0 {
        return vec![None; drawn.len()];
    }
    let day_of = |c: &SimCandidate| (c.track + c.center) % days;
    let mut per_day: std::collections::HashMap<(usize, usize), usize> = Default::default();
    for (c, _) in drawn {
        *per_day.entry((c.center, day_of(c))).or_default() += 1;
    }
    // Ids are numbered in drawing order, so order of appearance is alphabetical order.
    let mut seen: std::collections::HashMap<(usize, usize), usize> = Default::default();
    drawn
        .iter()
        .map(|(c, _)| {
            let key = (c.center, day_of(c));
            let rank = seen.entry(key).or_default();
            let half = if 2 * *rank < per_day[&key] {
                HalfDay::Am
            } else {
                HalfDay::Pm
            };
            *rank += 1;
            Some((format!("{session}-07-{:02}", 7 + key.1), half))
        })
        .collect()
}

/// How many orals the candidate takes and which, drawn from its behaviour.
fn draw_choices<R: Rng>(rng: &mut R, b: &Behaviour, n_subjects: usize) -> (usize, Vec<bool>) {
    let k = pick(rng, b.count.iter().copied());
    let mut chosen = vec![false; n_subjects];
    match k {
        1 => chosen[pick(rng, b.single.iter().copied())] = true,
        2 => {
            let (a, bb, _) = b.pairs[pick(rng, b.pairs.iter().map(|p| p.2))];
            chosen[a] = true;
            chosen[bb] = true;
        }
        _ => {}
    }
    (k, chosen)
}

/// The tables being filled, and the summary.
struct Writer {
    center_names: Vec<String>,
    history: Table<'static>,
    forecast: Option<Table<'static>>,
    choices: Option<Table<'static>>,
    truth: Table<'static>,
    summary: SimSummary,
    /// Whether rows carry `day` and `half_day`.
    slots: bool,
}

impl Writer {
    fn new(cfg: &SimConfig) -> Writer {
        // The input contract's columns, the slot's only with days.
        let header: Vec<&str> = Writer::columns(cfg.days > 0).map(Column::name).collect();
        Writer {
            center_names: (0..cfg.centers)
                .map(|i| match CENTER_NAMES.get(i) {
                    Some(n) if cfg.centers <= CENTER_NAMES.len() => n.to_string(),
                    _ => format!("Centre {:04}", i + 1),
                })
                .collect(),
            history: Table::new(&header),
            forecast: cfg.forecast_session.then(|| Table::new(&header)),
            choices: cfg
                .forecast_session
                .then(|| Table::new(&["candidate_id", "subject"])),
            truth: Table::new(&["session", "candidate_id", "subject", "probability"]),
            summary: SimSummary::default(),
            slots: cfg.days > 0,
        }
    }

    /// The candidate's true inclusion probabilities.
    fn truth(&mut self, session: i32, c: &SimCandidate, b: &Behaviour) {
        for (&(s, _, _), p) in c.subjects.iter().zip(b.inclusion()) {
            self.truth.push(vec![
                session.into(),
                c.id.clone().into(),
                SUBJECTS[s].code.into(),
                Field::Num(p, 6),
            ]);
        }
    }

    /// A history candidate who took `k` orals.
    fn count(&mut self, k: usize) {
        let s = &mut self.summary;
        s.candidates += 1;
        match k {
            0 => s.no_show += 1,
            1 => s.one_oral += 1,
            _ => s.two_orals += 1,
        }
    }

    /// The candidate's rows, in the history or in the file to forecast.
    fn rows(
        &mut self,
        session: i32,
        c: &SimCandidate,
        chosen: &[bool],
        is_forecast: bool,
        slot: Option<&(String, HalfDay)>,
    ) {
        let (day, half) = slot.map_or(("", ""), |(d, h)| (d.as_str(), h.code()));
        for (&(s, coef, g), &ch) in c.subjects.iter().zip(chosen) {
            let row = Writer::columns(self.slots)
                .map(|col| match col {
                    Column::Session => session.into(),
                    Column::CandidateId => c.id.clone().into(),
                    Column::Center => self.center_names[c.center].clone().into(),
                    Column::Track => TRACKS[c.track].name.into(),
                    Column::Average => Field::Num(c.average, 2),
                    Column::Subject => SUBJECTS[s].code.into(),
                    Column::Coefficient => Field::Num(coef, 0),
                    Column::Grade => Field::Num(g, 1),
                    Column::Chosen if is_forecast => "".into(),
                    Column::Chosen => Field::Int(i64::from(u8::from(ch))),
                    Column::Day => day.to_string().into(),
                    Column::HalfDay => half.into(),
                })
                .collect();
            if is_forecast {
                if let Some(f) = self.forecast.as_mut() {
                    f.push(row);
                }
                if let Some(t) = self.choices.as_mut().filter(|_| ch) {
                    t.push(vec![c.id.clone().into(), SUBJECTS[s].code.into()]);
                }
            } else {
                self.summary.rows += 1;
                self.history.push(row);
            }
        }
    }

    /// The columns written, in the input contract's order: the slot's only with days.
    fn columns(slots: bool) -> impl Iterator<Item = Column> {
        Column::ALL
            .into_iter()
            .filter(move |c| slots || !c.is_slot())
    }

    fn finish(self) -> Simulation {
        let mut zones = Table::new(&["center", "zone"]);
        for (name, zone) in self.center_names.iter().zip(towns(&self.center_names)) {
            zones.push(vec![name.clone().into(), zone.into()]);
        }
        Simulation {
            history: self.history,
            truth: self.truth,
            forecast: self.forecast,
            choices: self.choices,
            zones,
            summary: self.summary,
        }
    }
}
