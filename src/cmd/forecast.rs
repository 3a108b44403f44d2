//! `bacpredict forecast`: this year's candidates through the model, the plan, and with a
//! roster the named convocations; the tables written as one set of files, then a summary
//! per subject.

use std::fmt::Write;
use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use super::args::{InputArgs, OutputArgs, PlanArgs};
use super::{pct, read_data, Error, Notes};
use crate::data::Dataset;
use crate::forecast::{self, Forecast};
use crate::input;
use crate::model::Model;
use crate::planning::{self, Plan};
use crate::report::{text_table, CsvStyle, Field, Outputs, Table};

#[derive(Debug, Args)]
pub(crate) struct ForecastArgs {
    /// Model written by `bacpredict train`.
    #[arg(long, value_name = "PATH")]
    pub(crate) model: PathBuf,
    /// This year's second-group candidates (same columns as the history; `chosen`
    /// empty or absent).
    #[arg(long, value_name = "FILE")]
    pub(crate) candidates: PathBuf,
    /// Folder for candidates.csv, by_subject.csv, by_center.csv, convocations.csv (and
    /// summons.csv, shortages.csv with --roster).
    #[arg(long, value_name = "DIR")]
    pub(crate) out: PathBuf,
    /// Examiners available: CSV `examiner_id,name,subject,center[,priority]`; an empty
    /// centre means the examiner can be sent anywhere.
    #[arg(long, value_name = "FILE")]
    pub(crate) roster: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) plan: PlanArgs,
    #[command(flatten)]
    pub(crate) input: InputArgs,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

pub(crate) fn forecast_tables<'a>(
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
            Field::Num(r.probability, 4),
        ]);
    }
    let mut subj = Table::new(&["subject", "expected_candidates", "low", "high"]);
    for s in &fc.subjects {
        subj.push(vec![
            s.subject.as_str().into(),
            Field::Num(s.expected(), 2),
            s.dist.quantile(lo).into(),
            s.dist.quantile(1.0 - lo).into(),
        ]);
    }
    let mut cent = Table::new(&["center", "subject", "expected_candidates", "low", "high"]);
    for s in &fc.cells {
        cent.push(vec![
            s.center.clone().unwrap_or_default().into(),
            s.subject.as_str().into(),
            Field::Num(s.expected(), 2),
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
            Field::Num(c.expected, 2),
            c.examiners.into(),
            c.capacity.into(),
            Field::Num(c.expected_uncovered, 3),
        ]);
    }
    (cands, subj, cent, conv)
}

pub(crate) fn run(a: ForecastArgs, notes: &Notes) -> Result<String, Error> {
    let mut out = String::new();
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
        return Ok(out);
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
    Ok(out)
}
