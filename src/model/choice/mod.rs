//! Choice: fitting the subject model, a Plackett-Luce conditional logit with two picks at
//! most, by argmin's L-BFGS in preconditioned coordinates.
//!
//! The fit reads as its steps: [`data`] flattens the candidates and evaluates the
//! objective, [`precond`] builds the Hessian-based change of coordinates, L-BFGS
//! minimises, the gradient is checked, and the parameters become a [`ChoiceModel`].
//! [`likelihood`] holds the per-candidate maths.

mod data;
mod likelihood;
mod precond;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use argmin::core::{CostFunction, Executor, Gradient, State, TerminationReason};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use ndarray::Array1;

use self::data::ChoiceData;
pub(crate) use self::likelihood::pl_loglik_into;
use self::precond::Precond;
use super::features::{CHOICE_FEATURES, N_DENSE, N_SLOPES, SLOPE_FEATURES};
use super::{ChoiceModel, FitReport, ModelError, Setting};
use crate::data::Sessions;
use crate::numeric::standardise;

/// Parameters, objective and gradient of the last evaluation.
type Evaluation = (Vec<f64>, f64, Vec<f64>);

struct ChoiceProblem<'a> {
    pub(crate) data: &'a ChoiceData,
    pub(crate) theta0: &'a [f64],
    pub(crate) pre: &'a Precond,
    /// argmin asks for cost and gradient separately at the same point: compute once.
    pub(crate) cache: Mutex<Option<Evaluation>>,
    /// Objective evaluations so far, and the most allowed: argmin's line search has no
    /// cap of its own, so the budget is enforced here and every fit ends.
    pub(crate) evaluations: AtomicU64,
    pub(crate) budget: u64,
}

impl ChoiceProblem<'_> {
    /// Objective and its gradient with respect to phi; an error once the evaluation
    /// budget is spent or where the objective is not finite (a line search could chase
    /// a NaN forever).
    fn eval(&self, phi: &Array1<f64>) -> Result<(f64, Vec<f64>), argmin::core::Error> {
        let t = phi.as_slice().expect("contiguous parameters");
        let mut cache = self.cache.lock().expect("cache lock");
        if let Some((p, f, g)) = cache.as_ref() {
            if p.as_slice() == t {
                return Ok((*f, g.clone()));
            }
        }
        if self.evaluations.fetch_add(1, Ordering::Relaxed) >= self.budget {
            return Err(argmin::core::Error::msg(format!(
                "no convergence within {} evaluations of the objective; try --max-iterations",
                self.budget
            )));
        }
        let (f, g) = self.data.objective(&self.pre.point(self.theta0, t));
        if !f.is_finite() || g.iter().any(|v| !v.is_finite()) {
            return Err(argmin::core::Error::msg(
                "the objective is not finite (a subject or centre the history cannot pin down?)",
            ));
        }
        let g = self.pre.apply(&g, true);
        *cache = Some((t.to_vec(), f, g.clone()));
        Ok((f, g))
    }
}

impl CostFunction for ChoiceProblem<'_> {
    type Param = Array1<f64>;
    type Output = f64;
    fn cost(&self, p: &Self::Param) -> Result<f64, argmin::core::Error> {
        Ok(self.eval(p)?.0)
    }
}

impl Gradient for ChoiceProblem<'_> {
    type Param = Array1<f64>;
    type Gradient = Array1<f64>;
    fn gradient(&self, p: &Self::Param) -> Result<Array1<f64>, argmin::core::Error> {
        Ok(Array1::from(self.eval(p)?.1))
    }
}

/// Objective evaluations allowed per L-BFGS iteration, line search included (it usually
/// takes one or two).
const EVALUATIONS_PER_ITERATION: u64 = 20;

/// Prior standard deviation of the dense coefficients (logit scale, per standard
/// deviation of a feature): wide enough to say nothing next to thousands of candidates,
/// it only keeps a coefficient finite when a tiny history cannot pin it down.
const DENSE_PRIOR_SD: f64 = 10.0;

