//! Model: the choice model, its fitting and its persistence.
//!
//! Two parts, both from the multinomial logistic family:
//! - a **count model** (how many orals: 0 = no-show, 1 or 2), a multinomial logistic
//!   regression fitted with linfa-logistic on candidate-level features;
//! - a **subject model**, a conditional logit over the candidate's eligible subjects in
//!   which the orals are drawn one after the other without replacement (Plackett-Luce
//!   with at most two picks). linfa cannot express that likelihood, so it is written
//!   here with its analytic gradient and minimised with argmin's L-BFGS.
//!
//! The inclusion probability of a subject mixes both: P(1 oral) x P(first pick) +
//! P(2 orals) x P(first or second pick). Per candidate the probabilities therefore sum to
//! the expected number of orals.
//!
//! The model file holds names of centres, tracks and subjects and fitted parameters,
//! never a candidate id or a per-candidate value.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;

use argmin::core::{CostFunction, Executor, Gradient, State, TerminationReason};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use linfa::prelude::*;
use linfa_logistic::MultiLogisticRegression;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::input::{Candidate, Dataset};

pub const FORMAT: &str = "bacpredict-model";
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read model file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a valid bacpredict model (truncated or not JSON?): {detail}")]
    Corrupt { path: String, detail: String },
    #[error("{path} is a model of format version {found}; this bacpredict (version {tool}) reads format version {FORMAT_VERSION}: retrain with `bacpredict train`")]
    Version {
        path: String,
        found: u32,
        tool: &'static str,
    },
    #[error(
        "{path} was modified after training (checksum mismatch): retrain with `bacpredict train`"
    )]
    Checksum { path: String },
    #[error("cannot train: {0}")]
    Training(String),
    #[error("the {part} fit did not converge: {detail}")]
    NotConverged { part: &'static str, detail: String },
}

/// Settings of a fit. Defaults are what the backtests on the bundled sample supported
/// (see the README, "How the model works").
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FitOptions {
    /// Half-life of a session's weight in the subject model, in sessions; `None` weights
    /// every session equally.
    pub half_life: Option<f64>,
    /// Prior standard deviation of subject effects (logit scale).
    pub subject_sd: f64,
    /// Prior standard deviation of centre and track slopes (logit scale).
    pub slope_sd: f64,
    pub max_iterations: u64,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            half_life: None,
            subject_sd: 1.5,
            slope_sd: 0.5,
            max_iterations: 500,
        }
    }
}

/// Names of the dense features of the subject model, in parameter order.
pub const CHOICE_FEATURES: [&str; 8] = [
    "grade",
    "log_relative_coefficient",
    "share_of_recoverable_points",
    "grade_minus_candidate_mean",
    "is_lowest_grade",
    "is_largest_recoverable",
    "recoverable_share_x_(points_missing-1)",
    "grade_x_(points_missing-1)",
];
/// Dense features that also get a per-centre and per-track slope.
pub const SLOPE_FEATURES: [usize; 3] = [0, 1, 2];

pub const COUNT_FEATURES: [&str; 10] = [
    "points_missing",
    "points_missing_squared",
    "eligible_subjects",
    "best_recoverable_share",
    "lowest_grade",
    "weighted_mean_grade",
    "center_logit_no_show",
    "center_logit_two_orals",
    "track_logit_no_show",
    "track_logit_two_orals",
];

const D: usize = CHOICE_FEATURES.len();
const DS: usize = SLOPE_FEATURES.len();
const DC: usize = COUNT_FEATURES.len();
/// Count features of the candidate alone; the others are the centre's and track's rates.
const DO: usize = 6;

/// Per-candidate choice features, unscaled, row-major (one row of [`D`] per subject).
pub fn choice_features(c: &Candidate) -> Vec<[f64; D]> {
    let n = c.subjects.len() as f64;
    let missing = (10.0 - c.average).max(0.0);
    let csum: f64 = c.subjects.iter().map(|s| s.coefficient).sum();
    let rooms: Vec<f64> = c
        .subjects
        .iter()
        .map(|s| s.coefficient * (20.0 - s.grade))
        .collect();
    let room_sum: f64 = rooms.iter().sum();
    let gmean = c.subjects.iter().map(|s| s.grade).sum::<f64>() / n;
    let gmin = c
        .subjects
        .iter()
        .map(|s| s.grade)
        .fold(f64::INFINITY, f64::min);
    let rmax = rooms.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    c.subjects
        .iter()
        .zip(&rooms)
        .map(|(s, &r)| {
            let share = if room_sum > 0.0 {
                r / room_sum
            } else {
                1.0 / n
            };
            let g = (s.grade - 10.0) / 5.0;
            [
                g,
                (s.coefficient * n / csum).ln(),
                share,
                (s.grade - gmean) / 5.0,
                f64::from(u8::from(s.grade == gmin)),
                f64::from(u8::from(r == rmax)),
                // Centred on one point missing, so that the interactions are not a copy
                // of the main effects (the optimiser converges much faster).
                share * (missing - 1.0),
                g * (missing - 1.0),
            ]
        })
        .collect()
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-4, 1.0 - 1e-4);
    (p / (1.0 - p)).ln()
}

/// Shares of candidates with 0 and with 2 orals, shrunk towards the académie-wide shares
/// so that a small centre is not judged on a handful of candidates.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Rates {
    pub no_show: f64,
    pub two_orals: f64,
}

const SHRINK: f64 = 50.0;

/// Count features that depend on the candidate alone (the first [`DO`] of
/// [`COUNT_FEATURES`]).
fn own_count_features(c: &Candidate) -> [f64; DO] {
    let missing = (10.0 - c.average).max(0.0);
    let csum: f64 = c.subjects.iter().map(|s| s.coefficient).sum();
    let best = c
        .subjects
        .iter()
        .map(|s| s.coefficient * (20.0 - s.grade))
        .fold(0.0, f64::max)
        / csum;
    let gmin = c
        .subjects
        .iter()
        .map(|s| s.grade)
        .fold(f64::INFINITY, f64::min);
    let wmean = c
        .subjects
        .iter()
        .map(|s| s.coefficient * s.grade)
        .sum::<f64>()
        / csum;
    [
        missing,
        missing * missing,
        c.subjects.len() as f64,
        best,
        gmin,
        wmean,
    ]
}

impl Rates {
    /// The two count features a centre's (or a track's) rates give.
    fn logits(self) -> [f64; 2] {
        [logit(self.no_show), logit(self.two_orals)]
    }
}

/// All count features, from the candidate's own and its centre's and track's logits.
fn count_features(own: &[f64; DO], center: [f64; 2], track: [f64; 2]) -> [f64; DC] {
    let mut x = [0.0; DC];
    x[..DO].copy_from_slice(own);
    x[DO..DO + 2].copy_from_slice(&center);
    x[DO + 2..].copy_from_slice(&track);
    x
}

