//! File: the model as versioned JSON with a checksum, and the checks that make a damaged,
//! edited or foreign file a clear error (exit 2) instead of wrong numbers.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::features::{
    ADDED_IN_FORMAT_4, CHOICE_FEATURES, COUNT_FEATURES, N_COUNT, N_DENSE, N_OWN, N_SLOPES,
};
use super::{CountModel, Model, ModelError, FORMAT, FORMAT_VERSION, READS_VERSIONS};
use crate::data::SlotKind;
use crate::shown::escape_controls;

#[derive(Serialize, Deserialize)]
struct ModelFile {
    pub(crate) format: String,
    pub(crate) format_version: u32,
    pub(crate) tool_version: String,
    pub(crate) checksum: String,
    pub(crate) model: serde_json::Value,
}

/// FNV-1a: enough to notice a hand edit or a cut; this is not a security boundary.
pub(crate) fn checksum(text: &str) -> String {
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
    pub(crate) fn to_json(&self) -> String {
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

    pub(crate) fn from_json(text: &str, path: &Path) -> Result<Model, ModelError> {
        let p = path.display().to_string();
        // serde quotes what it could not read, which in an edited file can be megabytes.
        let corrupt = |detail: String| ModelError::Corrupt {
            path: p.clone(),
            detail: escape_controls(&detail, 200),
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
        if !READS_VERSIONS.iter().any(|&v| u64::from(v) == found) {
            return Err(ModelError::Version {
                path: p,
                found,
                tool: env!("CARGO_PKG_VERSION"),
            });
        }
        let file: ModelFile = serde_json::from_value(head).map_err(|e| corrupt(e.to_string()))?;
        let canonical = serde_json::to_string(&file.model).map_err(|e| corrupt(e.to_string()))?;
        if checksum(&canonical) != file.checksum {
            return Err(ModelError::Checksum { path: p });
        }
        let mut model: Model =
            serde_json::from_value(file.model).map_err(|e| corrupt(e.to_string()))?;
        if found < 4 {
            model.count.add_format_4_features();
        }
        model.validate().map_err(corrupt)?;
        Ok(model)
    }

    pub(crate) fn load(path: &Path) -> Result<Model, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|source| ModelError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Model::from_json(&text, path)
    }

    /// Every array's length against the names and features the model holds, and every
    /// number finite and in a plausible range, whatever the checksum says: a file edited
    /// with its checksum recomputed must not crash the forecast or write NaN.
    pub(crate) fn validate(&self) -> Result<(), String> {
        self.check_shapes()?;
        let (ch, co) = (&self.choice, &self.count);
        let params = ch
            .beta
            .iter()
            .chain(&ch.subject_effects)
            .chain(ch.center_slopes.iter().chain(&ch.track_slopes).flatten())
            .chain(ch.center_subject.iter().flatten())
            .chain(&ch.subject_trend)
            .chain(&co.intercept)
            .chain(co.weights.iter().flatten());
        check_all(params, "a parameter", -MAX_PARAMETER, MAX_PARAMETER)?;
        let means = ch.scale_mean.iter().chain(&co.scale_mean);
        check_all(means, "a feature mean", -MAX_SCALE, MAX_SCALE)?;
        let stds = ch.scale_std.iter().chain(&co.scale_std);
        check_all(stds, "a feature scale", 1.0 / MAX_SCALE, MAX_SCALE)?;
        let rates = std::iter::once(&co.overall_rates)
            .chain(&co.center_rates)
            .chain(&co.track_rates)
            .flat_map(|r| [&r.no_show, &r.two_orals]);
        check_all(rates, "a rate", 0.0, 1.0)?;
        let rule = ch.rule.iter();
        check_all(
            rule.clone().map(|r| &r.share),
            "the rule class's share",
            0.0,
            1.0,
        )?;
        check_all(
            rule.clone().map(|r| &r.sharpness),
            "the rule class's sharpness",
            -100.0,
            100.0,
        )?;
        check_all(
            rule.map(|r| &r.points),
            "the rule class's weight on points",
            -100.0,
            100.0,
        )?;
        for d in std::iter::once(&self.drift).chain(self.replays.iter().map(|r| &r.drift)) {
            let drift = [&d.subject_rel_var, &d.cell_rel_var, &d.cell_linear];
            let drift = drift.into_iter().chain(&d.subject_rel_vars);
            check_all(drift, "a drift variance", 0.0, MAX_DRIFT)?;
        }
        let trials = self.training.selection.iter().flat_map(|s| &s.trials);
        let losses = trials.clone().map(|t| &t.log_loss);
        check_all(losses, "a validation log-loss", 0.0, 100.0)?;
        let priors = trials
            .map(|t| &t.slope_sd)
            .chain([&self.training.options.setting.slope_sd]);
        check_all(priors, "a prior standard deviation", 1e-3, 1e3)?;
        self.check_replays()
    }

    /// The replayed sessions: a slot unit the tool knows, cells within their subject
    /// table and counts.
    fn check_replays(&self) -> Result<(), String> {
        let kinds = [SlotKind::Period, SlotKind::Day, SlotKind::HalfDay];
        for r in &self.replays {
            if !kinds.iter().any(|k| k.code() == r.slots) {
                return Err(format!(
                    "a replayed session's slots '{}' (expected period, day or half_day)",
                    escape_controls(&r.slots, 40)
                ));
            }
            for c in r.cells.iter().chain(&r.period) {
                c.check(self.subjects.len(), self.training.candidates)?;
            }
        }
        Ok(())
    }

    fn check_shapes(&self) -> Result<(), String> {
        let (ch, co) = (&self.choice, &self.count);
        let k = co.classes.len();
        let names =
            |a: &[String], b: &[&str]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y);
        let mut seen = [false; 3];
        let classes_ok = (2..=3).contains(&k)
            && co
                .classes
                .iter()
                .all(|&c| c < 3 && !std::mem::replace(&mut seen[c], true));
        let ok = names(&ch.features, &CHOICE_FEATURES)
            && names(&co.features, &COUNT_FEATURES)
            && ch.beta.len() == N_DENSE
            && ch.scale_mean.len() == N_DENSE
            && ch.scale_std.len() == N_DENSE
            && ch.subject_effects.len() == self.subjects.len()
            && ch.center_slopes.len() == self.centers.len()
            && ch.track_slopes.len() == self.tracks.len()
            && ch
                .center_slopes
                .iter()
                .chain(&ch.track_slopes)
                .all(|v| v.len() == N_SLOPES)
            && classes_ok
            && co.scale_mean.len() == N_COUNT
            && co.scale_std.len() == N_COUNT
            && co.weights.len() == N_COUNT
            && co.weights.iter().all(|w| w.len() == k)
            && co.intercept.len() == k
            && co.center_rates.len() == self.centers.len()
            && co.track_rates.len() == self.tracks.len()
            && self.drift.subject_rel_vars.len() == self.subjects.len()
            && (ch.subject_trend.is_empty() || ch.subject_trend.len() == self.subjects.len())
            && (ch.center_subject.is_empty()
                || (ch.center_subject.len() == self.centers.len()
                    && ch
                        .center_subject
                        .iter()
                        .all(|v| v.len() == self.subjects.len())))
            && self
                .training
                .selection
                .as_ref()
                .is_none_or(|s| s.chosen < s.trials.len());
        if ok {
            Ok(())
        } else {
            Err("its arrays do not match the model's names and features".into())
        }
    }
}

