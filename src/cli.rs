//! CLI: the command-line options, validated once into configs, and each command's run.
//!
//! Parsing belongs to clap; everything a flag can get wrong (a coverage of 2, a
//! min-average above the max) is checked here before any file is read, and reported as
//! a usage error (exit status 2). Commands write their human tables or JSON to the
//! writer they are given, so the binary decides what a broken pipe means.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::json;

use crate::backtest::{self, BacktestError, BacktestOptions, MethodResult, Metrics, SessionResult};
use crate::forecast::{self, Forecast};
use crate::input::{self, Dataset, InputError, ReadOptions, Separator};
use crate::model::{self, FitOptions, Model, ModelError};
use crate::planning::{self, Plan, PlanOptions};
use crate::report::{self, text_table, Cell, CsvStyle, Outputs, Table, WriteError};
use crate::simulate::{self, SimConfig};

/// Forecast second-group (rattrapage) oral choices and plan examiner convocations.
#[derive(Debug, Parser)]
#[command(name = "bacpredict", version, about, long_about = None)]
pub struct Cli {
    /// Print nothing on stderr but errors (no progress, no notes).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Learn the choice model from past sessions (marks + orals actually chosen).
    Train(TrainArgs),
    /// Forecast this year's orals per candidate, subject and centre, and plan examiners.
    Forecast(ForecastArgs),
    /// Replay past sessions with their choices hidden and score the plan and baselines.
    Backtest(BacktestArgs),
    /// Write a synthetic académie in the input format (for trials and demonstrations).
    Simulate(SimulateArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum SepArg {
    /// Detect from the header line (';' if it has more ';' than ',').
    Auto,
    Comma,
    Semicolon,
}

#[derive(Debug, Args)]
pub struct InputArgs {
    /// CSV separator of the input files.
    #[arg(long, value_enum, default_value = "auto")]
    pub separator: SepArg,
    /// Keep candidates whose first-group average (out of 20) is at least this.
    #[arg(long, default_value_t = 8.0, value_name = "MARK")]
    pub min_average: f64,
    /// Keep candidates whose first-group average (out of 20) is below this.
    #[arg(long, default_value_t = 10.0, value_name = "MARK")]
    pub max_average: f64,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Write CSV for French Excel: ';' separator, decimal comma, UTF-8 with BOM
    /// (default: ',' and decimal point, UTF-8).
    #[arg(long)]
    pub excel: bool,
    /// Print a JSON summary on stdout instead of tables.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Candidates one examiner can hear over the whole oral period [default 24: about
    /// 12 a day (20 min preparation overlapping 20 min oral) over 2 days].
    #[arg(long, default_value_t = 24, value_name = "CANDIDATES")]
    pub capacity: usize,
    /// CSV `subject,capacity` overriding --capacity for some subjects.
    #[arg(long, value_name = "FILE")]
    pub capacity_file: Option<PathBuf>,
    /// Target expected share of all orals that find an examiner (0-1); examiners are
    /// added where each saves the most uncovered orals until it is reached.
    #[arg(long, default_value_t = 0.995, value_name = "SHARE")]
    pub coverage: f64,
    /// Use instead the per-cell rule: in each centre and subject, the fewest examiners
    /// covering the count with this probability (0-1), e.g. 0.95.
    #[arg(long, value_name = "PROBABILITY")]
    pub service_level: Option<f64>,
    /// Central probability of the printed intervals (0.9 gives 5%-95%).
    #[arg(long, default_value_t = 0.9, value_name = "PROBABILITY")]
    pub interval: f64,
}

#[derive(Debug, Args)]
pub struct FitArgs {
    /// Half-life of a past session's weight, in sessions (e.g. 2: a session two years
    /// older counts half). Default: every session weighs the same, which the backtests on
    /// the bundled sample favoured (see README).
    #[arg(long, value_name = "SESSIONS")]
    pub half_life: Option<f64>,
    /// Iteration budget of each optimiser; a fit that needs more is an error.
    #[arg(long, default_value_t = 500, value_name = "N")]
    pub max_iterations: u64,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// History CSV files (one or several sessions each), with the `chosen` column.
    #[arg(long, required = true, num_args = 1.., value_name = "FILE")]
    pub history: Vec<PathBuf>,
    /// Where to write the model (JSON).
    #[arg(long, value_name = "PATH")]
    pub model: PathBuf,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub fit: FitArgs,
    /// Print a JSON summary on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ForecastArgs {
    /// Model written by `bacpredict train`.
    #[arg(long, value_name = "PATH")]
    pub model: PathBuf,
    /// This year's second-group candidates (same columns as the history; `chosen`
    /// empty or absent).
    #[arg(long, value_name = "FILE")]
    pub candidates: PathBuf,
    /// Folder for candidates.csv, by_subject.csv, by_center.csv, convocations.csv (and
    /// summons.csv, shortages.csv with --roster).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Examiners available: CSV `examiner_id,name,subject,center[,priority]`; an empty
    /// centre means the examiner can be sent anywhere.
    #[arg(long, value_name = "FILE")]
    pub roster: Option<PathBuf>,
    #[command(flatten)]
    pub plan: PlanArgs,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// History CSV files with the `chosen` column.
    #[arg(long, required = true, num_args = 1.., value_name = "FILE")]
    pub history: Vec<PathBuf>,
    /// Session to replay (default: the last one in the history).
    #[arg(long, value_name = "YEAR", conflicts_with = "all")]
    pub session: Option<i32>,
    /// Replay every session that has at least two earlier ones, and average.
    #[arg(long)]
    pub all: bool,
    /// Folder for cells.csv, subjects.csv and report.html.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The simulator's true probabilities (truth.csv): adds the best possible plan.
    #[arg(long, value_name = "FILE")]
    pub oracle: Option<PathBuf>,
    #[command(flatten)]
    pub plan: PlanArgs,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub fit: FitArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Folder for history.csv, truth.csv and candidates.csv.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Random seed: the same seed gives the same files.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Sessions with known choices.
    #[arg(long, default_value_t = 5)]
    pub sessions: usize,
    /// Year of the first session.
    #[arg(long, default_value_t = 2021, value_name = "YEAR")]
    pub first_session: i32,
    /// Second-group candidates per session (about).
    #[arg(long, default_value_t = 1500)]
    pub candidates: usize,
    /// Exam centres.
    #[arg(long, default_value_t = 12)]
    pub centers: usize,
    /// Share of extra candidates outside the 8-10 band, as in a full results export.
    #[arg(long, default_value_t = 0.03, value_name = "SHARE")]
    pub out_of_band: f64,
    /// Do not write candidates.csv (the session after the history, choices unknown).
    #[arg(long)]
    pub no_forecast_session: bool,
    /// Write French-Excel CSV.
    #[arg(long)]
    pub excel: bool,
}

/// Everything that can stop a command.
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
    #[error("cannot write to stdout: {0}")]
    Stdout(#[from] std::io::Error),
}

impl Error {
    /// 2 for bad usage or bad input, 1 for anything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) | Error::Input(_) => 2,
            Error::Backtest(BacktestError::NoSession(..))
            | Error::Backtest(BacktestError::NoEarlier(_))
            | Error::Backtest(BacktestError::TooFewSessions) => 2,
            Error::Model(ModelError::Corrupt { .. })
            | Error::Model(ModelError::Version { .. })
            | Error::Model(ModelError::Checksum { .. })
            | Error::Model(ModelError::Io { .. })
            | Error::Model(ModelError::Training(_)) => 2,
            _ => 1,
        }
    }
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Stdout(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

fn usage(msg: impl Into<String>) -> Error {
    Error::Usage(msg.into())
}

fn share(name: &str, v: f64, allow_one: bool) -> Result<f64, Error> {
    let ok = v > 0.0 && (v < 1.0 || (allow_one && v == 1.0));
    if ok {
        Ok(v)
    } else {
        Err(usage(format!(
            "--{name} must be between 0 and 1{}, got {v}",
            if allow_one {
                " (1 allowed)"
            } else {
                " (excluded)"
            }
        )))
    }
}

impl InputArgs {
    fn config(&self, require_chosen: bool) -> Result<ReadOptions, Error> {
        if self.min_average.partial_cmp(&self.max_average) != Some(std::cmp::Ordering::Less) {
            return Err(usage(format!(
                "--min-average ({}) must be below --max-average ({})",
                self.min_average, self.max_average
            )));
        }
        Ok(ReadOptions {
            separator: self.separator(),
            min_average: self.min_average,
            max_average: self.max_average,
            require_chosen,
        })
    }
    fn separator(&self) -> Separator {
        match self.separator {
            SepArg::Auto => Separator::Auto,
            SepArg::Comma => Separator::Comma,
            SepArg::Semicolon => Separator::Semicolon,
        }
    }
}

impl PlanArgs {
    fn config(&self, sep: Separator) -> Result<(PlanOptions, f64), Error> {
        if self.capacity == 0 {
            return Err(usage(
                "--capacity must be at least 1 candidate per examiner",
            ));
        }
        let coverage = share("coverage", self.coverage, true)?;
        let service_level = match self.service_level {
            Some(q) => Some(share("service-level", q, false)?),
            None => None,
        };
        let interval = share("interval", self.interval, false)?;
        let capacity_by_subject = match &self.capacity_file {
            Some(p) => input::read_capacities(p, sep)?,
            None => BTreeMap::new(),
        };
        Ok((
            PlanOptions {
                capacity: self.capacity,
                capacity_by_subject,
                coverage,
                service_level,
            },
            interval,
        ))
    }
}

impl FitArgs {
    fn config(&self) -> Result<FitOptions, Error> {
        if let Some(h) = self.half_life {
            if !(h > 0.0 && h.is_finite()) {
                return Err(usage(format!(
                    "--half-life must be a positive number of sessions, got {h}"
                )));
            }
        }
        if self.max_iterations == 0 {
            return Err(usage("--max-iterations must be at least 1"));
        }
        Ok(FitOptions {
            half_life: self.half_life,
            max_iterations: self.max_iterations,
            ..FitOptions::default()
        })
    }
}

/// Notes for the person at the terminal (stderr), silenced by --quiet.
struct Notes {
    quiet: bool,
}

impl Notes {
    fn say(&self, msg: &str) {
        if !self.quiet {
            eprintln!("{msg}");
        }
    }
    fn warn(&self, msg: &str) {
        if !self.quiet {
            eprintln!("warning: {msg}");
        }
    }
    /// A spinner on stderr while long work runs; indicatif draws nothing when stderr
    /// is not a terminal.
    fn spinner(&self, msg: &str) -> indicatif::ProgressBar {
        if self.quiet {
            return indicatif::ProgressBar::hidden();
        }
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_message(msg.to_string());
        pb.enable_steady_tick(std::time::Duration::from_millis(120));
        pb
    }
}

fn read_data(paths: &[PathBuf], opts: &ReadOptions, notes: &Notes) -> Result<Dataset, Error> {
    let data = input::read_files(paths, opts)?;
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
    Ok(data)
}

pub fn run(cli: Cli, out: &mut dyn Write) -> Result<(), Error> {
    let notes = Notes { quiet: cli.quiet };
    match cli.command {
        Command::Train(a) => train(a, &notes, out),
        Command::Forecast(a) => forecast_cmd(a, &notes, out),
        Command::Backtest(a) => backtest_cmd(a, &notes, out),
        Command::Simulate(a) => simulate_cmd(a, &notes, out),
    }
}

fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

fn train(a: TrainArgs, notes: &Notes, out: &mut dyn Write) -> Result<(), Error> {
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
        return Ok(());
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
    Ok(())
}

fn forecast_tables<'a>(
    data: &'a Dataset,
    fc: &'a Forecast,
    plan: &'a Plan,
    q: f64,
) -> (Table<'a>, Table<'a>, Table<'a>, Table<'a>) {
    let lo = (1.0 - q) / 2.0;
    let mut cands = Table::new(&["candidate_id", "center", "track", "subject", "probability"]);
    for r in &fc.rows {
        let c = &data.candidates[r.candidate];
        cands.push(vec![
            c.id.as_str().into(),
            data.center_name(c).into(),
            data.track_name(c).into(),
            data.subjects[r.subject as usize].as_str().into(),
            Cell::Num(r.probability, 4),
        ]);
    }
    let mut subj = Table::new(&["subject", "expected_candidates", "low", "high"]);
    for s in &fc.subjects {
        subj.push(vec![
            s.subject.as_str().into(),
            Cell::Num(s.expected(), 2),
            s.dist.quantile(lo).into(),
            s.dist.quantile(1.0 - lo).into(),
        ]);
    }
    let mut cent = Table::new(&["center", "subject", "expected_candidates", "low", "high"]);
    for s in &fc.cells {
        cent.push(vec![
            s.center.clone().unwrap_or_default().into(),
            s.subject.as_str().into(),
            Cell::Num(s.expected(), 2),
            s.dist.quantile(lo).into(),
            s.dist.quantile(1.0 - lo).into(),
        ]);
    }
    let mut conv = Table::new(&[
        "center",
        "subject",
        "expected_candidates",
        "examiners",
        "capacity",
        "expected_uncovered",
    ]);
    for c in &plan.cells {
        conv.push(vec![
            c.center.as_str().into(),
            c.subject.as_str().into(),
            Cell::Num(c.expected, 2),
            c.examiners.into(),
            c.capacity.into(),
            Cell::Num(c.expected_uncovered, 3),
        ]);
    }
    (cands, subj, cent, conv)
}

fn forecast_cmd(a: ForecastArgs, notes: &Notes, out: &mut dyn Write) -> Result<(), Error> {
    let read = a.input.config(false)?;
    let (popts, q) = a.plan.config(read.separator)?;
    let model = Model::load(&a.model)?;
    let roster = match &a.roster {
        Some(p) => Some(input::read_roster(p, read.separator)?),
        None => None,
    };
    let data = read_data(std::slice::from_ref(&a.candidates), &read, notes)?;
    let fc = forecast::forecast(&model, &data);
    for w in &fc.warnings {
        notes.warn(w);
    }
    let plan = planning::plan(&fc.cells, &popts);
    let style = if a.output.excel {
        CsvStyle::FrenchExcel
    } else {
        CsvStyle::Plain
    };
    let (cands, subj, cent, conv) = forecast_tables(&data, &fc, &plan, q);
    let mut outputs = Outputs::default();
    outputs.add_table(&a.out, "candidates.csv", &cands, style);
    outputs.add_table(&a.out, "by_subject.csv", &subj, style);
    outputs.add_table(&a.out, "by_center.csv", &cent, style);
    outputs.add_table(&a.out, "convocations.csv", &conv, style);
    let mut shortages_n = None;
    let mut summoned = 0;
    if let Some(roster) = &roster {
        let (summons, shortages) = planning::summon(&plan, roster);
        let mut t = Table::new(&["examiner_id", "name", "subject", "center"]);
        for s in &summons {
            t.push(vec![
                s.examiner_id.as_str().into(),
                s.name.as_str().into(),
                s.subject.as_str().into(),
                s.center.as_str().into(),
            ]);
        }
        let mut sh = Table::new(&[
            "center",
            "subject",
            "examiners_planned",
            "summoned",
            "missing",
        ]);
        for s in &shortages {
            sh.push(vec![
                s.center.as_str().into(),
                s.subject.as_str().into(),
                s.planned.into(),
                s.summoned.into(),
                (s.planned - s.summoned).into(),
            ]);
            notes.warn(&format!(
                "roster short for {} at {}: {} of {} examiners",
                s.subject, s.center, s.summoned, s.planned
            ));
        }
        outputs.add_table(&a.out, "summons.csv", &t, style);
        outputs.add_table(&a.out, "shortages.csv", &sh, style);
        summoned = summons.len();
        shortages_n = Some(shortages);
    }
    outputs.write()?;
    let lo = (1.0 - q) / 2.0;
    let by_subject = plan.by_subject();
    if a.output.json {
        let subjects: Vec<_> = fc
            .subjects
            .iter()
            .map(|s| {
                let p = by_subject
                    .get(s.subject.as_str())
                    .copied()
                    .unwrap_or_default();
                json!({
                    "subject": s.subject,
                    "eligible": s.eligible,
                    "expected": s.expected(),
                    "low": s.dist.quantile(lo),
                    "high": s.dist.quantile(1.0 - lo),
                    "examiners": p.0,
                    "expected_uncovered": p.2,
                })
            })
            .collect();
        let v = json!({
            "candidates": data.candidates.len(),
            "set_aside": data.set_aside,
            "expected_orals": fc.expected_orals.iter().sum::<f64>(),
            "interval": q,
            "subjects": subjects,
            "plan": {
                "rule": plan.rule,
                "examiners": plan.examiners,
                "expected_coverage": plan.expected_coverage(),
                "expected_uncovered": plan.expected_uncovered,
                "marginal_examiners": plan.marginal_examiners,
                "per_cell_95_examiners": plan.per_cell_95_examiners,
            },
            "summoned": roster.as_ref().map(|_| summoned),
            "shortages": shortages_n.as_ref().map(|s| s.len()),
            "warnings": fc.warnings,
            "files": outputs.paths().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v).expect("json"))?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = fc
        .subjects
        .iter()
        .map(|s| {
            let p = by_subject
                .get(s.subject.as_str())
                .copied()
                .unwrap_or_default();
            vec![
                s.subject.clone(),
                s.eligible.to_string(),
                format!("{:.1}", s.expected()),
                format!("{}-{}", s.dist.quantile(lo), s.dist.quantile(1.0 - lo)),
                p.0.to_string(),
            ]
        })
        .collect();
    let interval = format!("{:.0}% interval", q * 100.0);
    write!(
        out,
        "{}",
        text_table(
            &[
                "subject",
                "eligible",
                "expected orals",
                &interval,
                "examiners"
            ],
            &rows
        )
    )?;
    writeln!(
        out,
        "\n{} candidates, {:.0} orals expected. Plan ({}): {} examiners, expected coverage {}, {:.1} orals expected uncovered.",
        data.candidates.len(),
        fc.expected_orals.iter().sum::<f64>(),
        plan.rule,
        plan.examiners,
        pct(plan.expected_coverage()),
        plan.expected_uncovered
    )?;
    if popts.service_level.is_some() {
        writeln!(
            out,
            "For comparison: the marginal allocation to {} expected coverage needs {} examiners; a per-cell 95% plan {}.",
            pct(popts.coverage),
            plan.marginal_examiners,
            plan.per_cell_95_examiners
        )?;
    } else {
        writeln!(
            out,
            "For comparison: a per-cell 95% plan would need {} examiners.",
            plan.per_cell_95_examiners
        )?;
    }
    if let Some(sh) = &shortages_n {
        writeln!(
            out,
            "Roster: {summoned} examiners summoned; {} cell{} short (see shortages.csv).",
            sh.len(),
            if sh.len() == 1 { "" } else { "s" }
        )?;
    }
    writeln!(out, "Files written in {}", a.out.display())?;
    Ok(())
}

fn metrics_row(name: &str, m: &Metrics) -> Vec<String> {
    vec![
        name.to_string(),
        pct(m.coverage),
        pct(m.cell_coverage),
        m.examiners.to_string(),
        m.needed.to_string(),
        pct(m.redundancy),
        pct(m.surplus),
        pct(m.wape_subject),
        pct(m.wape_cell),
        m.log_loss
            .map(|l| format!("{l:.4}"))
            .unwrap_or_else(|| "-".into()),
    ]
}

const METRIC_HEADER: [&str; 10] = [
    "method",
    "coverage",
    "cell_coverage",
    "examiners",
    "needed",
    "redundancy",
    "surplus",
    "wape_subject",
    "wape_cell",
    "log_loss",
];

fn metrics_json(
    session: Option<i32>,
    bp: &Metrics,
    baselines: &[(&str, &Metrics)],
) -> serde_json::Value {
    let mut v = serde_json::to_value(bp).expect("json");
    if let Some(s) = session {
        v["session"] = json!(s);
    }
    let b: serde_json::Map<String, serde_json::Value> = baselines
        .iter()
        .map(|(n, m)| (n.to_string(), serde_json::to_value(m).expect("json")))
        .collect();
    v["baselines"] = serde_json::Value::Object(b);
    v
}

fn scored_table(
    cells: &[backtest::ScoredCell],
    session: Option<i32>,
    with_center: bool,
) -> Table<'_> {
    let mut header = vec![];
    if session.is_some() {
        header.push("session");
    }
    if with_center {
        header.push("center");
    }
    header.extend([
        "subject",
        "expected",
        "low",
        "high",
        "actual",
        "examiners",
        "needed",
    ]);
    let mut t = Table::new(&header);
    for c in cells {
        let mut row: Vec<Cell> = vec![];
        if let Some(s) = session {
            row.push(s.into());
        }
        if with_center {
            row.push(c.center.as_str().into());
        }
        row.extend([
            c.subject.as_str().into(),
            Cell::Num(c.expected, 2),
            c.low.into(),
            c.high.into(),
            c.actual.into(),
            c.examiners.into(),
            c.needed.into(),
        ]);
        t.push(row);
    }
    t
}

fn append<'a>(t: &mut Table<'a>, other: Table<'a>) {
    t.rows.extend(other.rows);
}