/// Convergence report of one fit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FitReport {
    pub method: String,
    pub iterations: Option<u64>,
    /// Euclidean norm of the gradient of the mean objective at the solution.
    pub final_gradient_norm: f64,
    pub objective: f64,
    pub termination: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChoiceModel {
    pub features: Vec<String>,
    pub slope_features: Vec<String>,
    pub scale_mean: Vec<f64>,
    pub scale_std: Vec<f64>,
    pub beta: Vec<f64>,
    /// Effect of each subject in [`Model::subjects`] order.
    pub subject_effects: Vec<f64>,
    /// Per centre in [`Model::centers`] order, one slope per slope feature.
    pub center_slopes: Vec<Vec<f64>>,
    pub track_slopes: Vec<Vec<f64>>,
    pub fit: FitReport,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CountModel {
    pub features: Vec<String>,
    pub scale_mean: Vec<f64>,
    pub scale_std: Vec<f64>,
    /// Number of orals each class stands for.
    pub classes: Vec<usize>,
    pub intercept: Vec<f64>,
    /// `weights[feature][class]`.
    pub weights: Vec<Vec<f64>>,
    pub overall_rates: Rates,
    pub center_rates: Vec<Rates>,
    pub track_rates: Vec<Rates>,
    pub fit: FitReport,
}

/// Session-to-session spread that independent candidates do not explain, as a relative
/// variance: a count with expectation E varies by an extra `rel_var * E^2`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Drift {
    /// Common to a subject across all centres (tastes, exam difficulty).
    pub subject_rel_var: f64,
    /// Left at the (centre, subject) level once the subject's drift is accounted for.
    pub cell_rel_var: f64,
    pub method: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SubjectInfo {
    pub code: String,
    pub eligible: usize,
    pub chosen: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrainingInfo {
    /// Candidates per session.
    pub sessions: BTreeMap<i32, usize>,
    pub candidates: usize,
    pub rows: usize,
    pub options: FitOptions,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Model {
    pub training: TrainingInfo,
    pub subjects: Vec<SubjectInfo>,
    pub centers: Vec<String>,
    pub tracks: Vec<String>,
    pub choice: ChoiceModel,
    pub count: CountModel,
    pub drift: Drift,
}

#[derive(Serialize, Deserialize)]
struct ModelFile {
    format: String,
    format_version: u32,
    tool_version: String,
    checksum: String,
    model: serde_json::Value,
}

/// FNV-1a: enough to notice a hand edit or a cut; this is not a security boundary.
fn checksum(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

impl Model {
    /// The model file's text: pretty JSON, stable field order, so that the same training
    /// gives the same bytes.
    pub fn to_json(&self) -> String {
        let body = serde_json::to_value(self).expect("model serialises");
        let canonical = serde_json::to_string(&body).expect("value serialises");
        let file = ModelFile {
            format: FORMAT.to_string(),
            format_version: FORMAT_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            checksum: checksum(&canonical),
            model: body,
        };
        let mut s = serde_json::to_string_pretty(&file).expect("model file serialises");
        s.push('\n');
        s
    }

    pub fn from_json(text: &str, path: &Path) -> Result<Model, ModelError> {
        let p = path.display().to_string();
        let corrupt = |detail: String| ModelError::Corrupt {
            path: p.clone(),
            detail,
        };
        // Version first, so that a newer format is reported as such and not as damage.
        let head: serde_json::Value =
            serde_json::from_str(text).map_err(|e| corrupt(e.to_string()))?;
        if head.get("format").and_then(|v| v.as_str()) != Some(FORMAT) {
            return Err(corrupt("no \"format\": \"bacpredict-model\" field".into()));
        }
        let found = head
            .get("format_version")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| corrupt("no format_version".into()))?;
        if found != u64::from(FORMAT_VERSION) {
            return Err(ModelError::Version {
                path: p,
                found: found as u32,
                tool: env!("CARGO_PKG_VERSION"),
            });
        }
        let file: ModelFile = serde_json::from_value(head).map_err(|e| corrupt(e.to_string()))?;
        let canonical = serde_json::to_string(&file.model).map_err(|e| corrupt(e.to_string()))?;
        if checksum(&canonical) != file.checksum {
            return Err(ModelError::Checksum { path: p });
        }
        let model: Model =
            serde_json::from_value(file.model).map_err(|e| corrupt(e.to_string()))?;
        model.check_shapes().map_err(corrupt)?;
        Ok(model)
    }

    pub fn load(path: &Path) -> Result<Model, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|source| ModelError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Model::from_json(&text, path)
    }

    fn check_shapes(&self) -> Result<(), String> {
        let ch = &self.choice;
        let ok = ch.beta.len() == D
            && ch.scale_mean.len() == D
            && ch.scale_std.len() == D
            && ch.subject_effects.len() == self.subjects.len()
            && ch.center_slopes.len() == self.centers.len()
            && ch.track_slopes.len() == self.tracks.len()
            && ch
                .center_slopes
                .iter()
                .chain(&ch.track_slopes)
                .all(|v| v.len() == DS)
            && self.count.weights.len() == DC
            && self
                .count
                .weights
                .iter()
                .all(|w| w.len() == self.count.classes.len())
            && self.count.intercept.len() == self.count.classes.len()
            && self.count.center_rates.len() == self.centers.len()
            && self.count.track_rates.len() == self.tracks.len();
        if ok {
            Ok(())
        } else {
            Err("parameter arrays do not match the model's dimensions".into())
        }
    }
}

/// Maps a dataset's names onto a model's indices; unknown names map to `None`, which
/// means the académie-wide behaviour.
pub struct Mapping {
    pub subject: Vec<Option<usize>>,
    pub center: Vec<Option<usize>>,
    pub track: Vec<Option<usize>>,
}

fn map_names(data_names: &[String], model_names: &[String]) -> Vec<Option<usize>> {
    let idx: HashMap<&str, usize> = model_names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    data_names
        .iter()
        .map(|n| idx.get(n.as_str()).copied())
        .collect()
}

impl Model {
    pub fn mapping(&self, data: &Dataset) -> Mapping {
        let subjects: Vec<String> = self.subjects.iter().map(|s| s.code.clone()).collect();
        Mapping {
            subject: map_names(&data.subjects, &subjects),
            center: map_names(&data.centers, &self.centers),
            track: map_names(&data.tracks, &self.tracks),
        }
    }

    /// Probabilities of 0, 1 and 2 orals. A candidate with a single eligible subject
    /// cannot take two orals: that mass goes to one oral.
    pub fn count_probabilities(&self, c: &Candidate, map: &Mapping) -> [f64; 3] {
        let cm = &self.count;
        let cr = map.center[c.center as usize]
            .map(|i| cm.center_rates[i])
            .unwrap_or(cm.overall_rates);
        let tr = map.track[c.track as usize]
            .map(|i| cm.track_rates[i])
            .unwrap_or(cm.overall_rates);
        let x = count_features(&own_count_features(c), cr.logits(), tr.logits());
        let mut z: Vec<f64> = cm.intercept.clone();
        for (f, &xf) in x.iter().enumerate() {
            let xs = (xf - cm.scale_mean[f]) / cm.scale_std[f];
            for (k, zk) in z.iter_mut().enumerate() {
                *zk += xs * cm.weights[f][k];
            }
        }
        let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
        let s: f64 = e.iter().sum();
        let mut p = [0.0; 3];
        for (k, &n) in cm.classes.iter().enumerate() {
            p[n.min(2)] += e[k] / s;
        }
        if c.subjects.len() < 2 {
            p[1] += p[2];
            p[2] = 0.0;
        }
        p
    }

    /// Utilities of the candidate's subjects (in the candidate's order).
    pub fn utilities(&self, c: &Candidate, map: &Mapping) -> Vec<f64> {
        let ch = &self.choice;
        let feats = choice_features(c);
        let center = map.center[c.center as usize].map(|i| &ch.center_slopes[i]);
        let track = map.track[c.track as usize].map(|i| &ch.track_slopes[i]);
        feats
            .iter()
            .zip(&c.subjects)
            .map(|(x, s)| {
                let mut u = 0.0;
                let mut xs = [0.0; D];
                for f in 0..D {
                    xs[f] = (x[f] - ch.scale_mean[f]) / ch.scale_std[f];
                    u += xs[f] * ch.beta[f];
                }
                if let Some(i) = map.subject[s.subject as usize] {
                    u += ch.subject_effects[i];
                }
                for (k, &f) in SLOPE_FEATURES.iter().enumerate() {
                    if let Some(v) = center {
                        u += xs[f] * v[k];
                    }
                    if let Some(v) = track {
                        u += xs[f] * v[k];
                    }
                }
                u
            })
            .collect()
    }

    /// Probability that each of the candidate's subjects is among the orals taken.
    pub fn inclusion(&self, c: &Candidate, map: &Mapping) -> Vec<f64> {
        let pi = self.count_probabilities(c, map);
        let u = self.utilities(c, map);
        inclusion_probabilities(pi, &u)
    }
}

/// Inclusion probabilities of a Plackett-Luce draw of K items, K in {0, 1, 2} with
/// probabilities `pi`, from items with utilities `u`.
///
/// P(j first) = w_j / W; P(j second) = sum over i != j of (w_i / W) (w_j / (W - w_i)).
pub fn inclusion_probabilities(pi: [f64; 3], u: &[f64]) -> Vec<f64> {
    let n = u.len();
    if n == 0 {
        return Vec::new();
    }
    let m = u.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = u.iter().map(|v| (v - m).exp()).collect();
    let total: f64 = w.iter().sum();
    let first: Vec<f64> = w.iter().map(|wj| wj / total).collect();
    if n == 1 {
        return vec![pi[1] + pi[2]];
    }
    // Sum over i of first_i / (W - w_i), with W - w_i summed directly: subtracting from W
    // loses everything when one subject dominates.
    let rest: Vec<f64> = (0..n)
        .map(|i| (0..n).filter(|&k| k != i).map(|k| w[k]).sum::<f64>())
        .collect();
    let s: f64 = (0..n).map(|i| first[i] / rest[i]).sum();
    (0..n)
        .map(|j| {
            let second = w[j] * (s - first[j] / rest[j]);
            pi[1] * first[j] + pi[2] * (first[j] + second)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Fitting the subject model.

/// Flattened training data of the subject model.
struct ChoiceData {
    /// Standardised features, [`D`] per row.
    x: Vec<f64>,
    subject: Vec<u32>,
    /// Candidate k owns rows `start[k]..start[k + 1]`.
    start: Vec<usize>,
    center: Vec<u32>,
    track: Vec<u32>,
    /// Local indices of the chosen subjects (1 or 2 of them).
    chosen: Vec<[u32; 2]>,
    n_chosen: Vec<u8>,
    weight: Vec<f64>,
    total_weight: f64,
    n_subjects: usize,
    n_centers: usize,
    n_tracks: usize,
    subject_prec: f64,
    slope_prec: f64,
    beta_prec: f64,
    /// Threads the objective and Hessian run on.
    threads: usize,
}

/// Fixed chunking keeps sums in one order whatever the number of threads, so results are
/// byte-identical on any machine.
const CHUNKS: usize = 16;

/// Candidates the subject model's preconditioner is computed from, at most (about).
const HESSIAN_SAMPLE: usize = 50_000;

impl ChoiceData {
    /// No candidate yet: `sizes` = subjects, centres, tracks; `precisions` = prior
    /// precisions of subject effects, slopes and dense coefficients.
    fn empty(sizes: [usize; 3], precisions: [f64; 3]) -> ChoiceData {
        ChoiceData {
            x: Vec::new(),
            subject: Vec::new(),
            start: vec![0],
            center: Vec::new(),
            track: Vec::new(),
            chosen: Vec::new(),
            n_chosen: Vec::new(),
            weight: Vec::new(),
            total_weight: 0.0,
            n_subjects: sizes[0],
            n_centers: sizes[1],
            n_tracks: sizes[2],
            subject_prec: precisions[0],
            slope_prec: precisions[1],
            beta_prec: precisions[2],
            threads: crate::parallel::cores(),
        }
    }

    fn n_params(&self) -> usize {
        D + self.n_subjects + DS * (self.n_centers + self.n_tracks)
    }

    /// Prior precision of parameter `i`: a dense coefficient, a subject effect or a slope.
    fn prior_precision(&self, i: usize) -> f64 {
        if i < D {
            self.beta_prec
        } else if i < D + self.n_subjects {
            self.subject_prec
        } else {
            self.slope_prec
        }
    }

    /// Candidate k's utilities under the parameters `theta`, into `u`; returns
    /// the first parameter of the candidate's centre slopes and of its track slopes.
    fn utilities_into(&self, theta: &[f64], k: usize, u: &mut Vec<f64>) -> (usize, usize) {
        let off_center = D + self.n_subjects;
        let cbase = off_center + DS * self.center[k] as usize;
        let tbase = off_center + DS * (self.n_centers + self.track[k] as usize);
        u.clear();
        for r in self.start[k]..self.start[k + 1] {
            let x = &self.x[r * D..(r + 1) * D];
            let mut v = theta[D + self.subject[r] as usize];
            for f in 0..D {
                v += x[f] * theta[f];
            }
            for (j, &f) in SLOPE_FEATURES.iter().enumerate() {
                v += x[f] * (theta[cbase + j] + theta[tbase + j]);
            }
            u.push(v);
        }
        (cbase, tbase)
    }

    /// Mean weighted negative log-likelihood plus the Gaussian priors, and its gradient.
    fn objective(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        let np = self.n_params();
        let parts = self.chunked(|lo, hi| self.chunk_objective(theta, lo, hi));
        let mut f = 0.0;
        let mut g = vec![0.0; np];
        for (pf, pg) in parts {
            f += pf;
            for (a, b) in g.iter_mut().zip(pg) {
                *a += b;
            }
        }
        let tw = self.total_weight;
        f /= tw;
        for v in g.iter_mut() {
            *v /= tw;
        }
        // Priors: N(0, sd^2) on every parameter, scaled like the mean log-likelihood.
        for (i, t) in theta.iter().enumerate() {
            let prec = self.prior_precision(i) / tw;
            f += 0.5 * prec * t * t;
            g[i] += prec * t;
        }
        (f, g)
    }

    fn chunk_objective(&self, theta: &[f64], lo: usize, hi: usize) -> (f64, Vec<f64>) {
        let mut g = vec![0.0; self.n_params()];
        let mut f = 0.0;
        let mut u = Vec::new();
        let mut du = Vec::new();
        let mut wbuf = Vec::new();
        for k in lo..hi {
            let (a, b) = (self.start[k], self.start[k + 1]);
            let (cbase, tbase) = self.utilities_into(theta, k, &mut u);
            let ll = pl_loglik_into(
                &u,
                &self.chosen[k][..self.n_chosen[k] as usize],
                &mut wbuf,
                &mut du,
            );
            let w = self.weight[k];
            f -= w * ll;
            for (i, r) in (a..b).enumerate() {
                let d = -w * du[i];
                if d == 0.0 {
                    continue;
                }
                let x = &self.x[r * D..(r + 1) * D];
                for f in 0..D {
                    g[f] += d * x[f];
                }
                g[D + self.subject[r] as usize] += d;
                for (j, &f) in SLOPE_FEATURES.iter().enumerate() {
                    g[cbase + j] += d * x[f];
                    g[tbase + j] += d * x[f];
                }
            }
        }
        (f, g)
    }
}

impl ChoiceData {
    /// Runs `f` on the candidates in [`CHUNKS`] fixed ranges, on as many threads as the
    /// machine has, and returns the results in range order.
    fn chunked<T: Send>(&self, f: impl Fn(usize, usize) -> T + Sync) -> Vec<T> {
        let n = self.weight.len();
        let chunk = n.div_ceil(CHUNKS).max(1);
        let threads = self.threads.clamp(1, CHUNKS);
        let mut parts: Vec<Option<T>> = (0..CHUNKS).map(|_| None).collect();
        let f = &f;
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    scope.spawn(move || {
                        let mut out = Vec::new();
                        let mut ci = t;
                        while ci < CHUNKS {
                            let lo = (ci * chunk).min(n);
                            let hi = ((ci + 1) * chunk).min(n);
                            out.push((ci, f(lo, hi)));
                            ci += threads;
                        }
                        out
                    })
                })
                .collect();
            for h in handles {
                for (ci, r) in h.join().expect("worker thread") {
                    parts[ci] = Some(r);
                }
            }
        });
        parts
            .into_iter()
            .map(|p| p.expect("every chunk ran"))
            .collect()
    }

    /// Parameter indices of the global block: dense coefficients, subject effects and
    /// track slopes, in that order.
    fn global_indices(&self) -> Vec<usize> {
        let off_center = D + self.n_subjects;
        let off_track = off_center + DS * self.n_centers;
        (0..off_center)
            .chain(off_track..off_track + DS * self.n_tracks)
            .collect()
    }

    /// The preconditioner at `theta`: the Hessian of the objective without the one term
    /// of the two-pick likelihood that can be negative (so it is positive definite
    /// everywhere), factored in its block-arrow structure.
    ///
    /// Adding a constant to a coefficient and removing it from every centre's (or
    /// track's) slope changes nothing but the priors: a nearly flat valley along which
    /// L-BFGS crawled for hundreds of iterations with a block-diagonal preconditioner.
    /// The Hessian sees that valley (it keeps the centre x coefficient blocks), so the
    /// fit takes a few Newton-like steps.
    fn preconditioner(&self, theta: &[f64]) -> Precond {
        let global = self.global_indices();
        let ng = global.len();
        let mut pos = vec![usize::MAX; self.n_params()];
        for (k, &i) in global.iter().enumerate() {
            pos[i] = k;
        }
        let nc = self.n_centers;
        // A preconditioner only steers the steps (convergence is judged on the full
        // gradient), so at national scale the Hessian comes from every k-th candidate:
        // 50,000 of them pin its blocks down to a few percent, at a tenth of the cost.
        let stride = (self.weight.len() / HESSIAN_SAMPLE).max(1);
        let parts = self.chunked(|lo, hi| self.chunk_hessian(theta, &pos, ng, stride, lo, hi));
        let mut a = vec![0.0; ng * ng];
        let mut b = vec![0.0; nc * ng * DS];
        let mut c = vec![[0.0; DS * DS]; nc];
        let mut tw = 0.0;
        for (pa, pb, pc, pw) in parts {
            tw += pw;
            a.iter_mut().zip(pa).for_each(|(x, y)| *x += y);
            b.iter_mut().zip(pb).for_each(|(x, y)| *x += y);
            for (x, y) in c.iter_mut().zip(pc) {
                x.iter_mut().zip(y).for_each(|(x, y)| *x += y);
            }
        }
        a.iter_mut().chain(b.iter_mut()).for_each(|v| *v /= tw);
        // The priors, scaled like the mean log-likelihood of the whole objective.
        let tw_all = self.total_weight;
        for (k, &i) in global.iter().enumerate() {
            a[k * ng + k] += self.prior_precision(i) / tw_all;
        }
        // Centre blocks first: C_c = L_c L_c^T, E_c = B_c L_c^-T, and the global block's
        // Schur complement A - sum_c E_c E_c^T = L_s L_s^T.
        for (ci, h) in c.iter_mut().enumerate() {
            for v in h.iter_mut() {
                *v /= tw;
            }
            for j in 0..DS {
                h[j * DS + j] += self.slope_prec / tw_all;
            }
            cholesky(h, DS);
            let e = &mut b[ci * ng * DS..(ci + 1) * ng * DS];
            for row in e.chunks_mut(DS) {
                // Row i of E_c solves L_c x = (row i of B_c).
                solve_l(h, DS, row);
            }
            for i in 0..ng {
                for k in 0..=i {
                    let v: f64 = (0..DS).map(|j| e[i * DS + j] * e[k * DS + j]).sum();
                    a[i * ng + k] -= v;
                }
            }
        }
        for i in 0..ng {
            for k in 0..i {
                a[k * ng + i] = a[i * ng + k];
            }
        }
        cholesky(&mut a, ng);
        Precond {
            global,
            ls: a,
            center_base: D + self.n_subjects,
            lc: c,
            e: b,
        }
    }

    /// The share of the Hessian (before division by the weight) of every `stride`-th
    /// candidate in `lo..hi`: the global block (`ng` parameters), each centre's global x
    /// centre block, each centre's own block, and their total weight.
    #[allow(clippy::type_complexity)]
    fn chunk_hessian(
        &self,
        theta: &[f64],
        pos: &[usize],
        ng: usize,
        stride: usize,
        lo: usize,
        hi: usize,
    ) -> (Vec<f64>, Vec<f64>, Vec<[f64; DS * DS]>, f64) {
        let nc = self.n_centers;
        let mut a = vec![0.0; ng * ng];
        let mut b = vec![0.0; nc * ng * DS];
        let mut c = vec![[0.0; DS * DS]; nc];
        let mut u = Vec::new();
        let mut coef = Vec::new();
        let mut vecs = Vec::new();
        let mut cm = Vec::new();
        let mut kr = Vec::new();
        let mut mj = Vec::new();
        let mut slot = Vec::new();
        let mut tw = 0.0;
        // A row's utility depends on the dense coefficients through its features x, on
        // its subject's effect (weight 1), and on its track's and its centre's slopes
        // through the same slope features: with K = [x, slope features] (DK columns),
        // every block of the candidate's Hessian J^T C J is a block of C, of C K or of
        // K^T C K, where C is the curvature with respect to the utilities.
        const DK: usize = D + DS;
        for k in (lo..hi).filter(|k| k % stride == 0) {
            let (r0, r1) = (self.start[k], self.start[k + 1]);
            let n = r1 - r0;
            let (_, tbase) = self.utilities_into(theta, k, &mut u);
            pl_curvature(
                &u,
                &self.chosen[k][..self.n_chosen[k] as usize],
                &mut coef,
                &mut vecs,
            );
            // C = diag(sum_t c_t v_t) - sum_t c_t v_t v_t^T, n x n.
            cm.clear();
            cm.resize(n * n, 0.0);
            for (t, ct) in coef.iter().enumerate() {
                let v = &vecs[t * n..(t + 1) * n];
                for r in 0..n {
                    cm[r * n + r] += ct * v[r];
                    for q in 0..n {
                        cm[r * n + q] -= ct * v[r] * v[q];
                    }
                }
            }
            // K, the rows' features then their slope features, n x DK.
            kr.clear();
            for x in self.x[r0 * D..r1 * D].chunks(D) {
                kr.extend_from_slice(x);
                kr.extend(SLOPE_FEATURES.iter().map(|&f| x[f]));
            }
            // M = C K, n x DK; then K^T C K = K^T M, DK x DK.
            mj.clear();
            mj.resize(n * DK, 0.0);
            for r in 0..n {
                for q in 0..n {
                    let crq = cm[r * n + q];
                    if crq != 0.0 {
                        let (to, from) = (&mut mj[r * DK..(r + 1) * DK], &kr[q * DK..(q + 1) * DK]);
                        for (m, k) in to.iter_mut().zip(from) {
                            *m += crq * k;
                        }
                    }
                }
            }
            let mut kk = [[0.0; DK]; DK];
            for r in 0..n {
                for (row, &kf) in kk.iter_mut().zip(&kr[r * DK..(r + 1) * DK]) {
                    for (v, m) in row.iter_mut().zip(&mj[r * DK..(r + 1) * DK]) {
                        *v += kf * m;
                    }
                }
            }
            // Scatter into the blocks. The global slots are the dense coefficients (slot
            // f = f), the rows' subject effects, then the track slopes, in increasing
            // order; only the lower triangle of the global block is kept, which is all the
            // factorisation reads. Each entry gets one term per candidate.
            let w = self.weight[k];
            tw += w;
            slot.clear();
            slot.extend((r0..r1).map(|r| pos[D + self.subject[r] as usize]));
            let track: [usize; DS] = std::array::from_fn(|j| pos[tbase + j]);
            let ci = self.center[k] as usize;
            let bc = &mut b[ci * ng * DS..(ci + 1) * ng * DS];
            for f in 0..D {
                for g in 0..=f {
                    a[f * ng + g] += w * kk[f][g];
                }
                for j in 0..DS {
                    bc[f * DS + j] += w * kk[f][D + j];
                }
            }
            for (r, &sr) in slot.iter().enumerate() {
                let m = &mj[r * DK..(r + 1) * DK];
                for f in 0..D {
                    a[sr * ng + f] += w * m[f];
                }
                for (q, &sq) in slot[..=r].iter().enumerate() {
                    a[sr.max(sq) * ng + sr.min(sq)] += w * cm[r * n + q];
                }
                for j in 0..DS {
                    bc[sr * DS + j] += w * m[D + j];
                }
            }
            for (jt, &tj) in track.iter().enumerate() {
                let kt = &kk[D + jt];
                for f in 0..D {
                    a[tj * ng + f] += w * kt[f];
                }
                for (r, &sr) in slot.iter().enumerate() {
                    a[tj * ng + sr] += w * mj[r * DK + D + jt];
                }
                for (l, &tl) in track[..=jt].iter().enumerate() {
                    a[tj * ng + tl] += w * kt[D + l];
                }
                for j in 0..DS {
                    bc[tj * DS + j] += w * kt[D + j];
                }
            }
            for j in 0..DS {
                for l in 0..DS {
                    c[ci][j * DS + l] += w * kk[D + j][D + l];
                }
            }
        }
        (a, b, c, tw)
    }
}

/// The curvature of -log L with respect to the utilities, as terms (c_t = `coef[t]`,
/// v_t = `vecs[t * n..(t + 1) * n]`) with
/// Hessian = diag(sum_t c_t v_t) - sum_t c_t v_t v_t^T: one softmax for one pick; for two
/// picks {a, b}, the softmax over all subjects plus, weighted by the posterior of each
/// order (lambda, 1 - lambda), the softmax over the subjects other than the first pick.
/// The exact Hessian has one more term, -lambda (1 - lambda) (q^a - q^b)(q^a - q^b)^T,
/// left out so that every candidate's curvature is positive semi-definite.
fn pl_curvature(u: &[f64], chosen: &[u32], coef: &mut Vec<f64>, vecs: &mut Vec<f64>) {
    let lse = |skip: Option<usize>| {
        let it = || {
            u.iter()
                .enumerate()
                .filter(move |(k, _)| Some(*k) != skip)
                .map(|(_, &v)| v)
        };
        let mx = it().fold(f64::NEG_INFINITY, f64::max);
        mx + it().map(|v| (v - mx).exp()).sum::<f64>().ln()
    };
    let softmax = |skip: Option<usize>, l: f64, out: &mut Vec<f64>| {
        out.extend(
            u.iter()
                .enumerate()
                .map(|(k, &v)| if Some(k) == skip { 0.0 } else { (v - l).exp() }),
        );
    };
    coef.clear();
    vecs.clear();
    coef.push(1.0);
    softmax(None, lse(None), vecs);
    if let [a, b] = *chosen {
        let (a, b) = (a as usize, b as usize);
        let (la, lb) = (lse(Some(a)), lse(Some(b)));
        // P(a first) / P(b first) = R_b / R_a.
        let lambda = 1.0 / (1.0 + (la - lb).exp());
        coef.extend([lambda, 1.0 - lambda]);
        softmax(Some(a), la, vecs);
        softmax(Some(b), lb, vecs);
    }
}

/// Log-likelihood of the chosen set (1 or 2 local indices, unordered) under Plackett-Luce
/// draws without replacement, and its gradient with respect to the utilities.
///
/// One pick a: log L = u_a - log W.
/// Two picks {a, b}: L = (w_a w_b / W) (1/(W - w_a) + 1/(W - w_b)).
pub fn pl_loglik(u: &[f64], chosen: &[u32]) -> (f64, Vec<f64>) {
    let mut w = Vec::new();
    let mut g = Vec::new();
    let ll = pl_loglik_into(u, chosen, &mut w, &mut g);
    (ll, g)
}

/// [`pl_loglik`] writing into reusable buffers: the objective runs it for every
/// candidate at every iteration, and allocations there cost more than the arithmetic.
fn pl_loglik_into(u: &[f64], chosen: &[u32], w: &mut Vec<f64>, g: &mut Vec<f64>) -> f64 {
    let n = u.len();
    let m = u.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    w.clear();
    w.extend(u.iter().map(|v| (v - m).exp()));
    let total: f64 = w.iter().sum();
    g.clear();
    g.extend(w.iter().map(|wk| -wk / total));
    match *chosen {
        [a] => {
            let a = a as usize;
            g[a] += 1.0;
            u[a] - m - total.ln()
        }
        [a, b] => {
            let (a, b) = (a as usize, b as usize);
            // Sums over the subjects other than a (R_a) and b, relative to exp(m). When
            // a's utility dominates by hundreds (far from the optimum, in a line search)
            // R_a underflows to 0 and 1 / R_a would make the likelihood infinite: only
            // then are the logs of the sums computed the slow, safe way.
            let ra: f64 = (0..n).filter(|&k| k != a).map(|k| w[k]).sum();
            let rb: f64 = (0..n).filter(|&k| k != b).map(|k| w[k]).sum();
            let fast = ra > 1e-250 && rb > 1e-250;
            let (lra, lrb) = if fast {
                (m + ra.ln(), m + rb.ln())
            } else {
                let lse_without = |x: usize| {
                    let mx = (0..n)
                        .filter(|&k| k != x)
                        .map(|k| u[k])
                        .fold(f64::NEG_INFINITY, f64::max);
                    mx + (0..n)
                        .filter(|&k| k != x)
                        .map(|k| (u[k] - mx).exp())
                        .sum::<f64>()
                        .ln()
                };
                (lse_without(a), lse_without(b))
            };
            // log(1/R_a + 1/R_b), and the weight of a's term in it.
            let log_s = -lra.min(lrb) + (-(lra - lrb).abs()).exp().ln_1p();
            let lambda = 1.0 / (1.0 + (lra - lrb).exp()); // (1/R_a) / (1/R_a + 1/R_b)
                                                          // Softmax over the subjects other than a (resp. b): w_k / R_a, as exp(u_k - log R_a).
            let (ea, eb) = ((m - lra).exp(), (m - lrb).exp());
            let log_total = m + total.ln();
            let ll = u[a] + u[b] - log_total + log_s;
            // d log(1/R_a + 1/R_b) / du_k = -(lambda q_k^a + (1 - lambda) q_k^b), with q^x
            // the softmax over the subjects other than x.
            for (k, gk) in g.iter_mut().enumerate() {
                let (qa, qb) = if fast {
                    (w[k] * ea, w[k] * eb)
                } else {
                    ((u[k] - lra).exp(), (u[k] - lrb).exp())
                };
                let qa = if k == a { 0.0 } else { qa };
                let qb = if k == b { 0.0 } else { qb };
                *gk -= lambda * qa + (1.0 - lambda) * qb;
            }
            g[a] += 1.0;
            g[b] += 1.0;
            ll
        }
        _ => {
            g.iter_mut().for_each(|v| *v = 0.0);
            0.0
        }
    }
}

/// Parameters, objective and gradient of the last evaluation.
type Evaluation = (Vec<f64>, f64, Vec<f64>);

/// The preconditioner: the parameters are optimised as theta = theta0 + T phi, with
/// T = L^-T for the Cholesky factor L of the objective's Hessian at theta0 (see
/// [`ChoiceData::preconditioner`]). In phi the problem is close to round, so L-BFGS needs
/// a few iterations instead of hundreds on correlated features.
///
/// The Hessian is block-arrow shaped: a dense global block (coefficients, subject effects,
/// track slopes), a 3x3 block per centre, and the global x centre blocks; nothing links
/// two centres. Ordered centres first, its Cholesky factor keeps that shape:
/// L = [L_c 0; E L_s], so applying T costs a few multiplications per parameter.
struct Precond {
    /// Parameter indices of the global block, in block order.
    global: Vec<usize>,
    /// Lower Cholesky factor of the global block's Schur complement, row-major.
    ls: Vec<f64>,
    /// First parameter of the centre slopes.
    center_base: usize,
    /// Lower Cholesky factor of each centre's block, row-major DS x DS.
    lc: Vec<[f64; DS * DS]>,
    /// E_c (global x DS, row-major) for each centre, one after the other.
    e: Vec<f64>,
}

/// In-place lower Cholesky factor of a symmetric positive-definite n x n matrix; a
/// jitter on the diagonal keeps it defined when a direction has almost no curvature.
fn cholesky(a: &mut [f64], n: usize) {
    let trace: f64 = (0..n).map(|i| a[i * n + i]).sum();
    let jitter = 1e-10 * (trace / n.max(1) as f64).max(1e-300);
    for j in 0..n {
        let mut d = a[j * n + j] + jitter;
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        let d = d.max(jitter).sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut v = a[i * n + j];
            for k in 0..j {
                v -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = v / d;
        }
        for k in j + 1..n {
            a[j * n + k] = 0.0;
        }
    }
}

/// Solves L^T x = b in place (back substitution).
fn solve_lt(l: &[f64], n: usize, b: &mut [f64]) {
    for i in (0..n).rev() {
        let mut v = b[i];
        for k in i + 1..n {
            v -= l[k * n + i] * b[k];
        }
        b[i] = v / l[i * n + i];
    }
}

/// Solves L x = b in place (forward substitution).
fn solve_l(l: &[f64], n: usize, b: &mut [f64]) {
    for i in 0..n {
        let mut v = b[i];
        for k in 0..i {
            v -= l[i * n + k] * b[k];
        }
        b[i] = v / l[i * n + i];
    }
}

impl Precond {
    /// The parameters theta0 + T phi.
    fn point(&self, theta0: &[f64], phi: &[f64]) -> Vec<f64> {
        let step = self.apply(phi, false);
        theta0.iter().zip(step).map(|(a, b)| a + b).collect()
    }

    /// `T phi` (a step in parameter space, solving L^T x = phi) or `T^T g` (a gradient
    /// in phi space, solving L y = g).
    fn apply(&self, v: &[f64], transpose: bool) -> Vec<f64> {
        let mut out = v.to_vec();
        let ng = self.global.len();
        let mut xg: Vec<f64> = self.global.iter().map(|&i| v[i]).collect();
        if transpose {
            for (c, l) in self.lc.iter().enumerate() {
                let base = self.center_base + DS * c;
                let mut y = [0.0; DS];
                y.copy_from_slice(&v[base..base + DS]);
                solve_l(l, DS, &mut y);
                let e = &self.e[c * ng * DS..(c + 1) * ng * DS];
                for (i, xi) in xg.iter_mut().enumerate() {
                    *xi -= (0..DS).map(|j| e[i * DS + j] * y[j]).sum::<f64>();
                }
                out[base..base + DS].copy_from_slice(&y);
            }
            solve_l(&self.ls, ng, &mut xg);
        } else {
            solve_lt(&self.ls, ng, &mut xg);
            for (c, l) in self.lc.iter().enumerate() {
                let base = self.center_base + DS * c;
                let e = &self.e[c * ng * DS..(c + 1) * ng * DS];
                let mut y = [0.0; DS];
                for (j, yj) in y.iter_mut().enumerate() {
                    *yj = v[base + j] - (0..ng).map(|i| e[i * DS + j] * xg[i]).sum::<f64>();
                }
                solve_lt(l, DS, &mut y);
                out[base..base + DS].copy_from_slice(&y);
            }
        }
        for (&i, x) in self.global.iter().zip(xg) {
            out[i] = x;
        }
        out
    }
}

struct ChoiceProblem<'a> {
    data: &'a ChoiceData,
    theta0: &'a [f64],
    pre: &'a Precond,
    /// argmin asks for cost and gradient separately at the same point: compute once.
    cache: Mutex<Option<Evaluation>>,
}

