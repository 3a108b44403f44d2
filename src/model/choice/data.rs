//! Data: the subject model's training data, flattened (standardised features row by
//! row, candidates as ranges of rows), and its objective: the weighted mean negative
//! log-likelihood plus Gaussian priors, with its analytic gradient, summed over fixed
//! chunks of candidates on every core.

use std::collections::HashMap;

use super::likelihood::pl_loglik_into;
use crate::data::Sessions;
use crate::model::features::choice_features;
use crate::model::features::{N_DENSE, N_SLOPES, SLOPE_FEATURES};

/// Flattened training data of the subject model.
pub(crate) struct ChoiceData {
    /// Standardised features, [`N_DENSE`] per row.
    pub(crate) x: Vec<f64>,
    pub(crate) subject: Vec<u32>,
    /// Candidate k owns rows `start[k]..start[k + 1]`.
    pub(crate) start: Vec<usize>,
    pub(crate) center: Vec<u32>,
    pub(crate) track: Vec<u32>,
    /// Local indices of the chosen subjects (1 or 2 of them).
    pub(crate) chosen: Vec<[u32; 2]>,
    pub(crate) n_chosen: Vec<u8>,
    pub(crate) weight: Vec<f64>,
    pub(crate) total_weight: f64,
    pub(crate) n_subjects: usize,
    pub(crate) n_centers: usize,
    pub(crate) n_tracks: usize,
    pub(crate) subject_prec: f64,
    pub(crate) slope_prec: f64,
    pub(crate) beta_prec: f64,
    /// Threads the objective and Hessian run on.
    pub(crate) threads: usize,
}

/// Fixed chunking keeps sums in one order whatever the number of threads, so results are
/// byte-identical on any machine.
const CHUNKS: usize = 16;

/// Candidates the subject model's preconditioner is computed from, at most (about).
pub(crate) const HESSIAN_SAMPLE: usize = 50_000;

impl ChoiceData {
    /// No candidate yet: `sizes` = subjects, centres, tracks; `precisions` = prior
    /// precisions of subject effects, slopes and dense coefficients.
    pub(crate) fn empty(sizes: [usize; 3], precisions: [f64; 3]) -> ChoiceData {
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

    /// The candidates of `data` that say something about preferences (an oral among two
    /// or more eligible subjects), with their session weights, times their own in
    /// `each` when given (in `data`'s order); features not yet standardised.
    pub(crate) fn from_candidates(
        data: Sessions<'_>,
        precisions: [f64; 3],
        weights: &HashMap<i32, f64>,
        each: Option<&[f64]>,
        threads: usize,
    ) -> ChoiceData {
        let names = data.names;
        let sizes = [
            names.subjects.len(),
            names.centers.len(),
            names.tracks.len(),
        ];
        let mut cd = ChoiceData::empty(sizes, precisions);
        cd.threads = threads;
        for (i, c) in data.candidates.iter().enumerate() {
            let Some(chosen) = c.revealed_choice() else {
                continue;
            };
            let k = chosen.len();
            let mut ch = [0u32; 2];
            ch[..k].copy_from_slice(&chosen);
            for (row, s) in choice_features(c).iter().zip(&c.subjects) {
                cd.x.extend_from_slice(row);
                cd.subject.push(s.subject);
            }
            cd.start.push(cd.subject.len());
            cd.center.push(c.center);
            cd.track.push(c.track);
            cd.chosen.push(ch);
            cd.n_chosen.push(k as u8);
            let w = weights[&c.session] * each.map_or(1.0, |e| e[i]);
            cd.weight.push(w);
            cd.total_weight += w;
        }
        cd
    }

    pub(crate) fn n_params(&self) -> usize {
        N_DENSE + self.n_subjects + N_SLOPES * (self.n_centers + self.n_tracks)
    }

    /// Prior precision of parameter `i`: a dense coefficient, a subject effect or a slope.
    pub(crate) fn prior_precision(&self, i: usize) -> f64 {
        if i < N_DENSE {
            self.beta_prec
        } else if i < N_DENSE + self.n_subjects {
            self.subject_prec
        } else {
            self.slope_prec
        }
    }

    /// Candidate k's utilities under the parameters `theta`, into `u`; returns
    /// the first parameter of the candidate's centre slopes and of its track slopes.
    pub(crate) fn utilities_into(
        &self,
        theta: &[f64],
        k: usize,
        u: &mut Vec<f64>,
    ) -> (usize, usize) {
        let off_center = N_DENSE + self.n_subjects;
        let cbase = off_center + N_SLOPES * self.center[k] as usize;
        let tbase = off_center + N_SLOPES * (self.n_centers + self.track[k] as usize);
        u.clear();
        for r in self.start[k]..self.start[k + 1] {
            let x = &self.x[r * N_DENSE..(r + 1) * N_DENSE];
            let mut v = theta[N_DENSE + self.subject[r] as usize];
            for f in 0..N_DENSE {
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
    pub(crate) fn objective(&self, theta: &[f64]) -> (f64, Vec<f64>) {
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
                let x = &self.x[r * N_DENSE..(r + 1) * N_DENSE];
                for f in 0..N_DENSE {
                    g[f] += d * x[f];
                }
                g[N_DENSE + self.subject[r] as usize] += d;
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
    pub(crate) fn chunked<T: Send>(&self, f: impl Fn(usize, usize) -> T + Sync) -> Vec<T> {
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
}
