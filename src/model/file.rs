//! File: the model as versioned JSON with a checksum, and the checks that make a damaged,
//! edited or foreign file a clear error (exit 2) instead of wrong numbers.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::features::{N_COUNT, N_DENSE, N_SLOPES};
use super::{Model, ModelError, FORMAT, FORMAT_VERSION};

#[derive(Serialize, Deserialize)]
pub(crate) struct ModelFile {
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

    pub(crate) fn load(path: &Path) -> Result<Model, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|source| ModelError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Model::from_json(&text, path)
    }

    pub(crate) fn check_shapes(&self) -> Result<(), String> {
        let ch = &self.choice;
        let ok = ch.beta.len() == N_DENSE
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
            && self.count.weights.len() == N_COUNT
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
