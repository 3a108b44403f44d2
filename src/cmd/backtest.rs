//! `bacpredict backtest`: replay past sessions with their choices hidden, score the plan
//! and the baselines, write the cells, the subjects and the HTML report.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::json;

use super::args::{FitArgs, InputArgs, OutputArgs, PlanArgs};
use super::{pct, promise_text, read_data, refuse_overwriting_inputs, usage, Error, Notes};
use crate::backtest::{self, BacktestOptions, Method, MethodResult, Metrics, SessionResult};
use crate::data::Dataset;
use crate::input::{self, Truth};
use crate::report::{self, text_table, CsvStyle, Field, Lang, Outputs, Table};

#[derive(Debug, Args)]
pub(crate) struct BacktestArgs {
    /// History CSV files with the `chosen` column.
    #[arg(long, required = true, num_args = 1.., value_name = "FILE")]
    pub(crate) history: Vec<PathBuf>,
    /// Session to replay (default: the last one in the history).
    #[arg(long, value_name = "YEAR", conflicts_with = "all")]
    pub(crate) session: Option<i32>,
    /// Replay every session that has at least two earlier ones, and average.
    #[arg(long)]
    pub(crate) all: bool,
    /// Folder for cells.csv, subjects.csv and report.html.
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
    /// The simulator's true probabilities (truth.csv): adds the best possible plan.
    #[arg(long, value_name = "FILE")]
    pub(crate) oracle: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) plan: PlanArgs,
    #[command(flatten)]
    pub(crate) input: InputArgs,
    #[command(flatten)]
    pub(crate) fit: FitArgs,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
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
        m.reserve.to_string(),
        pct(m.coverage_with_reserve),
        m.reserve_calls.to_string(),
        pct(m.coverage_with_moves),
        m.moves.to_string(),
        m.used.to_string(),
        pct(m.idle_share),
        pct(m.wape_subject),
        pct(m.wape_cell),
        m.log_loss
            .map(|l| format!("{l:.4}"))
            .unwrap_or_else(|| "-".into()),
    ]
}

const METRIC_HEADER: [&str; 17] = [
    "method",
    "coverage",
    "cell_coverage",
    "examiners",
    "needed",
    "redundancy",
    "surplus",
    "reserve",
    "with_reserve",
    "calls",
    "with_moves",
    "moves",
    "used",
    "idle",
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
    header.push("subject");
    if with_center {
        header.extend(["day", "half_day"]);
    }
    header.extend([
        "expected",
        "low",
        "high",
        "actual",
        "examiners",
        "needed",
        "reserve",
    ]);
    let mut t = Table::new(&header);
    for c in cells {
        let mut row: Vec<Field> = vec![];
        if let Some(s) = session {
            row.push(s.into());
        }
        if with_center {
            row.push(c.center.as_str().into());
        }
        row.push(c.subject.as_str().into());
        if with_center {
            row.extend([c.day.as_str().into(), c.half_day.as_str().into()]);
        }
        row.extend([
            Field::Num(c.expected, 2),
            c.low.into(),
            c.high.into(),
            c.actual.into(),
            c.examiners.into(),
            c.needed.into(),
            c.reserve.into(),
        ]);
        t.push(row);
    }
    t
}

pub(crate) fn append<'a>(t: &mut Table<'a>, other: Table<'a>) {
    t.rows.extend(other.rows);
}

/// Every file `backtest --out` writes.
const FILES: [&str; 4] = [
    "cells.csv",
    "subjects.csv",
    "report.html",
    "bacpredict.xlsx",
];

impl BacktestArgs {
    fn inputs(&self) -> Vec<PathBuf> {
        self.history
            .iter()
            .chain(&self.oracle)
            .chain(self.plan.cells.inputs())
            .cloned()
            .collect()
    }
}