impl CountModel {
    /// Gives a model of format 3 or older the count features it lacks, weighing nothing
    /// (which is how it predicted), where they belong among the candidate's own.
    fn add_format_4_features(&mut self) {
        let at = N_OWN - ADDED_IN_FORMAT_4;
        if self.features.len() + ADDED_IN_FORMAT_4 != N_COUNT {
            return; // not the older layout: the shape check will say so
        }
        let k = self.intercept.len();
        for (i, name) in COUNT_FEATURES[at..N_OWN].iter().enumerate() {
            self.features.insert(at + i, name.to_string());
            insert_at(&mut self.scale_mean, at + i, 0.0);
            insert_at(&mut self.scale_std, at + i, 1.0);
            insert_at(&mut self.weights, at + i, vec![0.0; k]);
        }
    }
}

/// Inserts where `at` is within the vector; leaves a shorter one to the shape check.
fn insert_at<T>(v: &mut Vec<T>, at: usize, value: T) {
    if at <= v.len() {
        v.insert(at, value);
    }
}

/// The largest parameter a fit can give (logit scale, per standard deviation of a
/// feature): priors keep fitted ones within a few units.
const MAX_PARAMETER: f64 = 1e3;
/// The range of feature means and scales (marks, coefficients, shares: far inside).
const MAX_SCALE: f64 = 1e6;
/// The largest relative drift variance (a subject moving by a factor of ten).
const MAX_DRIFT: f64 = 100.0;

/// An error naming `what` unless every value is finite and within `lo..=hi`.
fn check_all<'a>(
    values: impl Iterator<Item = &'a f64>,
    what: &str,
    lo: f64,
    hi: f64,
) -> Result<(), String> {
    match values
        .copied()
        .find(|v| !(v.is_finite() && (lo..=hi).contains(v)))
    {
        Some(v) => Err(format!("{what} is {v:e}, outside [{lo:e}, {hi:e}]")),
        None => Ok(()),
    }
}