fn backtest_cmd(a: BacktestArgs, notes: &Notes, out: &mut dyn Write) -> Result<(), Error> {
    let read = a.input.config(true)?;
    let fit = a.fit.config()?;
    let (plan, interval) = a.plan.config(read.separator)?;
    let truth = match &a.oracle {
        Some(p) => Some(input::read_truth(p, read.separator)?),
        None => None,
    };
    let history = read_data(&a.history, &read, notes)?;
    let sessions: Vec<i32> = if a.all {
        backtest::rolling_sessions(&history)?
    } else {
        match a.session {
            Some(s) => vec![s],
            None => match history.sessions().keys().last() {
                Some(&s) => vec![s],
                None => return Err(usage("the history holds no candidate in the average band")),
            },
        }
    };
    let opts = BacktestOptions {
        fit,
        plan,
        interval,
    };
    let pb = notes.spinner("backtesting");
    let mut results: Vec<SessionResult> = Vec::new();
    for s in &sessions {
        pb.set_message(format!("backtesting session {s}"));
        match backtest::backtest_session(&history, *s, &opts, truth.as_ref()) {
            Ok(r) => results.push(r),
            Err(e) => {
                pb.finish_and_clear();
                return Err(e.into());
            }
        }
    }
    pb.finish_and_clear();
    if let Some(truth) = &truth {
        for r in &results {
            if !r.baselines.iter().any(|b| b.name.starts_with("oracle")) && !truth.is_empty() {
                notes.warn(&format!(
                    "the oracle file does not cover every candidate of session {}: no oracle row for it",
                    r.session
                ));
            }
        }
    }
    for w in results.iter().flat_map(|r| &r.warnings) {
        notes.warn(w);
    }
    let averages = if results.len() > 1 {
        Some(backtest::average(&results))
    } else {
        None
    };
    if let Some(dir) = &a.out {
        let style = if a.output.excel {
            CsvStyle::FrenchExcel
        } else {
            CsvStyle::Plain
        };
        let multi = results.len() > 1;
        let mut cells = Table::default();
        let mut subjects = Table::default();
        for r in &results {
            let sess = multi.then_some(r.session);
            let c = scored_table(&r.bacpredict.cells, sess, true);
            let s = scored_table(&r.bacpredict.subjects, sess, false);
            if cells.header.is_empty() {
                cells.header = c.header.clone();
                subjects.header = s.header.clone();
            }
            append(&mut cells, c);
            append(&mut subjects, s);
        }
        let mut outputs = Outputs::default();
        outputs.add_table(dir, "cells.csv", &cells, style);
        outputs.add_table(dir, "subjects.csv", &subjects, style);
        outputs.add(
            dir.join("report.html"),
            crate::html::report(&results, averages.as_deref(), &opts).into_bytes(),
        );
        outputs.write()?;
        notes.say(&format!(
            "wrote cells.csv, subjects.csv and report.html in {}",
            dir.display()
        ));
    }
    if a.output.json {
        let per: Vec<serde_json::Value> = results
            .iter()
            .map(|r| {
                let b: Vec<(&str, &Metrics)> = r
                    .baselines
                    .iter()
                    .map(|m| (m.name.as_str(), &m.metrics))
                    .collect();
                metrics_json(Some(r.session), &r.bacpredict.metrics, &b)
            })
            .collect();
        let v = if let Some(avg) = &averages {
            let bp = &avg[0].1;
            let b: Vec<(&str, &Metrics)> = avg[1..].iter().map(|(n, m)| (n.as_str(), m)).collect();
            json!({ "sessions": per, "average": metrics_json(None, bp, &b) })
        } else {
            per.into_iter().next().unwrap_or(serde_json::Value::Null)
        };
        writeln!(out, "{}", serde_json::to_string_pretty(&v).expect("json"))?;
        return Ok(());
    }
    let method_rows = |r: &SessionResult| -> Vec<Vec<String>> {
        std::iter::once(&r.bacpredict)
            .chain(&r.baselines)
            .map(|m: &MethodResult| metrics_row(&m.name, &m.metrics))
            .collect()
    };
    for r in &results {
        let trained: Vec<String> = r.trained_on.iter().map(|s| s.to_string()).collect();
        writeln!(
            out,
            "Session {} (trained on {}; capacity {}, {})",
            r.session,
            trained.join(", "),
            opts.plan.capacity,
            match opts.plan.service_level {
                Some(q) => format!("per-cell service level {}", pct(q)),
                None => format!("coverage target {}", pct(opts.plan.coverage)),
            }
        )?;
        write!(out, "{}", text_table(&METRIC_HEADER, &method_rows(r)))?;
        writeln!(out)?;
    }
    if let Some(avg) = &averages {
        writeln!(
            out,
            "Average over sessions {}",
            sessions
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )?;
        let rows: Vec<Vec<String>> = avg.iter().map(|(n, m)| metrics_row(n, m)).collect();
        write!(out, "{}", text_table(&METRIC_HEADER, &rows))?;
    }
    Ok(())
}

