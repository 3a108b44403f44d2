//! Familiarity: how much of this year's files the model knows (subjects, centres and
//! tracks it never saw), for the warnings and for refusing a model from elsewhere.

use crate::data::Dataset;
use crate::model::Model;

/// Names the subjects, centres and tracks the model never saw, for the warnings.
pub(super) fn unseen(
    names: &[String],
    map: &[Option<usize>],
    used: &[bool],
    what: &str,
) -> Option<String> {
    let list = unseen_names(names, map, used);
    if list.is_empty() {
        return None;
    }
    let fallback = if what == "subject" {
        "forecast from marks and coefficients only, with an average subject effect"
    } else {
        "académie-wide behaviour used"
    };
    Some(format!(
        "{} {what}{} never seen in training ({fallback}): {}",
        list.len(),
        if list.len() == 1 { "" } else { "s" },
        list.join(", ")
    ))
}

/// The names the files use (`used`) that the model does not know (`map`), sorted: the
/// warnings and [`Familiarity`] both list them.
fn unseen_names<'a>(names: &'a [String], map: &[Option<usize>], used: &[bool]) -> Vec<&'a str> {
    let mut list: Vec<&str> = names
        .iter()
        .zip(map)
        .zip(used)
        .filter(|((_, m), u)| m.is_none() && **u)
        .map(|((n, _), _)| n.as_str())
        .collect();
    list.sort_unstable();
    list
}

/// How much of this year's files the model knows: the share of candidate-subject rows
/// whose subject it was trained on, the share of candidates whose centre it was, and
/// the names it does not know.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Familiarity {
    pub(crate) rows: usize,
    pub(crate) rows_known: usize,
    pub(crate) candidates: usize,
    pub(crate) candidates_known: usize,
    pub(crate) unseen_subjects: Vec<String>,
    pub(crate) unseen_centers: Vec<String>,
}

/// Below this share of rows with a known subject, or of candidates with a known centre,
/// `forecast` refuses the model unless `--allow-unseen`: the forecast would rest mostly
/// on académie-wide averages, the model was most likely trained on another académie.
pub(crate) const MIN_KNOWN_SHARE: f64 = 0.5;

impl Familiarity {
    pub(crate) fn of(model: &Model, data: &Dataset) -> Familiarity {
        let map = model.mapping(data);
        let mut f = Familiarity {
            rows: 0,
            rows_known: 0,
            candidates: data.candidates.len(),
            candidates_known: 0,
            unseen_subjects: Vec::new(),
            unseen_centers: Vec::new(),
        };
        let (mut used_s, mut used_c) = (
            vec![false; data.subjects.len()],
            vec![false; data.centers.len()],
        );
        for c in &data.candidates {
            used_c[c.center as usize] = true;
            f.candidates_known += usize::from(map.center[c.center as usize].is_some());
            for s in &c.subjects {
                used_s[s.subject as usize] = true;
                f.rows += 1;
                f.rows_known += usize::from(map.subject[s.subject as usize].is_some());
            }
        }
        let owned = |v: Vec<&str>| v.into_iter().map(String::from).collect();
        f.unseen_subjects = owned(unseen_names(&data.subjects, &map.subject, &used_s));
        f.unseen_centers = owned(unseen_names(&data.centers, &map.center, &used_c));
        f
    }

    /// Whether the model knows every subject and centre of the files.
    pub(crate) fn complete(&self) -> bool {
        self.unseen_subjects.is_empty() && self.unseen_centers.is_empty()
    }

    fn share(known: usize, total: usize) -> f64 {
        if total == 0 {
            1.0
        } else {
            known as f64 / total as f64
        }
    }

    /// The share of rows whose subject the model knows.
    pub(crate) fn row_share(&self) -> f64 {
        Self::share(self.rows_known, self.rows)
    }

    /// The share of candidates whose centre the model knows.
    pub(crate) fn candidate_share(&self) -> f64 {
        Self::share(self.candidates_known, self.candidates)
    }

    /// Why the model should be refused for these files, when it should.
    pub(crate) fn refusal(&self) -> Option<String> {
        let (rows, cands) = (self.row_share(), self.candidate_share());
        if rows >= MIN_KNOWN_SHARE && cands >= MIN_KNOWN_SHARE {
            return None;
        }
        Some(format!(
            "the model knows the subject of {:.0}% of the candidates' rows ({} subject{} unknown) \
             and the centre of {:.0}% of the candidates ({} centre{} unknown), below the {:.0}% \
             needed: it was most likely trained on another académie's history, and the forecast \
             would rest on its average behaviour. Train on this académie's history, or pass \
             --allow-unseen to forecast all the same",
            100.0 * rows,
            self.unseen_subjects.len(),
            if self.unseen_subjects.len() == 1 {
                ""
            } else {
                "s"
            },
            100.0 * cands,
            self.unseen_centers.len(),
            if self.unseen_centers.len() == 1 {
                ""
            } else {
                "s"
            },
            100.0 * MIN_KNOWN_SHARE
        ))
    }
}