impl ChoiceProblem<'_> {
    /// Objective and its gradient with respect to phi.
    fn eval(&self, phi: &Array1<f64>) -> (f64, Vec<f64>) {
        let t = phi.as_slice().expect("contiguous parameters");
        let mut cache = self.cache.lock().expect("cache lock");
        if let Some((p, f, g)) = cache.as_ref() {
            if p.as_slice() == t {
                return (*f, g.clone());
            }
        }
        let (f, g) = self.data.objective(&self.pre.point(self.theta0, t));
        let g = self.pre.apply(&g, true);
        *cache = Some((t.to_vec(), f, g.clone()));
        (f, g)
    }
}

impl CostFunction for ChoiceProblem<'_> {
    type Param = Array1<f64>;
    type Output = f64;
    fn cost(&self, p: &Self::Param) -> Result<f64, argmin::core::Error> {
        Ok(self.eval(p).0)
    }
}

impl Gradient for ChoiceProblem<'_> {
    type Param = Array1<f64>;
    type Gradient = Array1<f64>;
    fn gradient(&self, p: &Self::Param) -> Result<Array1<f64>, argmin::core::Error> {
        Ok(Array1::from(self.eval(p).1))
    }
}

/// Stopping tolerance of the subject model, on the gradient in preconditioned
/// coordinates (half its square approximates what the objective could still lose). The
/// fit is then accepted only if the plain gradient norm is below [`CHOICE_ACCEPT`]; a
/// looser 3e-4 left small académies just above it.
const CHOICE_TOL: f64 = 5e-5;
const CHOICE_ACCEPT: f64 = 1e-4;
/// Stopping tolerance of the count model (gradient norm per candidate); the fit is
/// accepted below [`COUNT_ACCEPT`].
const COUNT_TOL: f64 = 5e-5;
const COUNT_ACCEPT: f64 = 1e-4;

