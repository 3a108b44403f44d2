//! Cmd: the command line. One file per subcommand (its options and its `run`), the
//! options they share in [`args`], and here the parser, the dispatch, the error type with
//! its exit codes, and the notes printed on stderr.
//!
//! Parsing belongs to clap; everything a flag can get wrong (a coverage of 2, a
//! min-average above the max) is checked in [`args`] before any file is read, and
//! reported as a usage error (exit status 2). Each command computes, then writes its
//! files, then prints its table or JSON to the writer it is given, so the binary decides
//! what a broken pipe means.

mod args;
mod backtest;
mod check;
mod confirm;
mod forecast;
mod simulate;
mod train;

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use self::backtest::BacktestArgs;
use self::check::CheckArgs;
use self::confirm::ConfirmArgs;
use self::forecast::ForecastArgs;
use self::simulate::SimulateArgs;
use self::train::TrainArgs;

use crate::backtest::BacktestError;
use crate::data::Dataset;
use crate::input::{self, InputError, ReadOptions};
use crate::model::ModelError;
use crate::promise::{self, Outcome, Promise};
use crate::report::{self, WriteError};

/// Forecast second-group (rattrapage) oral choices and plan examiner convocations.
#[derive(Debug, Parser)]
#[command(name = "bacpredict", version, about, long_about = None)]
pub struct Cli {
    /// Print nothing on stderr but errors (no progress, no notes).
    #[arg(long, short, global = true)]
    pub(crate) quiet: bool,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Learn the choice model from past sessions (marks + orals actually chosen).
    Train(TrainArgs),
    /// Forecast this year's orals per candidate, subject and centre, and plan examiners.
    Forecast(ForecastArgs),
    /// Replay past sessions with their choices hidden and score the plan and baselines.
    Backtest(BacktestArgs),
    /// Write a synthetic académie in the input format (for trials and demonstrations).
    Simulate(SimulateArgs),
    /// Results day: from the real choices and the convocations sent, who comes, who is
    /// released, which reserves are called, and the timetable of the orals.
    Confirm(ConfirmArgs),
    /// Check that an output folder holds one run's files as written (from manifest.json).
    Check(CheckArgs),
}

