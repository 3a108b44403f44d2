//! Share: within a zone, the examiners one centre can spare sent where another is short,
//! in examiner units, the same for `confirm` (real examiners) and `backtest` (counts).
//!
//! Results day moves first the firm examiners a centre would release to the centres of
//! the zone short of the same subject and half-day, then calls the cells' own reserves,
//! then the zone's pooled reserve. Each examiner sent goes to the cell then the most
//! examiners short (the lowest in cell order on a tie): spreading them that way leaves
//! no cell far worse off than another when there are too few.

/// Where each of `available` examiners goes among cells `short` examiners each (which
/// it lowers): one cell index per examiner sent, none once no cell is short.
pub(crate) fn fill(short: &mut [usize], available: usize) -> Vec<usize> {
    let mut sent = Vec::new();
    for _ in 0..available {
        let most = short.iter().enumerate().filter(|(_, &n)| n > 0).fold(
            None,
            |best: Option<(usize, usize)>, (i, &n)| match best {
                Some((_, b)) if b >= n => best,
                _ => Some((i, n)),
            },
        );
        let Some((i, _)) = most else { break };
        short[i] -= 1;
        sent.push(i);
    }
    sent
}

/// One zone's cells of a subject and slot on results day, in examiner units, replayed:
/// `needed` per cell, `firm` and own `reserve` summoned, `pool` reserves shared.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Replay {
    /// Per cell: examiners hearing orals there (firm staying, moved in, called).
    pub(crate) hearing: Vec<usize>,
    /// Firm examiners moved from one centre to another.
    pub(crate) moves: usize,
    /// Reserves called, own and pooled.
    pub(crate) calls: usize,
    /// Per cell: examiners hearing there once moves are made, before any reserve.
    pub(crate) with_moves: Vec<usize>,
}

/// [`Replay`] of cells `(needed, firm, own reserve)` sharing `pool` reserves.
pub(crate) fn replay(cells: &[(usize, usize, usize)], pool: usize) -> Replay {
    let mut hearing: Vec<usize> = cells.iter().map(|&(n, f, _)| n.min(f)).collect();
    let mut short: Vec<usize> = cells.iter().map(|&(n, f, _)| n.saturating_sub(f)).collect();
    let spare: usize = cells.iter().map(|&(n, f, _)| f.saturating_sub(n)).sum();
    let moved = fill(&mut short, spare);
    for &i in &moved {
        hearing[i] += 1;
    }
    let with_moves = hearing.clone();
    let mut calls = 0;
    for (i, &(_, _, own)) in cells.iter().enumerate() {
        let called = own.min(short[i]);
        short[i] -= called;
        hearing[i] += called;
        calls += called;
    }
    let pooled = fill(&mut short, pool);
    for &i in &pooled {
        hearing[i] += 1;
    }
    Replay {
        hearing,
        moves: moved.len(),
        calls: calls + pooled.len(),
        with_moves,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Moves before reserves, the most short first, never more than a cell needs.
    #[test]
    fn idle_examiners_move_before_any_reserve_is_called() {
        // A spares two, B is three short, C one short with a reserve of its own.
        let r = replay(&[(1, 3, 0), (3, 0, 0), (2, 1, 1)], 5);
        assert_eq!(r.moves, 2);
        assert_eq!(r.with_moves, vec![1, 2, 1]);
        // B's third examiner and C's second come from the reserves: C's own first.
        assert_eq!(r.hearing, vec![1, 3, 2]);
        assert_eq!(r.calls, 2);
        let mut short = vec![0, 2, 5];
        assert_eq!(fill(&mut short, 4), vec![2, 2, 2, 1]);
        assert_eq!(short, vec![0, 1, 2]);
        assert_eq!(fill(&mut [0, 0], 3), Vec::<usize>::new());
    }
}
