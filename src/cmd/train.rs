//! `bacpredict train`: read the history, fit the model, write the model file, print a
//! summary of the fits.

use std::fmt::Write;
use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use super::args::{FitArgs, InputArgs};
use super::{read_data, refuse_overwriting, Error, Notes};
use crate::data::{likely_renames, LikelyRename};
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
    let renames = likely_renames(&data);
    for r in &renames {
        notes.warn(&rename_warning(r));
    }
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
            "options": model.training.options,
            "selection": model.training.selection,
            "drift": model.drift,
            "likely_renames": renames,
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
    write_selection(&mut out, &model)?;
    let d = &model.drift;
    let (lo, hi) = d
        .subject_rel_vars
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), &r| {
            (lo.min(r), hi.max(r))
        });
    writeln!(
        out,
        "session-to-session drift (relative standard deviation): subject {:.1}% académie-wide, \
         {:.1}% to {:.1}% per subject; cell {:.1}% more, plus {:.2} x the expected count in variance",
        d.subject_rel_var.sqrt() * 100.0,
        lo.min(hi).sqrt() * 100.0,
        hi.sqrt() * 100.0,
        d.cell_rel_var.sqrt() * 100.0,
        d.cell_linear
    )?;
    Ok(out)
}

/// The warning for a likely rename, with the subjects file's line that would merge it
/// under the new label (the one this year's files use).
fn rename_warning(r: &LikelyRename) -> String {
    let span = |(a, b): (i32, i32)| {
        if a == b {
            a.to_string()
        } else {
            format!("{a}-{b}")
        }
    };
    format!(
        "subjects '{}' ({}) and '{}' ({}) look like one subject renamed: the first stops when \
         the second starts, in the same tracks, {:.0}% then {:.0}% of candidates eligible. If \
         they are, add the line \"{},{}\" to a subjects file and train with --subjects FILE",
        r.old,
        span(r.old_sessions),
        r.new,
        span(r.new_sessions),
        100.0 * r.old_share,
        100.0 * r.new_share,
        r.new,
        r.old
    )
}

/// The settings the fit used and, when they were chosen, what was tried.
fn write_selection(out: &mut String, model: &model::Model) -> Result<(), Error> {
    let half_life = |h: Option<f64>| match h {
        Some(1.0) => "1 session".to_string(),
        Some(h) => format!("{h} sessions"),
        None => "none".to_string(),
    };
    let local = |k: Option<f64>| match k {
        Some(1.0) => "1 oral".to_string(),
        Some(k) => format!("{k} orals"),
        None => "none".to_string(),
    };
    // A subject's drift between sessions: a trend (its prior sd), a random walk (its
    // step's sd), or none.
    let trend = |trend: Option<f64>, walk: Option<f64>| match (trend, walk) {
        (_, Some(w)) => format!("walk {w}"),
        (Some(t), None) => format!("line {t}"),
        (None, None) => "none".to_string(),
    };
    let rule = |m: &model::Model| {
        match m.choice.rule {
        Some(r) if r.rule == model::Rule::Learnt => format!(
            "{:.0}% of candidates (a learnt rule: {:.2} per point of mark, {:.2} per point to recover at coefficient 16)",
            100.0 * r.share,
            -r.sharpness,
            r.points
        ),
        Some(r) => format!(
            "{:.0}% of candidates ({}, sharpness {:.2} per point)",
            100.0 * r.share,
            rule_name(r.rule),
            r.sharpness
        ),
        None => "none".to_string(),
    }
    };
    let o = &model.training.options.setting;
    let Some(sel) = &model.training.selection else {
        writeln!(
            out,
            "settings: half-life {}, slope prior sd {}, centre x subject prior {} (too few sessions to choose them)",
            half_life(o.half_life),
            o.slope_sd,
            local(o.center_subject)
        )?;
        return Ok(());
    };
    let sessions: Vec<String> = sel.validated_on.iter().map(|s| s.to_string()).collect();
    writeln!(
        out,
        "settings chosen by rolling origin (held-out sessions {}): half-life {}, slope prior sd {}, class by marks {}, subject drift sd {}, centre x subject prior {}, marks {}",
        sessions.join(", "),
        half_life(o.half_life),
        o.slope_sd,
        rule(model),
        trend(o.trend_sd, o.walk_sd),
        local(o.center_subject),
        marks(o.relative_marks)
    )?;
    for (i, t) in sel.trials.iter().enumerate() {
        writeln!(
            out,
            "  {} half-life {:<11} slope prior sd {:<5} class by marks {:<6} subject drift sd {:<9} centre x subject prior {:<9} marks {:<8} held-out log-loss {:.5}",
            if i == sel.chosen { "*" } else { " " },
            half_life(t.half_life),
            t.slope_sd,
            match (t.rule_class, t.rule) {
                (false, _) => "no",
                (true, model::Rule::LowestMark) => "lowest",
                (true, model::Rule::MostPoints) => "points",
                (true, model::Rule::Learnt) => "learnt",
            },
            trend(t.trend_sd, t.walk_sd),
            local(t.center_subject),
            marks(t.relative_marks),
            t.log_loss
        )?;
    }
    Ok(())
}

/// The rule a class by marks follows.
fn rule_name(r: model::Rule) -> &'static str {
    match r {
        model::Rule::LowestMark => "lowest marks",
        model::Rule::MostPoints => "most points to recover",
        model::Rule::Learnt => "a learnt rule",
    }
}

/// How a setting reads marks: as they are, or against their session's in the subject.
fn marks(relative: bool) -> &'static str {
    if relative {
        "relative"
    } else {
        "as given"
    }
}