pub(crate) fn run(a: BacktestArgs, notes: &Notes) -> Result<String, Error> {
    if let Some(dir) = &a.out {
        refuse_overwriting_inputs(dir, &FILES, &a.inputs())?;
    }
    let read = a.input.config(true)?;
    let fit = a.fit.config()?;
    let (mut plan, interval) = a.plan.config(&read)?;
    let truth = match &a.oracle {
        Some(p) => Some(input::read_truth(p, read.separator)?),
        None => None,
    };
    let mut history = read_data(&a.history, &read, notes)?;
    a.plan
        .cells
        .apply_slots(&mut history, &mut plan, read.separator)?;
    let sessions = sessions_to_replay(&a, &history)?;
    let zones = a.plan.cells.zones(&history, read.separator, notes)?;
    let opts = BacktestOptions {
        fit,
        plan,
        interval,
        zones,
    };
    let results = replay(&history, &sessions, &opts, truth.as_ref(), notes)?;
    let averages = (results.len() > 1).then(|| backtest::average(&results));
    if let Some(dir) = &a.out {
        let style = CsvStyle::for_excel(a.output.excel);
        output_files(
            dir,
            &results,
            averages.as_deref(),
            &opts,
            style,
            a.output.xlsx,
            a.output.lang,
        )?
        .write(&a.inputs())?;
        notes.say(&format!(
            "wrote cells.csv, subjects.csv and report.html in {}",
            dir.display()
        ));
    }
    if a.output.json {
        Ok(json_summary(&results, averages.as_deref()))
    } else {
        text_summary(&results, averages.as_deref(), &sessions, &opts)
    }
}

/// `--all`: every session with two earlier ones; else `--session` or the last one.
fn sessions_to_replay(a: &BacktestArgs, history: &Dataset) -> Result<Vec<i32>, Error> {
    if a.all {
        return Ok(backtest::rolling_sessions(history)?);
    }
    match a
        .session
        .or_else(|| history.sessions().keys().last().copied())
    {
        Some(s) => Ok(vec![s]),
        None => Err(usage("the history holds no candidate in the average band")),
    }
}