/// The candidates one fit learns from (or one session to forecast), with the name tables
/// of their dataset. The rolling-origin fits use the first sessions: the dataset is
/// sorted by session, so those candidates are a prefix, borrowed rather than copied.
#[derive(Clone, Copy)]
struct Part<'a> {
    names: &'a Dataset,
    candidates: &'a [Candidate],
}

impl<'a> Part<'a> {
    /// The candidates of the sessions in `range`.
    fn sessions(data: &'a Dataset, range: impl std::ops::RangeBounds<i32>) -> Part<'a> {
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
        Part {
            names: data,
            candidates: &c[lo..hi.max(lo)],
        }
    }
}

fn sessions_of(candidates: &[Candidate]) -> BTreeMap<i32, usize> {
    let mut m = BTreeMap::new();
    for c in candidates {
        *m.entry(c.session).or_insert(0) += 1;
    }
    m
}

fn session_weights(data: Part<'_>, opts: &FitOptions) -> HashMap<i32, f64> {
    let last = data.candidates.iter().map(|c| c.session).max().unwrap_or(0);
    sessions_of(data.candidates)
        .keys()
        .map(|&s| {
            let w = match opts.half_life {
                Some(h) if h > 0.0 => 0.5f64.powf(f64::from(last - s) / h),
                _ => 1.0,
            };
            (s, w)
        })
        .collect()
}

fn standardise(rows: &mut [f64], width: usize) -> (Vec<f64>, Vec<f64>) {
    let n = rows.len() / width;
    let mut sum = vec![0.0; width];
    let mut sq = vec![0.0; width];
    for r in 0..n {
        for f in 0..width {
            let v = rows[r * width + f];
            sum[f] += v;
            sq[f] += v * v;
        }
    }
    let (mean, std) = scaling(sum, sq, n);
    for r in 0..n {
        for f in 0..width {
            let v = &mut rows[r * width + f];
            *v = (*v - mean[f]) / std[f];
        }
    }
    (mean, std)
}

/// Mean and standard deviation (1 for a constant feature) from the sums of `n` values
/// and of their squares.
fn scaling(sum: impl Into<Vec<f64>>, sq: impl Into<Vec<f64>>, n: usize) -> (Vec<f64>, Vec<f64>) {
    let (mut mean, sq) = (sum.into(), sq.into());
    let nf = n.max(1) as f64;
    let std = mean
        .iter_mut()
        .zip(sq)
        .map(|(m, s)| {
            *m /= nf;
            let var = s / nf - *m * *m;
            if var > 1e-12 {
                var.sqrt()
            } else {
                1.0
            }
        })
        .collect();
    (mean, std)
}

/// Fits the subject model on `threads` threads, from `init` when given (a fit on fewer
/// sessions of the same dataset, hence the same parameter layout). Returns the raw
/// parameters too.
fn fit_choice(
    data: Part<'_>,
    opts: &FitOptions,
    weights: &HashMap<i32, f64>,
    init: Option<&[f64]>,
    threads: usize,
) -> Result<(ChoiceModel, Vec<f64>), ModelError> {
    let mut cd = ChoiceData::empty(
        [
            data.names.subjects.len(),
            data.names.centers.len(),
            data.names.tracks.len(),
        ],
        [
            1.0 / (opts.subject_sd * opts.subject_sd),
            1.0 / (opts.slope_sd * opts.slope_sd),
            1.0 / 100.0,
        ],
    );
    cd.threads = threads;
    for c in data.candidates {
        let k = c.n_chosen().unwrap_or(0);
        // A single eligible subject, or no oral, says nothing about preferences.
        if k == 0 || c.subjects.len() < 2 {
            continue;
        }
        let mut ch = [0u32; 2];
        let mut j = 0;
        for (i, s) in c.subjects.iter().enumerate() {
            if s.chosen == Some(true) {
                ch[j] = i as u32;
                j += 1;
            }
        }
        for (row, s) in choice_features(c).iter().zip(&c.subjects) {
            cd.x.extend_from_slice(row);
            cd.subject.push(s.subject);
        }
        cd.start.push(cd.subject.len());
        cd.center.push(c.center);
        cd.track.push(c.track);
        cd.chosen.push(ch);
        cd.n_chosen.push(k as u8);
        let w = weights[&c.session];
        cd.weight.push(w);
        cd.total_weight += w;
    }
    if cd.weight.is_empty() {
        return Err(ModelError::Training(
            "no candidate in the history took an oral among two or more eligible subjects".into(),
        ));
    }
    let (mean, std) = standardise(&mut cd.x, D);
    let theta0 = match init {
        Some(t) if t.len() == cd.n_params() => t.to_vec(),
        _ => vec![0.0; cd.n_params()],
    };
    let pre = cd.preconditioner(&theta0);
    let problem = ChoiceProblem {
        data: &cd,
        theta0: &theta0,
        pre: &pre,
        cache: Mutex::new(None),
    };
    let init = Array1::zeros(cd.n_params());
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 20)
        .with_tolerance_grad(CHOICE_TOL)
        .and_then(|s| s.with_tolerance_cost(1e-12))
        .map_err(|e| ModelError::Training(e.to_string()))?;
    let res = Executor::new(problem, solver)
        .configure(|st| st.param(init).max_iters(opts.max_iterations))
        .run()
        .map_err(|e| ModelError::Training(format!("optimiser failed: {e}")))?;
    let state = res.state();
    let phi = state
        .get_best_param()
        .ok_or_else(|| ModelError::Training("optimiser returned no parameters".into()))?;
    let theta = pre.point(&theta0, phi.as_slice().expect("contiguous"));
    let (f, g) = cd.objective(&theta);
    let gnorm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
    let reason = state
        .get_termination_reason()
        .map(|r| r.text().to_string())
        .unwrap_or_default();
    let iters = state.get_iter();
    // Stopping on a tiny cost change is fine only if the gradient is small too.
    let converged = matches!(
        state.get_termination_reason(),
        Some(TerminationReason::SolverConverged)
    ) && gnorm < CHOICE_ACCEPT;
    if !converged {
        return Err(ModelError::NotConverged {
            part: "subject-choice (conditional logit)",
            detail: format!(
                "{reason} after {iters} iterations, gradient norm {gnorm:.2e}; try --max-iterations"
            ),
        });
    }
    let t = theta.as_slice();
    let ns = cd.n_subjects;
    let slopes = |base: usize, n: usize| -> Vec<Vec<f64>> {
        (0..n)
            .map(|i| t[base + DS * i..base + DS * (i + 1)].to_vec())
            .collect()
    };
    let model = ChoiceModel {
        features: CHOICE_FEATURES.iter().map(|s| s.to_string()).collect(),
        slope_features: SLOPE_FEATURES
            .iter()
            .map(|&f| CHOICE_FEATURES[f].to_string())
            .collect(),
        scale_mean: mean,
        scale_std: std,
        beta: t[..D].to_vec(),
        subject_effects: t[D..D + ns].to_vec(),
        center_slopes: slopes(D + ns, cd.n_centers),
        track_slopes: slopes(D + ns + DS * cd.n_centers, cd.n_tracks),
        fit: FitReport {
            method: "L-BFGS (argmin), analytic gradient, Hessian-preconditioned".into(),
            iterations: Some(iters),
            final_gradient_norm: gnorm,
            objective: f,
            termination: reason,
        },
    };
    Ok((model, t.to_vec()))
}

