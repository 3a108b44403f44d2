//! Model: the choice model's types, its fitting and its persistence.
//!
//! Two parts, both from the multinomial logistic family:
//! - a **count model** (how many orals: 0 = no-show, 1 or 2), a multinomial logistic
//!   regression fitted with linfa-logistic on candidate-level features ([`count`]);
//! - a **subject model**, a conditional logit over the candidate's eligible subjects in
//!   which the orals are drawn one after the other without replacement (Plackett-Luce
//!   with at most two picks). linfa cannot express that likelihood, so it is written
//!   out with its analytic gradient and minimised with argmin's L-BFGS ([`choice`]).
//!
//! The inclusion probability of a subject mixes both ([`predict`]): P(1 oral) x P(first
//! pick) + P(2 orals) x P(first or second pick). Per candidate the probabilities
//! therefore sum to the expected number of orals. [`features`] turns a candidate into
//! both parts' features, [`drift`] measures how far whole subjects move between
//! sessions, [`fits`] fits both parts on a history's first sessions, [`select`]
//! chooses the settings by rolling origin, [`mixture`] and [`local`] are the structures
//! it may add, [`train`] runs the whole training in order, and [`file`] writes and checks the model
//! file, which holds names of centres, tracks and subjects and fitted parameters, never a
//! candidate id or a per-candidate value.

mod choice;
mod count;
mod drift;
mod features;
mod file;
mod fits;
mod local;
mod marks;
mod mixture;
mod predict;
mod replay;
mod select;
mod train;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// For the fuzz targets, which edit model numbers and recompute the checksum.
#[cfg(any(test, feature = "fuzz"))]
pub(crate) use file::checksum;
pub(crate) use train::train;

pub(crate) const FORMAT: &str = "bacpredict-model";
pub(crate) const FORMAT_VERSION: u32 = 4;
/// Format versions this build reads: 2 has no replayed sessions, relative marks or rule
/// kinds, 3 neither the learnt rule nor the count features of how far the best rooms
/// go; their absence is read as what it meant then. A build that reads 2 only refuses
/// a 3, which it would misread (relative marks taken as raw), and one that reads 3
/// refuses a 4.
pub(crate) const READS_VERSIONS: [u32; 3] = [2, 3, 4];

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read model file {path}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a valid bacpredict model (truncated or not JSON?): {detail}")]
    Corrupt { path: String, detail: String },
    #[error("{path} is a model of format version {found}; this bacpredict (version {tool}) reads format versions 2 to {FORMAT_VERSION}: retrain with `bacpredict train`")]
    Version {
        path: String,
        found: u64,
        tool: &'static str,
    },
    #[error(
        "{path} was modified after training (checksum mismatch): retrain with `bacpredict train`"
    )]
    Checksum { path: String },
    /// The history cannot be learnt from (no candidate, no oral, one class only): the
    /// user's data, exit 2.
    #[error("cannot train: {0}")]
    Data(String),
    /// The optimiser itself failed: not the user's doing, exit 1.
    #[error("cannot train: the optimiser failed: {0}")]
    Optimiser(String),
    #[error("the {part} fit did not converge: {detail}")]
    NotConverged { part: &'static str, detail: String },
    /// Training was asked for a setting out of range.
    #[error("cannot train with {0}")]
    Settings(String),
}

impl ModelError {
    /// Whether the user's input is at fault (a missing, damaged or foreign model file, a
    /// history that cannot be learnt from): exit 2, else exit 1.
    pub(crate) fn is_bad_input(&self) -> bool {
        match self {
            ModelError::Io { .. }
            | ModelError::Corrupt { .. }
            | ModelError::Version { .. }
            | ModelError::Checksum { .. }
            | ModelError::Data(_)
            | ModelError::Settings(_) => true,
            ModelError::Optimiser(_) | ModelError::NotConverged { .. } => false,
        }
    }
}

/// One concrete setting of the fits: what a fit takes and what a model records it was
/// fitted with. The settings search ([`select`]) moves from one to the next.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Setting {
    /// Half-life of a session's weight in the subject model, in sessions; `None` weights
    /// every session equally.
    pub(crate) half_life: Option<f64>,
    /// Prior standard deviation of subject effects (logit scale).
    pub(crate) subject_sd: f64,
    /// Prior standard deviation of centre and track slopes (logit scale).
    pub(crate) slope_sd: f64,
    pub(crate) max_iterations: u64,
    /// Whether the subject model is a mixture with a class choosing by marks alone.
    pub(crate) rule_class: bool,
    /// The rule that class follows.
    #[serde(default, skip_serializing_if = "Rule::is_lowest_mark")]
    pub(crate) rule: Rule,
    /// Prior standard deviation of subject trends, per session (logit scale); `None`
    /// leaves them out.
    pub(crate) trend_sd: Option<f64>,
    /// Standard deviation of a subject's step from one session to the next when its
    /// taste wanders as a random walk (logit scale); `None` leaves the walk out. An
    /// alternative to `trend_sd`: the two are not combined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) walk_sd: Option<f64>,
    /// Prior strength of the (centre, subject) effects, in orals; `None` leaves them out.
    pub(crate) center_subject: Option<f64>,
    /// Whether marks are read against their session's marks in the subject ([`marks`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) relative_marks: bool,
}