/// Backtests each session in turn, with a spinner, then prints the warnings.
fn replay(
    history: &Dataset,
    sessions: &[i32],
    opts: &BacktestOptions,
    truth: Option<&Truth>,
    notes: &Notes,
) -> Result<Vec<SessionResult>, Error> {
    let pb = notes.spinner("backtesting");
    let mut results: Vec<SessionResult> = Vec::new();
    for s in sessions {
        pb.set_message(format!("backtesting session {s}"));
        match backtest::backtest_session(history, *s, opts, truth) {
            Ok(r) => results.push(r),
            Err(e) => {
                pb.finish_and_clear();
                return Err(e.into());
            }
        }
    }
    pb.finish_and_clear();
    if let Some(truth) = truth {
        for r in &results {
            if !r.baselines.iter().any(|b| b.method == Method::Oracle) && !truth.is_empty() {
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
    Ok(results)
}

/// `cells.csv`, `subjects.csv` (with a leading `session` column when there are several)
/// and `report.html`.
fn output_files(
    dir: &Path,
    results: &[SessionResult],
    averages: Option<&[(Method, Metrics)]>,
    opts: &BacktestOptions,
    style: CsvStyle,
    xlsx: bool,
    lang: Lang,
) -> Result<Outputs, Error> {
    let multi = results.len() > 1;
    let mut cells = Table::default();
    let mut subjects = Table::default();
    for r in results {
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
    let mut outputs = Outputs::new(dir, "backtest");
    outputs.add_table("cells.csv", &cells, style);
    outputs.add_table("subjects.csv", &subjects, style);
    outputs.add(
        "report.html",
        report::html_report(results, averages, opts, lang).into_bytes(),
    );
    if xlsx {
        let methods = methods_table(results, averages);
        let summary = vec![
            ("Commande".to_string(), "bacpredict backtest".to_string()),
            (
                "Sessions".to_string(),
                results
                    .iter()
                    .map(|r| r.session.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            ("Capacité".to_string(), opts.plan.capacity.to_string()),
        ];
        let tables = [
            ("methods", &methods),
            ("cells.csv", &cells),
            ("subjects.csv", &subjects),
        ];
        outputs.add(report::WORKBOOK, report::xlsx(&summary, &tables)?);
    }
    Ok(outputs)
}

/// Every method's metrics per session (and on average), as numbers for the workbook.
fn methods_table<'a>(
    results: &'a [SessionResult],
    averages: Option<&'a [(Method, Metrics)]>,
) -> Table<'a> {
    let mut t = Table::new(&[
        "session",
        "method",
        "coverage",
        "examiners",
        "needed",
        "redundancy",
        "reserve",
        "coverage_with_reserve",
        "reserve_calls",
        "coverage_with_moves",
        "moves",
        "used",
        "idle_share",
        "wape_subject",
        "log_loss",
    ]);
    let per = results.iter().flat_map(|r| {
        std::iter::once(&r.bacpredict)
            .chain(&r.baselines)
            .map(move |m| (r.session.to_string(), m.method.name(), &m.metrics))
    });
    let avg = averages
        .into_iter()
        .flatten()
        .map(|(n, m)| ("average".to_string(), n.name(), m));
    for (session, name, m) in per.chain(avg) {
        t.push(vec![
            session.into(),
            name.into(),
            Field::Num(m.coverage, 4),
            m.examiners.into(),
            m.needed.into(),
            Field::Num(m.redundancy, 4),
            m.reserve.into(),
            Field::Num(m.coverage_with_reserve, 4),
            m.reserve_calls.into(),
            Field::Num(m.coverage_with_moves, 4),
            m.moves.into(),
            m.used.into(),
            Field::Num(m.idle_share, 4),
            Field::Num(m.wape_subject, 4),
            m.log_loss.map_or(Field::from(""), |l| Field::Num(l, 4)),
        ]);
    }
    t
}

fn json_summary(results: &[SessionResult], averages: Option<&[(Method, Metrics)]>) -> String {
    let per: Vec<serde_json::Value> = results
        .iter()
        .map(|r| {
            let b: Vec<(&str, &Metrics)> = r
                .baselines
                .iter()
                .map(|m| (m.method.name(), &m.metrics))
                .collect();
            let mut v = metrics_json(Some(r.session), &r.bacpredict.metrics, &b);
            v["promise"] = serde_json::to_value(&r.promise).expect("json");
            if !r.zones.is_empty() {
                v["zones"] = serde_json::to_value(&r.zones).expect("json");
            }
            v
        })
        .collect();
    let v = if let Some(avg) = averages {
        let bp = &avg[0].1;
        let b: Vec<(&str, &Metrics)> = avg[1..].iter().map(|(n, m)| (n.name(), m)).collect();
        json!({ "sessions": per, "average": metrics_json(None, bp, &b) })
    } else {
        per.into_iter().next().unwrap_or(serde_json::Value::Null)
    };
    format!("{}\n", serde_json::to_string_pretty(&v).expect("json"))
}

fn text_summary(
    results: &[SessionResult],
    averages: Option<&[(Method, Metrics)]>,
    sessions: &[i32],
    opts: &BacktestOptions,
) -> Result<String, Error> {
    let mut out = String::new();
    let method_rows = |r: &SessionResult| -> Vec<Vec<String>> {
        std::iter::once(&r.bacpredict)
            .chain(&r.baselines)
            .map(|m: &MethodResult| metrics_row(m.method.name(), &m.metrics))
            .collect()
    };
    for r in results {
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
        let m = &r.bacpredict.metrics;
        writeln!(
            out,
            "bacpredict's {} intervals: {} of subjects and {} of cells outside (about {} when calibrated).",
            pct(opts.interval),
            pct(m.subjects_outside_interval),
            pct(m.cells_outside_interval),
            pct(1.0 - opts.interval)
        )?;
        writeln!(
            out,
            "{} Realised on {}: {} firm, {} with every reserve called.",
            promise_text(&r.promise),
            r.session,
            pct(m.coverage),
            pct(m.coverage_with_reserve)
        )?;
        writeln!(out)?;
    }
    if let Some(avg) = averages {
        let list: Vec<String> = sessions.iter().map(|s| s.to_string()).collect();
        writeln!(out, "Average over sessions {}", list.join(", "))?;
        let rows: Vec<Vec<String>> = avg.iter().map(|(n, m)| metrics_row(n.name(), m)).collect();
        write!(out, "{}", text_table(&METRIC_HEADER, &rows))?;
    }
    if let Some(t) = zones_text(results) {
        write!(out, "{t}")?;
    }
    Ok(out)
}

/// With `--zones`: per zone over every session replayed, the examiner half-days used by
/// bacpredict without zones and with them, the saving, the moves and reserves called.
fn zones_text(results: &[SessionResult]) -> Option<String> {
    let totals = backtest::zone_totals(results);
    if totals.is_empty() {
        return None;
    }
    let rows: Vec<Vec<String>> = totals
        .iter()
        .map(|z| {
            vec![
                z.zone.clone(),
                z.orals.to_string(),
                format!("{} / {}", z.needed_apart, z.needed),
                z.used_apart.to_string(),
                z.used.to_string(),
                pct(z.used as f64 / z.used_apart.max(1) as f64 - 1.0),
                z.moves.to_string(),
                z.calls.to_string(),
            ]
        })
        .collect();
    let header = [
        "zone",
        "orals",
        "needed apart / regrouped",
        "used without zones",
        "used with zones",
        "change",
        "moves",
        "calls",
    ];
    Some(format!(
        "\nPer zone, every session replayed (examiner half-days; used = firm + reserves called):\n{}",
        text_table(&header, &rows)
    ))
}