fn rates_by(
    data: Part<'_>,
    y: &[usize],
    key: impl Fn(&Candidate) -> usize,
    n: usize,
    prior: Rates,
) -> Vec<Rates> {
    let mut counts = vec![[0.0f64; 3]; n];
    for (c, &k) in data.candidates.iter().zip(y) {
        counts[key(c)][k] += 1.0;
    }
    counts
        .iter()
        .map(|c| {
            let tot = c[0] + c[1] + c[2];
            Rates {
                no_show: (c[0] + SHRINK * prior.no_show) / (tot + SHRINK),
                two_orals: (c[2] + SHRINK * prior.two_orals) / (tot + SHRINK),
            }
        })
        .collect()
}

/// What the count fits of a chain need of each candidate, computed once for all of them
/// (each fit uses the first candidates: see [`Part`]).
struct CountInputs {
    /// Features of the candidate alone.
    own: Vec<[f64; DO]>,
    /// Number of orals taken, at most 2.
    y: Vec<usize>,
    /// The whitened features handed to linfa, refilled by each fit: one allocation of
    /// tens of megabytes for the chain instead of one per fit.
    z: Vec<f64>,
}

impl CountInputs {
    fn new(candidates: &[Candidate]) -> CountInputs {
        CountInputs {
            own: candidates.iter().map(own_count_features).collect(),
            y: candidates
                .iter()
                .map(|c| c.n_chosen().unwrap_or(0).min(2))
                .collect(),
            z: Vec::with_capacity(candidates.len() * (DC + 1)),
        }
    }
}

