//! Rows: a data row of a candidate file once its fields passed their checks, with its
//! names numbered in its chunk's own tables. Shared by [`super::chunks`], which makes
//! them, [`super::runs`], which groups them by candidate, and [`super::merge`].

use std::collections::HashMap;

use crate::data::{Slot, SubjectRow};

/// Names in order of first appearance, each with its index. Three lookups per row of a
/// national file: the hasher is foldhash's (SipHash, the default, guards against
/// adversarial keys, which a file of centre names is not), and a candidate's rows, which
/// repeat the centre and track, hit the last name without hashing.
#[derive(Default)]
pub(crate) struct Interner {
    pub(crate) names: Vec<String>,
    pub(crate) index: HashMap<String, u32, foldhash::fast::FixedState>,
    pub(crate) last: u32,
}

impl Interner {
    pub(crate) fn get(&mut self, name: &str) -> u32 {
        if self
            .names
            .get(self.last as usize)
            .is_some_and(|n| n == name)
        {
            return self.last;
        }
        let i = match self.index.get(name) {
            Some(&i) => i,
            None => {
                let i = self.names.len() as u32;
                self.names.push(name.to_string());
                self.index.insert(name.to_string(), i);
                i
            }
        };
        self.last = i;
        i
    }
}

/// One data row whose fields passed their checks; names are indices into its chunk's
/// own name tables.
pub(crate) struct ParsedRow {
    pub(crate) line: u64,
    pub(crate) session: i32,
    /// The candidate id, as a range of its chunk's `ids`: one string per row would be
    /// a million allocations at national scale.
    pub(crate) id: std::ops::Range<usize>,
    pub(crate) center: u32,
    pub(crate) track: u32,
    pub(crate) average: f64,
    pub(crate) subject: u32,
    pub(crate) coefficient: f64,
    pub(crate) grade: f64,
    pub(crate) chosen: Option<bool>,
    /// The slot, its day a number of the chunk's own day names.
    pub(crate) slot: Slot,
}

impl ParsedRow {
    pub(crate) fn subject_row(&self, subject: u32) -> SubjectRow {
        SubjectRow {
            subject,
            coefficient: self.coefficient,
            grade: self.grade,
            chosen: self.chosen,
        }
    }
}