/// Stopping tolerance of the subject model, on the gradient in preconditioned
/// coordinates (half its square approximates what the objective could still lose). The
/// fit is then accepted only if the plain gradient norm is below [`CHOICE_ACCEPT`]; a
/// looser 3e-4 left small académies just above it.
const CHOICE_TOL: f64 = 5e-5;
const CHOICE_ACCEPT: f64 = 1e-4;

/// Fits the subject model on `threads` threads, from `init` when given (a fit on fewer
/// sessions of the same dataset, hence the same parameter layout), each candidate
/// weighted by its session's weight times its own in `each` (the mixture's). Returns the
/// raw parameters too.
///
/// The steps: the data flattened and standardised, the preconditioner at the starting
/// point, L-BFGS in preconditioned coordinates, the convergence check on the plain
/// gradient, and the parameters as a [`ChoiceModel`].
pub(crate) fn fit_choice(
    data: Sessions<'_>,
    opts: &Setting,
    weights: &HashMap<i32, f64>,
    each: Option<&[f64]>,
    init: Option<&[f64]>,
    threads: usize,
) -> Result<(ChoiceModel, Vec<f64>), ModelError> {
    let precisions = [
        1.0 / (opts.subject_sd * opts.subject_sd),
        1.0 / (opts.slope_sd * opts.slope_sd),
        1.0 / (DENSE_PRIOR_SD * DENSE_PRIOR_SD),
    ];
    let mut cd = ChoiceData::from_candidates(data, precisions, weights, each, threads);
    if cd.weight.is_empty() {
        return Err(ModelError::Data(
            "no candidate in the history took an oral among two or more eligible subjects".into(),
        ));
    }
    let (mean, std) = standardise(&mut cd.x, N_DENSE);
    let theta0 = match init {
        Some(t) if t.len() == cd.n_params() => t.to_vec(),
        _ => vec![0.0; cd.n_params()],
    };
    let (run, at) = minimise_restarting(&cd, theta0, opts.max_iterations)?;
    let (objective, gnorm) = check_convergence(&run, at)?;
    let fit = FitReport {
        method: "L-BFGS (argmin), analytic gradient, Hessian-preconditioned".into(),
        iterations: Some(run.iterations),
        final_gradient_norm: gnorm,
        objective,
        termination: run.reason,
    };
    Ok((to_model(&cd, &run.theta, mean, std, fit), run.theta))
}

/// What L-BFGS ended with.
struct Run {
    theta: Vec<f64>,
    iterations: u64,
    reason: String,
    /// Whether argmin says it converged (rather than stopped on its budget).
    solver_converged: bool,
}

/// How many times L-BFGS is restarted from where it stopped when it stopped on a tiny
/// change of the objective with the gradient still above [`CHOICE_ACCEPT`].
const RESTARTS: usize = 3;

/// L-BFGS from `theta0`, restarted from its last point with a preconditioner computed
/// there while it stops on a tiny change of the objective short of the gradient
/// tolerance: on a few dozen candidates the Hessian at the start can be far from the one
/// at the optimum, and the line search then makes tiny steps. A restart's memory and
/// scaling are those of the new point. Fits that converge at once never restart, so
/// their models are unchanged.
fn minimise_restarting(
    cd: &ChoiceData,
    theta0: Vec<f64>,
    max_iterations: u64,
) -> Result<(Run, (f64, f64)), ModelError> {
    let mut run = minimise(cd, &theta0, &cd.preconditioner(&theta0), max_iterations)?;
    let mut at = objective_and_gradient_norm(cd, &run.theta);
    for _ in 0..RESTARTS {
        let left = max_iterations.saturating_sub(run.iterations);
        if at.1 < CHOICE_ACCEPT || !run.solver_converged || left == 0 {
            break;
        }
        let done = run.iterations;
        run = minimise(cd, &run.theta, &cd.preconditioner(&run.theta), left)?;
        run.iterations += done;
        at = objective_and_gradient_norm(cd, &run.theta);
    }
    Ok((run, at))
}

/// The objective and the plain gradient norm at `theta`: one evaluation, which the
/// restarts and the convergence check share.
fn objective_and_gradient_norm(cd: &ChoiceData, theta: &[f64]) -> (f64, f64) {
    let (f, g) = cd.objective(theta);
    (f, g.iter().map(|v| v * v).sum::<f64>().sqrt())
}