/// Fits the number-of-orals model, from `init` when given (a fit on fewer sessions of
/// the same dataset). `inputs` holds at least the part's candidates, first.
fn fit_count(
    data: Part<'_>,
    inputs: &mut CountInputs,
    max_iterations: u64,
    init: Option<&CountModel>,
) -> Result<CountModel, ModelError> {
    let n = data.candidates.len();
    let CountInputs { own, y, z } = inputs;
    let (own, y) = (&own[..n], &y[..n]);
    let mut tot = [0.0f64; 3];
    for &k in y {
        tot[k] += 1.0;
    }
    let nf = n as f64;
    let overall = Rates {
        no_show: tot[0] / nf,
        two_orals: tot[2] / nf,
    };
    let center_rates = rates_by(
        data,
        y,
        |c| c.center as usize,
        data.names.centers.len(),
        overall,
    );
    let track_rates = rates_by(
        data,
        y,
        |c| c.track as usize,
        data.names.tracks.len(),
        overall,
    );
    // The features are built on the fly from the candidate's own and its centre's and
    // track's, never stored: a pass for their scaling, one for the whitening, one for z.
    let center_logits: Vec<[f64; 2]> = center_rates.iter().map(|r| r.logits()).collect();
    let track_logits: Vec<[f64; 2]> = track_rates.iter().map(|r| r.logits()).collect();
    let features = |i: usize| {
        let c = &data.candidates[i];
        count_features(
            &own[i],
            center_logits[c.center as usize],
            track_logits[c.track as usize],
        )
    };
    let (mean, std) = {
        let mut sum = [0.0; DC];
        let mut sq = [0.0; DC];
        for i in 0..n {
            for (f, v) in features(i).into_iter().enumerate() {
                sum[f] += v;
                sq[f] += v * v;
            }
        }
        scaling(sum, sq, n)
    };
    let standardised = |i: usize| {
        let mut x = features(i);
        for f in 0..DC {
            x[f] = (x[f] - mean[f]) / std[f];
        }
        x
    };
    let classes_present = tot.iter().filter(|&&t| t > 0.0).count();
    if classes_present < 2 {
        return Err(ModelError::Training(
            "the history needs candidates with at least two different numbers of orals (0, 1, 2)"
                .into(),
        ));
    }
    // The starting point, weights and intercept in one (DC + 1) x K matrix on this fit's
    // standardised features: a previous fit's logits when there is one.
    let start = init
        .filter(|p| p.classes.len() == classes_present)
        .map(|p| restandardise(p, &mean, &std))
        .unwrap_or_else(|| {
            // Without one, the class frequencies (the intercepts' optimum when the
            // features say nothing), not equal odds: fewer iterations for linfa.
            let logs: Vec<f64> = tot
                .iter()
                .filter(|&&t| t > 0.0)
                .map(|t| (t / nf).ln())
                .collect();
            let mean = logs.iter().sum::<f64>() / logs.len() as f64;
            let mut v = Array2::zeros((DC + 1, logs.len()));
            for (k, l) in logs.iter().enumerate() {
                v[[DC, k]] = l - mean;
            }
            v
        });
    // linfa's L-BFGS is quick only on a problem whose curvature is about the same in
    // every direction, so it is given whitened features: z = L^-1 (x, 1), with L L^T the
    // second moment of (x, 1) weighted by each candidate's curvature (the sum over classes
    // of p (1 - p) under the starting point). On the raw
    // features (points missing and their square, centre and track rates, all
    // correlated) it took hundreds of iterations. And as linfa minimises the *summed*
    // log-loss, whose curvature grows with the number of candidates, while its L-BFGS
    // starts with a unit step, z is also divided by sqrt(n): otherwise the first step
    // overshoots a million-fold at national scale and the line search spends tens of
    // evaluations coming back. The intercept is the last column of z, so linfa's own is
    // off and the prior below reaches the intercept too, which with thousands of
    // candidates changes nothing measurable.
    const DA: usize = DC + 1;
    let mut m2 = vec![0.0; DA * DA];
    let mut wsum = 0.0;
    let mut logit = vec![0.0; classes_present];
    let mut zr = [0.0; DA];
    zr[DC] = 1.0;
    // The starting point class by class, out of ndarray's checked 2-D indexing.
    let columns: Vec<[f64; DA]> = (0..classes_present)
        .map(|k| std::array::from_fn(|f| start[[f, k]]))
        .collect();
    for i in 0..n {
        zr[..DC].copy_from_slice(&standardised(i));
        for (l, v) in logit.iter_mut().zip(&columns) {
            *l = v[DC] + (0..DC).map(|f| zr[f] * v[f]).sum::<f64>();
        }
        let mx = logit.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        for l in logit.iter_mut() {
            *l = (*l - mx).exp();
        }
        let t: f64 = logit.iter().sum();
        let q: f64 = logit.iter().map(|v| v / t * (1.0 - v / t)).sum();
        wsum += q;
        for i in 0..DA {
            let qz = q * zr[i];
            for j in 0..=i {
                m2[i * DA + j] += qz * zr[j];
            }
        }
    }
    for i in 0..DA {
        for j in 0..=i {
            m2[i * DA + j] /= wsum;
            m2[j * DA + i] = m2[i * DA + j];
        }
    }
    let l = {
        cholesky(&mut m2, DA);
        m2
    };
    let c = nf.sqrt();
    z.clear();
    for i in 0..n {
        zr[..DC].copy_from_slice(&standardised(i));
        zr[DC] = 1.0;
        solve_l(&l, DA, &mut zr);
        z.extend(zr.iter().map(|v| v / c));
    }
    let za = ArrayView2::from_shape((n, DA), &z[..]).expect("shape");
    let ya = ArrayView1::from(y);
    // The objective is the summed log-loss + alpha/2 |(W, b)|^2 in the standardised
    // parameters, alpha = 1: a weak prior next to thousands of candidates. In linfa's
    // parameters that is nearly alpha / n (exactly, were L orthogonal).
    let alpha = 1.0;
    let mut params = MultiLogisticRegression::default()
        .alpha(alpha / nf)
        .with_intercept(false)
        .max_iterations(max_iterations)
        .gradient_tolerance(COUNT_TOL * c);
    // z^T (c L^T v) = (x, 1)^T v: the same logits as the starting point.
    let mut w0 = Array2::zeros((DA, classes_present));
    for k in 0..classes_present {
        for i in 0..DA {
            w0[[i, k]] = c * (i..DA).map(|r| l[r * DA + i] * start[[r, k]]).sum::<f64>();
        }
    }
    params = params.initial_params(w0);
    let ds = Dataset_::new(za, ya);
    let fitted = params
        .fit(&ds)
        .map_err(|e| ModelError::Training(format!("count model: {e}")))?;
    let ws = fitted.params();
    let classes: Vec<usize> = fitted.classes().to_vec();
    let (za, ya) = (ds.records(), ds.targets());
    // linfa does not report convergence: recompute the gradient of its objective here.
    let mut diff = za.dot(ws);
    let mut loss = 0.0;
    for (i, mut row) in diff.rows_mut().into_iter().enumerate() {
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let s: f64 = row.iter().map(|v| (v - m).exp()).sum();
        let yi = classes.iter().position(|&cl| cl == ya[i]).expect("class");
        loss -= row[yi] - m - s.ln();
        row.mapv_inplace(|v| (v - m).exp() / s);
        row[yi] -= 1.0;
    }
    let g = za.t().dot(&diff) + &(ws * (alpha / nf));
    // Gradient per candidate in the whitened parameters without the 1/sqrt(n) scaling.
    let gnorm = g.iter().map(|v| v * v).sum::<f64>().sqrt() * c / nf;
    loss += 0.5 * (alpha / nf) * ws.iter().map(|v| v * v).sum::<f64>();
    if !gnorm.is_finite() || gnorm > COUNT_ACCEPT {
        return Err(ModelError::NotConverged {
            part: "number-of-orals (linfa multinomial logistic)",
            detail: format!(
                "gradient norm per candidate {gnorm:.2e} after at most {max_iterations} iterations"
            ),
        });
    }
    // Back to the standardised features: logits = z^T W = (x, 1)^T (L^-T W / c).
    let mut weights = vec![vec![0.0; classes.len()]; DC];
    let mut intercept = vec![0.0; classes.len()];
    for k in 0..classes.len() {
        let mut col: Vec<f64> = (0..DA).map(|f| ws[[f, k]] / c).collect();
        solve_lt(&l, DA, &mut col);
        for f in 0..DC {
            weights[f][k] = col[f];
        }
        intercept[k] = col[DC];
    }
    Ok(CountModel {
        features: COUNT_FEATURES.iter().map(|s| s.to_string()).collect(),
        scale_mean: mean,
        scale_std: std,
        classes,
        intercept,
        weights,
        overall_rates: overall,
        center_rates,
        track_rates,
        fit: FitReport {
            method: format!(
                "linfa-logistic multinomial on whitened features, L-BFGS, alpha {alpha}"
            ),
            iterations: None,
            final_gradient_norm: gnorm,
            objective: loss / nf,
            termination: "gradient checked after the fit".into(),
        },
    })
}