/// How past sessions weigh in the subject model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum HalfLife {
    /// Chosen on the history by rolling origin ([`select`]) among none (every session
    /// the same), 2 and 1; none when the history is too short to validate anything.
    Choose,
    /// A session `h` sessions older than the last weighs half as much (`--half-life`).
    Fixed(f64),
}

/// Whether `train` chooses the slope prior and the structures it may add (the class
/// choosing by marks, subject trends, (centre, subject) effects) on the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Priors {
    Choose,
    /// The starting setting's, without the added structures. No option asks for it: a
    /// test uses it to watch the half-life's choice alone.
    #[cfg_attr(not(test), allow(dead_code))]
    Fixed,
}

/// What `train` is asked for: what it may choose on the history, and the starting
/// setting of what it does not. Each part has one meaning, so no combination of fields
/// contradicts another; [`FitOptions::check`] refuses values out of range, as linfa's
/// hyperparameter checks do, whoever built the options.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FitOptions {
    pub(crate) half_life: HalfLife,
    pub(crate) priors: Priors,
    /// Prior standard deviation of subject effects (logit scale).
    pub(crate) subject_sd: f64,
    /// Starting prior standard deviation of centre and track slopes (logit scale).
    pub(crate) slope_sd: f64,
    /// Iteration budget of each optimiser; a fit that needs more is an error.
    pub(crate) max_iterations: u64,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            half_life: HalfLife::Choose,
            priors: Priors::Choose,
            subject_sd: 1.5,
            slope_sd: 0.5,
            max_iterations: 500,
        }
    }
}

/// The longest half-life accepted, in sessions: far beyond any history.
pub(crate) const MAX_HALF_LIFE: f64 = 1000.0;
/// The largest iteration budget accepted.
pub(crate) const MAX_ITERATIONS: u64 = 100_000;

impl FitOptions {
    /// An error naming the first value out of range.
    pub(crate) fn check(&self) -> Result<(), ModelError> {
        let bad = |what: String| Err(ModelError::Settings(what));
        if let HalfLife::Fixed(h) = self.half_life {
            if !(h > 0.0 && h <= MAX_HALF_LIFE) {
                return bad(format!(
                    "a half-life of {h} sessions (expected more than 0 and at most {MAX_HALF_LIFE})"
                ));
            }
        }
        for (name, sd) in [("subject", self.subject_sd), ("slope", self.slope_sd)] {
            if !(sd > 0.0 && sd.is_finite()) {
                return bad(format!(
                    "a {name} prior sd of {sd} (expected a positive number)"
                ));
            }
        }
        if !(1..=MAX_ITERATIONS).contains(&self.max_iterations) {
            return bad(format!(
                "{} iterations (expected 1 to {MAX_ITERATIONS})",
                self.max_iterations
            ));
        }
        Ok(())
    }

    /// The setting the search starts from (and the one used when there is nothing to
    /// validate on): the plainest, with the half-life given or none.
    pub(crate) fn start(&self) -> Setting {
        Setting {
            half_life: match self.half_life {
                HalfLife::Fixed(h) => Some(h),
                HalfLife::Choose => None,
            },
            subject_sd: self.subject_sd,
            slope_sd: self.slope_sd,
            max_iterations: self.max_iterations,
            rule_class: false,
            rule: Rule::LowestMark,
            trend_sd: None,
            walk_sd: None,
            center_subject: None,
            relative_marks: false,
        }
    }
}

/// What the model file says of its setting: the setting, and whether `train` chose the
/// half-life and the priors on the history or was given them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Recorded {
    #[serde(flatten)]
    pub(crate) setting: Setting,
    pub(crate) choose_half_life: bool,
    pub(crate) choose_priors: bool,
}

impl Recorded {
    pub(crate) fn new(setting: &Setting, asked: &FitOptions) -> Recorded {
        Recorded {
            setting: setting.clone(),
            choose_half_life: asked.half_life == HalfLife::Choose,
            choose_priors: asked.priors == Priors::Choose,
        }
    }
}

