//! Precond: the change of coordinates that makes the subject model's L-BFGS take a few
//! Newton-like steps: the Hessian at the starting point, in its block-arrow form,
//! computed on a sample of candidates and factored through the Schur complement.

use super::data::{ChoiceData, HESSIAN_SAMPLE};
use super::likelihood::pl_curvature;
use crate::model::features::{N_DENSE, N_SLOPES, SLOPE_FEATURES};
use crate::numeric::{cholesky, solve_l, solve_lt};

/// The preconditioner: the parameters are optimised as theta = theta0 + T phi, with
/// T = L^-T for the Cholesky factor L of the objective's Hessian at theta0 (see
/// [`ChoiceData::preconditioner`]). In phi the problem is close to round, so L-BFGS needs
/// a few iterations instead of hundreds on correlated features.
///
/// The Hessian is block-arrow shaped: a dense global block (coefficients, subject effects,
/// track slopes), a 3x3 block per centre, and the global x centre blocks; nothing links
/// two centres. Ordered centres first, its Cholesky factor keeps that shape:
/// L = [L_c 0; E L_s], so applying T costs a few multiplications per parameter.
pub(crate) struct Precond {
    /// Parameter indices of the global block, in block order.
    pub(crate) global: Vec<usize>,
    /// Lower Cholesky factor of the global block's Schur complement, row-major.
    pub(crate) ls: Vec<f64>,
    /// First parameter of the centre slopes.
    pub(crate) center_base: usize,
    /// Lower Cholesky factor of each centre's block, row-major N_SLOPES x N_SLOPES.
    pub(crate) lc: Vec<[f64; N_SLOPES * N_SLOPES]>,
    /// E_c (global x N_SLOPES, row-major) for each centre, one after the other.
    pub(crate) e: Vec<f64>,
}