/// Everything that can stop a command. Each kind knows whether it is the user's doing
/// (bad usage or bad input: exit 2) or not (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid option: {0}")]
    Usage(String),
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Backtest(#[from] BacktestError),
    #[error(transparent)]
    Write(#[from] WriteError),
    /// Only the final write of a command's text to stdout: file errors are [`Error::Write`].
    #[error("cannot write to stdout")]
    Stdout(#[source] std::io::Error),
    #[error("{0}")]
    Check(String),
    /// A model that does not know this académie (`forecast` without `--allow-unseen`).
    #[error("{0}")]
    Unfamiliar(String),
    #[error("internal error: {0}")]
    Internal(String),
    #[error("internal error while formatting the output")]
    Format(#[from] std::fmt::Error),
}

impl Error {
    /// 2 for bad usage or bad input (a damaged model file included), 1 for anything else.
    pub fn exit_code(&self) -> u8 {
        let bad_input = match self {
            Error::Usage(_) | Error::Input(_) | Error::Check(_) | Error::Unfamiliar(_) => true,
            Error::Model(e) => e.is_bad_input(),
            Error::Backtest(e) => e.is_bad_input(),
            Error::Write(_) | Error::Stdout(_) | Error::Format(_) | Error::Internal(_) => false,
        };
        if bad_input {
            2
        } else {
            1
        }
    }

    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Stdout(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

pub(crate) fn usage(msg: impl Into<String>) -> Error {
    Error::Usage(msg.into())
}

/// Notes for the person at the terminal (stderr), silenced by --quiet.
pub(crate) struct Notes {
    pub(crate) quiet: bool,
}

impl Notes {
    pub(crate) fn say(&self, msg: &str) {
        if !self.quiet {
            eprintln!("{msg}");
        }
    }
    pub(crate) fn warn(&self, msg: &str) {
        if !self.quiet {
            eprintln!("warning: {msg}");
        }
    }
    /// A spinner on stderr while long work runs; indicatif draws nothing when stderr
    /// is not a terminal.
    pub(crate) fn spinner(&self, msg: &str) -> indicatif::ProgressBar {
        if self.quiet {
            return indicatif::ProgressBar::hidden();
        }
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_message(msg.to_string());
        pb.enable_steady_tick(std::time::Duration::from_millis(120));
        pb
    }
}

pub(crate) fn read_data(
    paths: &[PathBuf],
    opts: &ReadOptions,
    notes: &Notes,
) -> Result<Dataset, Error> {
    let data = input::read_files(paths, opts)?;
    let renamed = opts.subjects.aliases();
    if renamed > 0 {
        notes.say(&format!(
            "subjects file: {renamed} label{} read as {} code",
            if renamed == 1 { "" } else { "s" },
            if renamed == 1 { "its" } else { "their" }
        ));
    }
    for n in &data.notes {
        notes.say(n);
    }
    if data.set_aside > 0 {
        notes.say(&format!(
            "{} candidate{} outside {} <= average < {} set aside; {} kept",
            data.set_aside,
            if data.set_aside == 1 { "" } else { "s" },
            opts.min_average,
            opts.max_average,
            data.candidates.len()
        ));
    }
    if !data.without_mark.is_empty() {
        let n: usize = data.without_mark.iter().map(|(_, n)| n).sum();
        let kinds: Vec<String> = data
            .without_mark
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        notes.say(&format!(
            "{n} row{} without a mark set aside ({}): that subject is not eligible for those candidates",
            if n == 1 { "" } else { "s" },
            kinds.join(", ")
        ));
    }
    Ok(data)
}

impl Cli {
    /// The subcommand's name, for the first line of an error message.
    pub fn command_name(&self) -> &'static str {
        match self.command {
            Command::Train(_) => "train",
            Command::Forecast(_) => "forecast",
            Command::Backtest(_) => "backtest",
            Command::Simulate(_) => "simulate",
            Command::Confirm(_) => "confirm",
            Command::Check(_) => "check",
        }
    }
}

/// Runs the command: it computes, writes its files, and returns the text for stdout,
/// which is written here in one piece.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<(), Error> {
    let notes = Notes { quiet: cli.quiet };
    let text = match cli.command {
        Command::Train(a) => train::run(a, &notes)?,
        Command::Forecast(a) => forecast::run(a, &notes)?,
        Command::Backtest(a) => backtest::run(a, &notes)?,
        Command::Simulate(a) => simulate::run(a, &notes)?,
        Command::Confirm(a) => confirm::run(a, &notes)?,
        Command::Check(a) => check::run(a, &notes)?,
    };
    out.write_all(text.as_bytes()).map_err(Error::Stdout)
}

/// Refuses, before anything is read, an output that is one of the inputs (after links
/// and `..`): writing it would destroy the office's file.
pub(crate) fn refuse_overwriting(output: &Path, inputs: &[PathBuf]) -> Result<(), Error> {
    match inputs.iter().find(|i| report::same_file(i, output)) {
        Some(i) => Err(usage(format!(
            "the output {} is the input {}: writing it would destroy the input; choose another output",
            output.display(),
            i.display()
        ))),
        None => Ok(()),
    }
}

/// [`refuse_overwriting`] for each of the `names` of folder `dir`, and its manifest.
pub(crate) fn refuse_overwriting_inputs(
    dir: &Path,
    names: &[&str],
    inputs: &[PathBuf],
) -> Result<(), Error> {
    for name in names.iter().chain([&report::MANIFEST]) {
        refuse_overwriting(&dir.join(name), inputs)?;
    }
    Ok(())
}

/// " on DAY HALF" for a message about a cell, nothing without a slot.
pub(crate) fn slot_text(data: &crate::data::Dataset, slot: crate::data::Slot) -> String {
    match data.slot_labels(slot) {
        ("", _) => String::new(),
        (d, "") => format!(" on {d}"),
        (d, h) => format!(" on {d} {h}"),
    }
}

/// A `summons.csv` row ([`crate::input::summons::row`]) as table fields: `forecast`
/// writes it, `confirm` writes it again with the action taken.
pub(crate) fn summon_fields<'a>(
    s: &'a crate::data::Summon,
    data: &'a crate::data::Dataset,
    zones: &'a crate::data::ZoneMap,
) -> Vec<crate::report::Field<'a>> {
    crate::input::summons::row(s, data, zones)
        .into_iter()
        .map(Into::into)
        .collect()
}

pub(crate) fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

/// What the replayed past sessions say of the plan's promise, for the terminal.
pub(crate) fn promise_text(p: &Promise) -> String {
    let list = |f: fn(&promise::Replayed) -> String| {
        p.sessions.iter().map(f).collect::<Vec<_>>().join(", ")
    };
    match &p.outcome {
        Outcome::Calibrated | Outcome::Unreachable => {
            let mut t = format!(
                "Checked on the past sessions {}: this rule would have covered {} of their orals with the firm examiners, {} with every reserve called (widening x{:.2} firm, x{:.2} reserve).",
                list(|r| r.session.to_string()),
                list(|r| pct(r.coverage)),
                list(|r| pct(r.coverage_with_reserve)),
                p.firm,
                p.reserve,
            );
            if p.sessions != p.uncalibrated {
                let own = |f: fn(&promise::Replayed) -> f64| {
                    p.uncalibrated.iter().map(|r| pct(f(r))).collect::<Vec<_>>().join(", ")
                };
                t.push_str(&format!(
                    " The model's own widening at the targets asked would have covered {} and {}.",
                    own(|r| r.coverage),
                    own(|r| r.coverage_with_reserve)
                ));
            }
            if p.tightened {
                t.push_str(&format!(
                    " No widening was enough: the plan aims at {} expected coverage with the firm examiners and {} with the reserve to keep the targets.",
                    pct(p.plan_coverage),
                    pct(p.plan_reserve_coverage)
                ));
            }
            if p.outcome == Outcome::Unreachable {
                t.push_str(" Even the widest widening tried does not reach the targets on these sessions: the promise does not hold on this history.");
            }
            t
        }
        Outcome::TooFew(n) => format!(
            "The promise cannot be checked on this history: {n} session{} held out at training, {} needed (train on {} sessions or more); the model's own widening is used.",
            if *n == 1 { "" } else { "s" },
            promise::MIN_SESSIONS,
            promise::MIN_SESSIONS + 2
        ),
        Outcome::NotKept => "The promise cannot be checked: this model was trained by an earlier bacpredict, which kept no past session to replay; retrain it with `bacpredict train` to check it. The model's own widening is used.".to_string(),
        Outcome::OtherSlots { history } => format!(
            "The promise cannot be checked on this history: its orals are by {history}, this plan's by another unit; the model's own widening is used."
        ),
    }
}