/// One setting tried by the rolling-origin selection and what it scored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Trial {
    pub(crate) half_life: Option<f64>,
    pub(crate) slope_sd: f64,
    pub(crate) rule_class: bool,
    #[serde(default, skip_serializing_if = "Rule::is_lowest_mark")]
    pub(crate) rule: Rule,
    pub(crate) trend_sd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) walk_sd: Option<f64>,
    pub(crate) center_subject: Option<f64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) relative_marks: bool,
    /// Mean log-loss of the inclusion probabilities on the held-out sessions.
    pub(crate) log_loss: f64,
}

/// The settings tried at train time, each judged on the sessions it did not see.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Selection {
    /// The held-out sessions, each forecast from the sessions before it.
    pub(crate) validated_on: Vec<i32>,
    pub(crate) trials: Vec<Trial>,
    /// Index in `trials` of the setting the model was fitted with.
    pub(crate) chosen: usize,
}

/// Shares of candidates with 0 and with 2 orals, shrunk towards the académie-wide shares
/// so that a small centre is not judged on a handful of candidates.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub(crate) struct Rates {
    pub(crate) no_show: f64,
    pub(crate) two_orals: f64,
}

/// Convergence report of one fit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct FitReport {
    pub(crate) method: String,
    pub(crate) iterations: Option<u64>,
    /// Euclidean norm of the gradient of the mean objective at the solution.
    pub(crate) final_gradient_norm: f64,
    pub(crate) objective: f64,
    pub(crate) termination: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct ChoiceModel {
    pub(crate) features: Vec<String>,
    pub(crate) slope_features: Vec<String>,
    pub(crate) scale_mean: Vec<f64>,
    pub(crate) scale_std: Vec<f64>,
    pub(crate) beta: Vec<f64>,
    /// Effect of each subject in [`Model::subjects`] order.
    pub(crate) subject_effects: Vec<f64>,
    /// Per centre in [`Model::centers`] order, one slope per slope feature.
    pub(crate) center_slopes: Vec<Vec<f64>>,
    pub(crate) track_slopes: Vec<Vec<f64>>,
    /// Per centre in [`Model::centers`] order, one effect per subject in
    /// [`Model::subjects`] order; empty when the selection left them out ([`local`]).
    pub(crate) center_subject: Vec<Vec<f64>>,
    /// Per subject in [`Model::subjects`] order, the shift that carries its trend (or
    /// its random walk's level) to the next session; empty when the selection left both
    /// out ([`local::trends`], [`local::walks`]).
    pub(crate) subject_trend: Vec<f64>,
    /// The class of candidates who choose by their marks alone, when the selection kept
    /// it ([`mixture`]).
    pub(crate) rule: Option<RuleClass>,
    pub(crate) fit: FitReport,
}

/// A latent class of candidates who choose by a rule of their marks: utility
/// `sharpness * score`, the score of [`Rule`], or for a learnt rule
/// `sharpness * (-mark) + points * points to recover`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub(crate) struct RuleClass {
    /// Share of the candidates in the class.
    pub(crate) share: f64,
    pub(crate) sharpness: f64,
    #[serde(default, skip_serializing_if = "Rule::is_lowest_mark")]
    pub(crate) rule: Rule,
    /// A learnt rule's weight on the points to recover (0 for the two stated rules).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) points: f64,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

/// The rules a class may follow, the data choosing among them ([`select`]).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Rule {
    /// "Retake your worst marks": score `-mark`, per point.
    #[default]
    LowestMark,
    /// The official advice, the lowest marks at the highest coefficients: score the
    /// points the oral could add, `coefficient x (20 - mark) / 16` (per point of a
    /// coefficient-16 spécialité, the scale of the other rule).
    MostPoints,
    /// Both scores, each with a weight the data give: a rule nobody stated, between the
    /// two (or beyond either) where the class follows neither exactly.
    Learnt,
}