impl ChoiceData {
    /// Parameter indices of the global block: dense coefficients, subject effects and
    /// track slopes, in that order.
    fn global_indices(&self) -> Vec<usize> {
        let off_center = N_DENSE + self.n_subjects;
        let off_track = off_center + N_SLOPES * self.n_centers;
        (0..off_center)
            .chain(off_track..off_track + N_SLOPES * self.n_tracks)
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
    pub(crate) fn preconditioner(&self, theta: &[f64]) -> Precond {
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
        let mut b = vec![0.0; nc * ng * N_SLOPES];
        let mut c = vec![[0.0; N_SLOPES * N_SLOPES]; nc];
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
            for j in 0..N_SLOPES {
                h[j * N_SLOPES + j] += self.slope_prec / tw_all;
            }
            cholesky(h, N_SLOPES);
            let e = &mut b[ci * ng * N_SLOPES..(ci + 1) * ng * N_SLOPES];
            for row in e.chunks_mut(N_SLOPES) {
                // Row i of E_c solves L_c x = (row i of B_c).
                solve_l(h, N_SLOPES, row);
            }
            for i in 0..ng {
                for k in 0..=i {
                    let v: f64 = (0..N_SLOPES)
                        .map(|j| e[i * N_SLOPES + j] * e[k * N_SLOPES + j])
                        .sum();
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
            center_base: N_DENSE + self.n_subjects,
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
    ) -> (Vec<f64>, Vec<f64>, Vec<[f64; N_SLOPES * N_SLOPES]>, f64) {
        let nc = self.n_centers;
        let mut blocks = Blocks {
            a: vec![0.0; ng * ng],
            b: vec![0.0; nc * ng * N_SLOPES],
            c: vec![[0.0; N_SLOPES * N_SLOPES]; nc],
            ng,
        };
        let mut cv = Curvature::default();
        let mut tw = 0.0;
        for k in (lo..hi).filter(|k| k % stride == 0) {
            let tbase = cv.compute(self, theta, k);
            let w = self.weight[k];
            tw += w;
            // The global slots are the dense coefficients (slot f = f), the rows' subject
            // effects, then the track slopes, in increasing order.
            let (r0, r1) = (self.start[k], self.start[k + 1]);
            cv.slot.clear();
            cv.slot
                .extend((r0..r1).map(|r| pos[N_DENSE + self.subject[r] as usize]));
            let track: [usize; N_SLOPES] = std::array::from_fn(|j| pos[tbase + j]);
            blocks.add(&cv, w, &track, self.center[k] as usize);
        }
        (blocks.a, blocks.b, blocks.c, tw)
    }
}

/// A row's utility depends on the dense coefficients through its features x, on its
/// subject's effect (weight 1), and on its track's and its centre's slopes through the
/// same slope features: with K = [x, slope features] (N_K columns), every block of the
/// candidate's Hessian J^T C J is a block of C, of C K or of K^T C K, where C is the
/// curvature with respect to the utilities.
const N_K: usize = N_DENSE + N_SLOPES;

/// One candidate's curvature in the forms the blocks are built from, in buffers reused
/// from one candidate to the next.
#[derive(Default)]
struct Curvature {
    u: Vec<f64>,
    coef: Vec<f64>,
    vecs: Vec<f64>,
    /// Number of the candidate's subjects (rows).
    n: usize,
    /// C, n x n.
    cm: Vec<f64>,
    /// K, n x N_K.
    kr: Vec<f64>,
    /// M = C K, n x N_K.
    mj: Vec<f64>,
    /// K^T C K = K^T M.
    kk: [[f64; N_K]; N_K],
    /// Each row's position in the global block (its subject effect).
    slot: Vec<usize>,
}

impl Curvature {
    /// Candidate k's C, K, C K and K^T C K at `theta`; returns the first parameter of
    /// the candidate's track slopes.
    fn compute(&mut self, cd: &ChoiceData, theta: &[f64], k: usize) -> usize {
        let (r0, r1) = (cd.start[k], cd.start[k + 1]);
        let n = r1 - r0;
        self.n = n;
        let (_, tbase) = cd.utilities_into(theta, k, &mut self.u);
        let chosen = &cd.chosen[k][..cd.n_chosen[k] as usize];
        pl_curvature(&self.u, chosen, &mut self.coef, &mut self.vecs);
        // C = diag(sum_t c_t v_t) - sum_t c_t v_t v_t^T, n x n.
        let cm = &mut self.cm;
        cm.clear();
        cm.resize(n * n, 0.0);
        for (t, ct) in self.coef.iter().enumerate() {
            let v = &self.vecs[t * n..(t + 1) * n];
            for r in 0..n {
                cm[r * n + r] += ct * v[r];
                for q in 0..n {
                    cm[r * n + q] -= ct * v[r] * v[q];
                }
            }
        }
        // K, the rows' features then their slope features, n x N_K.
        self.kr.clear();
        for x in cd.x[r0 * N_DENSE..r1 * N_DENSE].chunks(N_DENSE) {
            self.kr.extend_from_slice(x);
            self.kr.extend(SLOPE_FEATURES.iter().map(|&f| x[f]));
        }
        self.products();
        tbase
    }

    /// M = C K, then K^T C K = K^T M.
    fn products(&mut self) {
        let (n, cm, kr) = (self.n, &self.cm, &self.kr);
        let mj = &mut self.mj;
        mj.clear();
        mj.resize(n * N_K, 0.0);
        for r in 0..n {
            for q in 0..n {
                let crq = cm[r * n + q];
                if crq != 0.0 {
                    let (to, from) = (&mut mj[r * N_K..(r + 1) * N_K], &kr[q * N_K..(q + 1) * N_K]);
                    for (m, k) in to.iter_mut().zip(from) {
                        *m += crq * k;
                    }
                }
            }
        }
        let mut kk = [[0.0; N_K]; N_K];
        for r in 0..n {
            for (row, &kf) in kk.iter_mut().zip(&kr[r * N_K..(r + 1) * N_K]) {
                for (v, m) in row.iter_mut().zip(&mj[r * N_K..(r + 1) * N_K]) {
                    *v += kf * m;
                }
            }
        }
        self.kk = kk;
    }
}

/// A chunk's share of the Hessian: the global block `a` (`ng` x `ng`, lower triangle
/// only, which is all the factorisation reads), each centre's global x centre block `b`
/// and each centre's own block `c`.
struct Blocks {
    a: Vec<f64>,
    b: Vec<f64>,
    c: Vec<[f64; N_SLOPES * N_SLOPES]>,
    ng: usize,
}

impl Blocks {
    /// Adds one candidate's curvature, weighted by `w`: each entry gets one term per
    /// candidate.
    fn add(&mut self, cv: &Curvature, w: f64, track: &[usize; N_SLOPES], ci: usize) {
        let (ng, n, kk, mj, slot) = (self.ng, cv.n, &cv.kk, &cv.mj, &cv.slot);
        let a = &mut self.a;
        let bc = &mut self.b[ci * ng * N_SLOPES..(ci + 1) * ng * N_SLOPES];
        for f in 0..N_DENSE {
            for g in 0..=f {
                a[f * ng + g] += w * kk[f][g];
            }
            for j in 0..N_SLOPES {
                bc[f * N_SLOPES + j] += w * kk[f][N_DENSE + j];
            }
        }
        for (r, &sr) in slot.iter().enumerate() {
            let m = &mj[r * N_K..(r + 1) * N_K];
            for f in 0..N_DENSE {
                a[sr * ng + f] += w * m[f];
            }
            for (q, &sq) in slot[..=r].iter().enumerate() {
                a[sr.max(sq) * ng + sr.min(sq)] += w * cv.cm[r * n + q];
            }
            for j in 0..N_SLOPES {
                bc[sr * N_SLOPES + j] += w * m[N_DENSE + j];
            }
        }
        for (jt, &tj) in track.iter().enumerate() {
            let kt = &kk[N_DENSE + jt];
            for f in 0..N_DENSE {
                a[tj * ng + f] += w * kt[f];
            }
            for (r, &sr) in slot.iter().enumerate() {
                a[tj * ng + sr] += w * mj[r * N_K + N_DENSE + jt];
            }
            for (l, &tl) in track[..=jt].iter().enumerate() {
                a[tj * ng + tl] += w * kt[N_DENSE + l];
            }
            for j in 0..N_SLOPES {
                bc[tj * N_SLOPES + j] += w * kt[N_DENSE + j];
            }
        }
        for j in 0..N_SLOPES {
            for l in 0..N_SLOPES {
                self.c[ci][j * N_SLOPES + l] += w * kk[N_DENSE + j][N_DENSE + l];
            }
        }
    }
}

impl Precond {
    /// The parameters theta0 + T phi.
    pub(crate) fn point(&self, theta0: &[f64], phi: &[f64]) -> Vec<f64> {
        let step = self.apply(phi, false);
        theta0.iter().zip(step).map(|(a, b)| a + b).collect()
    }

    /// `T phi` (a step in parameter space, solving L^T x = phi) or `T^T g` (a gradient
    /// in phi space, solving L y = g).
    pub(crate) fn apply(&self, v: &[f64], transpose: bool) -> Vec<f64> {
        let mut out = v.to_vec();
        let ng = self.global.len();
        let mut xg: Vec<f64> = self.global.iter().map(|&i| v[i]).collect();
        if transpose {
            for (c, l) in self.lc.iter().enumerate() {
                let base = self.center_base + N_SLOPES * c;
                let mut y = [0.0; N_SLOPES];
                y.copy_from_slice(&v[base..base + N_SLOPES]);
                solve_l(l, N_SLOPES, &mut y);
                let e = &self.e[c * ng * N_SLOPES..(c + 1) * ng * N_SLOPES];
                for (i, xi) in xg.iter_mut().enumerate() {
                    *xi -= (0..N_SLOPES)
                        .map(|j| e[i * N_SLOPES + j] * y[j])
                        .sum::<f64>();
                }
                out[base..base + N_SLOPES].copy_from_slice(&y);
            }
            solve_l(&self.ls, ng, &mut xg);
        } else {
            solve_lt(&self.ls, ng, &mut xg);
            for (c, l) in self.lc.iter().enumerate() {
                let base = self.center_base + N_SLOPES * c;
                let e = &self.e[c * ng * N_SLOPES..(c + 1) * ng * N_SLOPES];
                let mut y = [0.0; N_SLOPES];
                for (j, yj) in y.iter_mut().enumerate() {
                    *yj = v[base + j] - (0..ng).map(|i| e[i * N_SLOPES + j] * xg[i]).sum::<f64>();
                }
                solve_lt(l, N_SLOPES, &mut y);
                out[base..base + N_SLOPES].copy_from_slice(&y);
            }
        }
        for (&i, x) in self.global.iter().zip(xg) {
            out[i] = x;
        }
        out
    }
}
