//! `bacpredict train`: read the history, fit the model, write the model file, print a
//! summary of the fits.

use std::fmt::Write;
use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use super::args::{FitArgs, InputArgs};
use super::{read_data, refuse_overwriting, Error, Notes};
use crate::model;
use crate::report;

#[derive(Debug, Args)]
pub(crate) struct TrainArgs {
    /// History CSV files (one or several sessions each), with the `chosen` column.
    #[arg(long, required = true, num_args = 1.., value_name = "FILE")]
    pub(crate) history: Vec<PathBuf>,
    /// Where to write the model (JSON).
    #[arg(long, value_name = "PATH")]
    pub(crate) model: PathBuf,
    #[command(flatten)]
    pub(crate) input: InputArgs,
    #[command(flatten)]
    pub(crate) fit: FitArgs,
    /// Print a JSON summary on stdout instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

pub(crate) fn run(a: TrainArgs, notes: &Notes) -> Result<String, Error> {
    refuse_overwriting(&a.model, &a.history)?;
    let mut out = String::new();
    let read = a.input.config(true)?;
    let fit = a.fit.config()?;
    let data = read_data(&a.history, &read, notes)?;
    let pb = notes.spinner("fitting the choice model");
    let model = model::train(&data, &fit);
    pb.finish_and_clear();
    let model = model?;
    report::write_atomic(&a.model, model.to_json().as_bytes())?;
    if a.json {
        let v = json!({
            "model": a.model.display().to_string(),
            "sessions": model.training.sessions,
            "candidates": model.training.candidates,
            "rows": model.training.rows,
            "subjects": model.subjects.len(),
            "choice_fit": model.choice.fit,
            "count_fit": model.count.fit,
            "drift": model.drift,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v).expect("json"))?;
        return Ok(out);
    }
    let sessions: Vec<String> = model
        .training
        .sessions
        .iter()
        .map(|(s, n)| format!("{s} ({n})"))
        .collect();
    writeln!(out, "model written to {}", a.model.display())?;
    writeln!(out, "sessions (candidates): {}", sessions.join(", "))?;
    writeln!(
        out,
        "{} candidates, {} candidate-subject rows, {} subjects, {} centres, {} tracks",
        model.training.candidates,
        model.training.rows,
        model.subjects.len(),
        model.centers.len(),
        model.tracks.len()
    )?;
    let f = &model.choice.fit;
    writeln!(
        out,
        "subject model: converged in {} iterations, gradient norm {:.1e}, mean -log-likelihood {:.4}",
        f.iterations.unwrap_or(0),
        f.final_gradient_norm,
        f.objective
    )?;
    let c = &model.count.fit;
    writeln!(
        out,
        "number-of-orals model: gradient norm per candidate {:.1e}, mean log-loss {:.4}",
        c.final_gradient_norm, c.objective
    )?;
    writeln!(
        out,
        "session-to-session drift: subject {:.1}%, cell {:.1}% (relative standard deviation)",
        model.drift.subject_rel_var.sqrt() * 100.0,
        model.drift.cell_rel_var.sqrt() * 100.0
    )?;
    Ok(out)
}