impl Rule {
    fn is_lowest_mark(&self) -> bool {
        *self == Rule::LowestMark
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct CountModel {
    pub(crate) features: Vec<String>,
    pub(crate) scale_mean: Vec<f64>,
    pub(crate) scale_std: Vec<f64>,
    /// Number of orals each class stands for.
    pub(crate) classes: Vec<usize>,
    pub(crate) intercept: Vec<f64>,
    /// `weights[feature][class]`.
    pub(crate) weights: Vec<Vec<f64>>,
    pub(crate) overall_rates: Rates,
    pub(crate) center_rates: Vec<Rates>,
    pub(crate) track_rates: Vec<Rates>,
    pub(crate) fit: FitReport,
}

/// Session-to-session spread that independent candidates do not explain. A count with
/// expectation E varies by an extra `rel_var * E^2`, and a cell by a further
/// `cell_linear * E` (see [`drift`]).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Drift {
    /// Common to a subject across all centres (tastes, exam difficulty), académie-wide.
    pub(crate) subject_rel_var: f64,
    /// Per subject in [`Model::subjects`] order, shrunk towards `subject_rel_var`.
    pub(crate) subject_rel_vars: Vec<f64>,
    /// Left at the (centre, subject) level once the subject's drift is accounted for:
    /// relative (`* E^2`) and linear (`* E`, which weighs most in small cells).
    pub(crate) cell_rel_var: f64,
    pub(crate) cell_linear: f64,
    pub(crate) method: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct SubjectInfo {
    pub(crate) code: String,
    pub(crate) eligible: usize,
    pub(crate) chosen: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct TrainingInfo {
    /// Candidates per session.
    pub(crate) sessions: BTreeMap<i32, usize>,
    pub(crate) candidates: usize,
    pub(crate) rows: usize,
    /// The setting the model was fitted with, and what was chosen on the history.
    pub(crate) options: Recorded,
    /// How they were chosen; `None` when the history has a single session or
    /// nothing was left to choose.
    pub(crate) selection: Option<Selection>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Model {
    pub(crate) training: TrainingInfo,
    pub(crate) subjects: Vec<SubjectInfo>,
    pub(crate) centers: Vec<String>,
    pub(crate) tracks: Vec<String>,
    pub(crate) choice: ChoiceModel,
    pub(crate) count: CountModel,
    pub(crate) drift: Drift,
    /// Per subject in [`Model::subjects`] order, the reference its marks are read
    /// against ([`marks`]); empty unless the selection kept relative marks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) mark_reference: Vec<Option<f64>>,
    /// The held-out sessions as the rolling origin forecast them, for `forecast` to
    /// check and calibrate its promise on ([`replay`]); empty when nothing was held out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) replays: Vec<Replay>,
}

/// One held-out session as the chosen setting forecast it from the sessions before it:
/// per cell, what the plan rule needs to be replayed on it and what really happened.
/// Aggregates of cells only, without their centre: no candidate can be told apart.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Replay {
    pub(crate) session: i32,
    /// The slot unit of `cells`, the history's ([`crate::data::SlotKind::code`]).
    pub(crate) slots: String,
    pub(crate) cells: Vec<ReplayCell>,
    /// The same orals per (centre, subject) over the whole period, when `cells` are by
    /// day or half-day: a whole-period plan replays on these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) period: Vec<ReplayCell>,
    /// The drift estimated from the other held-out sessions: the calibration widens this
    /// session's cells by it, so that no session judges a widening it helped estimate.
    pub(crate) drift: Drift,
}

/// One cell of a [`Replay`]: its subject (index in [`Model::subjects`]), the number of
/// eligible candidates, the sum of their probabilities and of their Bernoulli variances
/// (`p (1 - p)`), and the orals taken. Written as one line of text, `"subject eligible
/// expected variance actual"`, so that a model keeps a few lines per cell rather than
/// seven.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(try_from = "String", into = "String")]
pub(crate) struct ReplayCell {
    pub(crate) subject: u32,
    pub(crate) eligible: u32,
    pub(crate) expected: f64,
    pub(crate) variance: f64,
    pub(crate) actual: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The library refuses what clap would, so options built elsewhere (a test, the
    /// fuzzer, a later command) cannot train with a contradiction or a value out of range.
    #[test]
    fn fit_options_check_their_ranges() {
        assert!(FitOptions::default().check().is_ok());
        let bad = [
            FitOptions {
                half_life: HalfLife::Fixed(0.0),
                ..FitOptions::default()
            },
            FitOptions {
                half_life: HalfLife::Fixed(f64::NAN),
                ..FitOptions::default()
            },
            FitOptions {
                slope_sd: -1.0,
                ..FitOptions::default()
            },
            FitOptions {
                max_iterations: 0,
                ..FitOptions::default()
            },
        ];
        for o in bad {
            let e = o.check().unwrap_err();
            assert!(e.is_bad_input(), "{e}");
        }
        // A half-life given is the one the search starts from and keeps.
        let given = FitOptions {
            half_life: HalfLife::Fixed(2.0),
            ..FitOptions::default()
        };
        assert_eq!(given.start().half_life, Some(2.0));
        let rec = Recorded::new(&given.start(), &given);
        assert!(!rec.choose_half_life && rec.choose_priors);
    }
}
