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

/// Method of moments: the relative variance `r` such that, summed over groups,
/// (actual - expected)^2 = variance + extra + r expected^2.
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