type Dataset_<'a> = linfa::DatasetBase<ArrayView2<'a, f64>, ArrayView1<'a, usize>>;

/// `prev`'s weights (rows 0..DC) and intercept (row DC) for features standardised by
/// `mean` and `std` instead of its own scaling: the same logits on the raw features.
fn restandardise(prev: &CountModel, mean: &[f64], std: &[f64]) -> Array2<f64> {
    let k = prev.classes.len();
    let mut out = Array2::zeros((DC + 1, k));
    for j in 0..k {
        // Logit = b0 + sum_f a_f x_f on the raw features.
        let a: Vec<f64> = (0..DC)
            .map(|f| prev.weights[f][j] / prev.scale_std[f])
            .collect();
        let b0 = prev.intercept[j] - (0..DC).map(|f| a[f] * prev.scale_mean[f]).sum::<f64>();
        for f in 0..DC {
            out[[f, j]] = a[f] * std[f];
        }
        out[[DC, j]] = b0 + (0..DC).map(|f| a[f] * mean[f]).sum::<f64>();
    }
    out
}

/// Expected count, its variance under independent candidates, and the actual count.
type Tally = [f64; 3];

/// Adds the (session, subject) and (session, centre, subject) tallies of `data` under
/// `model`.
fn tally(
    model: &Model,
    data: Part<'_>,
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

/// Method of moments: the relative variance `r` such that, summed over groups,
/// (actual - expected)^2 = variance + extra + r expected^2.
fn moment<'a>(it: impl Iterator<Item = &'a Tally>, extra: impl Fn(f64) -> f64) -> f64 {
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

/// Fits the model, then estimates how far whole subjects (and cells) move from one
/// session to the next beyond what independent candidates explain.
///
/// With three sessions or more, each session from the third on is first forecast from
/// the sessions before it, as a real forecast would be (rolling origin), so the drift
/// also carries the model's own out-of-sample error; each of those fits starts from the
/// previous one's parameters, and the final fit from the last, which saves most of their
/// cost. With fewer sessions, in-sample residuals per session are used, scaled up by
/// S / (S - 1).
pub fn train(data: &Dataset, opts: &FitOptions) -> Result<Model, ModelError> {
    // [`Part`] needs the candidates in session order, as `input` leaves them.
    let sorted;
    let data = if data.candidates.is_sorted_by_key(|c| c.session) {
        data
    } else {
        let mut d = data.clone();
        d.candidates.sort_by_key(|c| c.session);
        sorted = d;
        &sorted
    };
    let sessions: Vec<i32> = data.sessions().keys().copied().collect();
    let mut subj = BTreeMap::new();
    let mut cell = BTreeMap::new();
    let all = Part::sessions(data, ..);
    let mut last = None;
    let (scale, method) = if sessions.len() >= 3 {
        let origins = &sessions[2..];
        let parts: Vec<Part> = origins
            .iter()
            .map(|&s| Part::sessions(data, ..s))
            .chain([all])
            .collect();
        fit_chain(&parts, opts, |i, m| match origins.get(i) {
            Some(&s) => tally(&m, Part::sessions(data, s..=s), &mut subj, &mut cell),
            None => last = Some(m),
        })?;
        let method = format!(
            "rolling origin: sessions {} each forecast from the sessions before it",
            origins
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        (1.0, method)
    } else {
        fit_chain(&[all], opts, |_, m| {
            tally(&m, all, &mut subj, &mut cell);
            last = Some(m);
        })?;
        let n = sessions.len() as f64;
        let scale = if n > 1.0 { n / (n - 1.0) } else { 1.0 };
        let method = "in-sample residuals per session (fewer than three sessions)".to_string();
        (scale, method)
    };
    let mut model = last.expect("the chain ends with the fit on every session");
    let subject_rel_var = scale * moment(subj.values(), |_| 0.0);
    let cell_rel_var = scale * moment(cell.values(), |e| subject_rel_var / scale * e * e);
    model.drift = Drift {
        subject_rel_var,
        cell_rel_var,
        method,
    };
    Ok(model)
}

/// Fits the subject and count models on each of `parts` in turn, each fit starting from
/// the previous one, and hands each part's model (without the drift) to `each`, in
/// order.
///
/// The count models (linfa, one thread) form their own chain beside the subject models
/// (whose evaluations use every core): the two chains only meet when a part's model is
/// assembled, so neither waits for the other's slower fits.
fn fit_chain(
    parts: &[Part<'_>],
    opts: &FitOptions,
    mut each: impl FnMut(usize, Model),
) -> Result<(), ModelError> {
    for p in parts {
        if p.candidates.is_empty() {
            return Err(ModelError::Training(
                "the history holds no candidate in the average band".into(),
            ));
        }
        if p.candidates.iter().any(|c| c.n_chosen().is_none()) {
            return Err(ModelError::Training(
                "every history row needs 'chosen' (1 or 0)".into(),
            ));
        }
    }
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::channel();
        scope.spawn(move || {
            // Every part's candidates are the first of the longest part's (see [`Part`]).
            let longest = parts.iter().map(|p| p.candidates).max_by_key(|c| c.len());
            let longest = longest.unwrap_or_default();
            assert!(parts
                .iter()
                .all(|p| std::ptr::eq(p.candidates.as_ptr(), longest.as_ptr())));
            let mut inputs = CountInputs::new(longest);
            let mut prev: Option<CountModel> = None;
            for p in parts {
                let fitted = fit_count(*p, &mut inputs, opts.max_iterations, prev.as_ref());
                let failed = fitted.is_err();
                if let Ok(c) = &fitted {
                    prev = Some(c.clone());
                }
                // A closed channel means the subject chain failed: stop too.
                if tx.send(fitted).is_err() || failed {
                    return;
                }
            }
        });
        // One core is the count chain's: the subject model's evaluations take the others
        // (chunked the same way whatever the number of threads, so the sums, and the
        // model, do not depend on it).
        let threads = crate::parallel::cores().max(2) - 1;
        let mut theta: Option<Vec<f64>> = None;
        for (i, p) in parts.iter().enumerate() {
            let weights = session_weights(*p, opts);
            let (choice, t) = fit_choice(*p, opts, &weights, theta.as_deref(), threads)?;
            let count = rx.recv().expect("the count-model thread sends every fit")?;
            each(i, assemble(*p, opts, choice, count));
            theta = Some(t);
        }
        Ok(())
    })
}

/// One part's model from its two fits, without the drift.
fn assemble(data: Part<'_>, opts: &FitOptions, choice: ChoiceModel, count: CountModel) -> Model {
    let mut subjects: Vec<SubjectInfo> = data
        .names
        .subjects
        .iter()
        .map(|s| SubjectInfo {
            code: s.clone(),
            eligible: 0,
            chosen: 0,
        })
        .collect();
    for c in data.candidates {
        for s in &c.subjects {
            let i = &mut subjects[s.subject as usize];
            i.eligible += 1;
            i.chosen += usize::from(s.chosen == Some(true));
        }
    }
    Model {
        training: TrainingInfo {
            sessions: sessions_of(data.candidates),
            candidates: data.candidates.len(),
            rows: data.candidates.iter().map(|c| c.subjects.len()).sum(),
            options: opts.clone(),
        },
        subjects,
        centers: data.names.centers.clone(),
        tracks: data.names.tracks.clone(),
        choice,
        count,
        drift: Drift {
            subject_rel_var: 0.0,
            cell_rel_var: 0.0,
            method: String::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (f(x + h e_i) - f(x - h e_i)) / 2h.
    fn central_difference(f: impl Fn(&[f64]) -> f64, x: &[f64], i: usize, h: f64) -> f64 {
        let mut up = x.to_vec();
        up[i] += h;
        let mut dn = x.to_vec();
        dn[i] -= h;
        (f(&up) - f(&dn)) / (2.0 * h)
    }

    #[test]
    fn pl_gradient_matches_finite_differences() {
        let u = [0.3, -1.2, 0.8, 2.0];
        for chosen in [&[1u32][..], &[0, 2], &[3, 1], &[2]] {
            let (_, g) = pl_loglik(&u, chosen);
            for (k, gk) in g.iter().enumerate() {
                let fd = central_difference(|x| pl_loglik(x, chosen).0, &u, k, 1e-6);
                assert!(
                    (fd - gk).abs() < 1e-7,
                    "chosen {chosen:?} k {k}: {fd} vs {gk}"
                );
            }
        }
    }

    /// The whole objective (likelihood through features, subject effects, centre and
    /// track slopes, priors) against central finite differences.
    #[test]
    fn objective_gradient_matches_finite_differences() {
        let cd = small_choice_data(true);
        let theta = test_point(&cd);
        let (_, g) = cd.objective(&theta);
        for (i, gi) in g.iter().enumerate() {
            let fd = central_difference(|x| cd.objective(x).0, &theta, i, 1e-6);
            assert!(
                (fd - gi).abs() < 1e-7,
                "parameter {i}: finite difference {fd}, analytic {gi}"
            );
        }
    }

    /// Five candidates, two centres, two tracks, three subjects; with `pairs`, every
    /// other candidate took two orals, else each took one.
    fn small_choice_data(pairs: bool) -> ChoiceData {
        let n_subjects = 3;
        let mut cd = ChoiceData::empty([n_subjects, 2, 2], [0.7, 2.0, 0.01]);
        for k in 0..5usize {
            let rows = 2 + k % 2;
            for r in 0..rows {
                for f in 0..D {
                    cd.x.push(((k * 7 + r * 3 + f) % 11) as f64 / 5.0 - 1.0);
                }
                cd.subject.push(((k + r) % n_subjects) as u32);
            }
            cd.start.push(cd.subject.len());
            cd.center.push((k % 2) as u32);
            cd.track.push(((k / 2) % 2) as u32);
            cd.chosen.push([(rows - 1) as u32, 0]);
            cd.n_chosen.push(1 + u8::from(pairs && k % 2 == 1));
            cd.weight.push(0.5 + k as f64 / 4.0);
        }
        cd.total_weight = cd.weight.iter().sum();
        cd
    }

    fn test_point(cd: &ChoiceData) -> Vec<f64> {
        (0..cd.n_params())
            .map(|i| ((i * 37) % 13) as f64 / 10.0 - 0.6)
            .collect()
    }

    /// With one oral per candidate the preconditioner's curvature is the exact Hessian,
    /// so in preconditioned coordinates the Hessian is the identity: T^T H T e_i = e_i,
    /// with H v from finite differences of the analytic gradient. This checks the
    /// Hessian's blocks and the block-arrow factorisation together.
    #[test]
    fn preconditioned_hessian_is_the_identity_for_single_orals() {
        let cd = small_choice_data(false);
        let theta = test_point(&cd);
        let pre = cd.preconditioner(&theta);
        let np = cd.n_params();
        for i in 0..np {
            let mut e = vec![0.0; np];
            e[i] = 1.0;
            let v = pre.apply(&e, false);
            let h = 1e-5;
            let at = |s: f64| {
                let x: Vec<f64> = theta.iter().zip(&v).map(|(t, d)| t + s * d).collect();
                cd.objective(&x).1
            };
            let (gp, gm) = (at(h), at(-h));
            let hv: Vec<f64> = gp
                .iter()
                .zip(&gm)
                .map(|(a, b)| (a - b) / (2.0 * h))
                .collect();
            let back = pre.apply(&hv, true);
            for (j, b) in back.iter().enumerate() {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!(
                    (b - want).abs() < 1e-5,
                    "column {i}, row {j}: {b} instead of {want}"
                );
            }
        }
    }

    /// Far from the optimum a line search tries utilities hundreds apart; the pair
    /// likelihood once returned +inf there (1 / (W - w_a) with W - w_a underflowing),
    /// which L-BFGS took for a perfect fit and followed to infinity.
    #[test]
    fn regression_pair_likelihood_stays_finite_when_one_subject_dominates() {
        for u in [[800.0, 0.0, 0.0], [0.0, -900.0, -900.0], [1e4, 1.0, -1e4]] {
            // The dominant subject is among the chosen: W - w_0 underflows.
            let (ll, g) = pl_loglik(&u, &[0, 1]);
            assert!(ll.is_finite() && ll <= 1e-9, "{u:?}: log-likelihood {ll}");
            assert!(g.iter().all(|v| v.is_finite()), "{u:?}: gradient {g:?}");
        }
    }

    #[test]
    fn pl_pair_probability_matches_enumeration() {
        let u = [0.3f64, -1.2, 0.8, 2.0];
        let w: Vec<f64> = u.iter().map(|v| v.exp()).collect();
        let tot: f64 = w.iter().sum();
        let p01 = w[0] / tot * w[1] / (tot - w[0]) + w[1] / tot * w[0] / (tot - w[1]);
        let (ll, _) = pl_loglik(&u, &[0, 1]);
        assert!((ll.exp() - p01).abs() < 1e-12);
    }

    /// Inclusion probabilities against brute-force enumeration of ordered picks.
    #[test]
    fn inclusion_matches_enumeration_of_ordered_picks() {
        let u = [0.1f64, -0.7, 1.3, 0.4, -2.0];
        let pi = [0.1, 0.3, 0.6];
        let w: Vec<f64> = u.iter().map(|v| v.exp()).collect();
        let tot: f64 = w.iter().sum();
        let mut expect = vec![0.0; u.len()];
        for a in 0..u.len() {
            expect[a] += pi[1] * w[a] / tot;
            for b in 0..u.len() {
                if a != b {
                    let p = pi[2] * w[a] / tot * w[b] / (tot - w[a]);
                    expect[a] += p;
                    expect[b] += p;
                }
            }
        }
        let got = inclusion_probabilities(pi, &u);
        for (g, e) in got.iter().zip(&expect) {
            assert!((g - e).abs() < 1e-12, "{g} vs {e}");
        }
        let sum: f64 = got.iter().sum();
        assert!((sum - (pi[1] + 2.0 * pi[2])).abs() < 1e-12);
    }

    #[test]
    fn inclusion_stays_in_bounds_when_one_subject_dominates() {
        let got = inclusion_probabilities([0.0, 0.0, 1.0], &[40.0, 0.0, -1.0]);
        assert!(
            got.iter().all(|p| (0.0..=1.0 + 1e-12).contains(p)),
            "{got:?}"
        );
        assert!((got[0] - 1.0).abs() < 1e-9);
        assert!((got.iter().sum::<f64>() - 2.0).abs() < 1e-9);
    }
}