/// L-BFGS on the objective in the coordinates phi of `pre`, from phi = 0 (theta0).
fn minimise(
    cd: &ChoiceData,
    theta0: &[f64],
    pre: &Precond,
    max_iterations: u64,
) -> Result<Run, ModelError> {
    let problem = ChoiceProblem {
        data: cd,
        theta0,
        pre,
        cache: Mutex::new(None),
        evaluations: AtomicU64::new(0),
        budget: EVALUATIONS_PER_ITERATION * max_iterations + 10,
    };
    let init = Array1::zeros(cd.n_params());
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 20)
        .with_tolerance_grad(CHOICE_TOL)
        .and_then(|s| s.with_tolerance_cost(1e-12))
        .map_err(|e| ModelError::Optimiser(e.to_string()))?;
    let res = Executor::new(problem, solver)
        .configure(|st| st.param(init).max_iters(max_iterations))
        .run()
        .map_err(|e| ModelError::Optimiser(e.to_string()))?;
    let state = res.state();
    let phi = state
        .get_best_param()
        .ok_or_else(|| ModelError::Optimiser("it returned no parameters".into()))?;
    Ok(Run {
        theta: pre.point(theta0, phi.as_slice().expect("contiguous")),
        iterations: state.get_iter(),
        reason: state
            .get_termination_reason()
            .map(|r| r.text().to_string())
            .unwrap_or_default(),
        solver_converged: matches!(
            state.get_termination_reason(),
            Some(TerminationReason::SolverConverged)
        ),
    })
}

/// The objective and the plain gradient norm at the solution (`at`); an error unless
/// argmin converged and the gradient is below [`CHOICE_ACCEPT`] (stopping on a tiny cost
/// change is fine only if the gradient is small too).
fn check_convergence(run: &Run, (f, gnorm): (f64, f64)) -> Result<(f64, f64), ModelError> {
    if !(run.solver_converged && gnorm < CHOICE_ACCEPT) {
        let (reason, iters) = (&run.reason, run.iterations);
        let detail = if run.solver_converged {
            format!(
                "the optimiser stopped after {iters} iterations ({RESTARTS} restarts) with the \
                 objective no longer decreasing but a gradient norm of {gnorm:.2e}, above \
                 {CHOICE_ACCEPT:.0e}"
            )
        } else {
            format!(
                "{reason} after {iters} iterations, gradient norm {gnorm:.2e}; try --max-iterations"
            )
        };
        return Err(ModelError::NotConverged {
            part: "subject-choice (conditional logit)",
            detail,
        });
    }
    Ok((f, gnorm))
}

/// The raw parameters `t` (dense coefficients, subject effects, centre slopes, track
/// slopes) as the model file's named arrays.
fn to_model(
    cd: &ChoiceData,
    t: &[f64],
    mean: Vec<f64>,
    std: Vec<f64>,
    fit: FitReport,
) -> ChoiceModel {
    let ns = cd.n_subjects;
    let slopes = |base: usize, n: usize| -> Vec<Vec<f64>> {
        (0..n)
            .map(|i| t[base + N_SLOPES * i..base + N_SLOPES * (i + 1)].to_vec())
            .collect()
    };
    ChoiceModel {
        features: CHOICE_FEATURES.iter().map(|s| s.to_string()).collect(),
        slope_features: SLOPE_FEATURES
            .iter()
            .map(|&f| CHOICE_FEATURES[f].to_string())
            .collect(),
        scale_mean: mean,
        scale_std: std,
        beta: t[..N_DENSE].to_vec(),
        subject_effects: t[N_DENSE..N_DENSE + ns].to_vec(),
        center_slopes: slopes(N_DENSE + ns, cd.n_centers),
        center_subject: Vec::new(),
        subject_trend: Vec::new(),
        rule: None,
        track_slopes: slopes(N_DENSE + ns + N_SLOPES * cd.n_centers, cd.n_tracks),
        fit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numeric::central_difference;

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
                for f in 0..N_DENSE {
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
}