fn simulate_cmd(a: SimulateArgs, notes: &Notes, out: &mut dyn Write) -> Result<(), Error> {
    if a.sessions == 0 || a.candidates == 0 || a.centers == 0 {
        return Err(usage(
            "--sessions, --candidates and --centers must be at least 1",
        ));
    }
    if !(0.0..1.0).contains(&a.out_of_band) {
        return Err(usage("--out-of-band must be a share between 0 and 1"));
    }
    let cfg = SimConfig {
        seed: a.seed,
        first_session: a.first_session,
        sessions: a.sessions,
        candidates: a.candidates,
        centers: a.centers,
        out_of_band: a.out_of_band,
        forecast_session: !a.no_forecast_session,
    };
    let pb = notes.spinner("simulating");
    let sim = simulate::simulate(&cfg);
    pb.finish_and_clear();
    let style = if a.excel {
        CsvStyle::FrenchExcel
    } else {
        CsvStyle::Plain
    };
    let mut outputs = Outputs::default();
    outputs.add_table(&a.out, "history.csv", &sim.history, style);
    outputs.add_table(&a.out, "truth.csv", &sim.truth, style);
    if let Some(f) = &sim.forecast {
        outputs.add_table(&a.out, "candidates.csv", f, style);
    }
    outputs.write()?;
    let s = &sim.summary;
    let n = s.candidates.max(1) as f64;
    writeln!(
        out,
        "{} sessions, {} second-group candidates, {} rows; no-show {}, one oral {}, two orals {}",
        cfg.sessions,
        s.candidates,
        s.rows,
        pct(s.no_show as f64 / n),
        pct(s.one_oral as f64 / n),
        pct(s.two_orals as f64 / n)
    )?;
    let files: Vec<String> = outputs.paths().map(|p| p.display().to_string()).collect();
    writeln!(out, "wrote {}", files.join(", "))?;
    Ok(())
}
