//! `bacpredict forecast`: this year's candidates through the model, the plan, and with a
//! roster the named convocations; the tables written as one set of files, then a summary
//! per subject.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::json;

use super::args::{InputArgs, OutputArgs, PlanArgs};
use super::{
    pct, promise_text, read_data, refuse_overwriting_inputs, slot_text, summon_fields, Error, Notes,
};
use crate::data::{Dataset, Hosts, RosterEntry, SlotKind, Summon, ZoneMap};
use crate::forecast::{self, Familiarity, Forecast};
use crate::input;
use crate::model::Model;
use crate::planning::{self, Plan, PlanOptions, PlanSettings, Shortage};
use crate::promise::{self, Promise};
use crate::report::{self, text_table, CsvStyle, Field, Outputs, PlanPage, Table};
use crate::zones::{self, Zones};

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
    /// Forecast even with a model that knows the subject of fewer than half of the
    /// candidates' rows or the centre of fewer than half of the candidates (a model
    /// trained on another académie): the unknown ones get the académie's average.
    #[arg(long)]
    pub(crate) allow_unseen: bool,
    #[command(flatten)]
    pub(crate) plan: PlanArgs,
    #[command(flatten)]
    pub(crate) input: InputArgs,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

fn forecast_tables<'a>(
    data: &'a Dataset,
    fc: &'a Forecast,
    (plan, zoned): (&'a Plan, Option<(&'a Zones, &'a Hosts)>),
    q: f64,
) -> (Table<'a>, Table<'a>, Table<'a>, Table<'a>) {
    let lo = (1.0 - q) / 2.0;
    // With zones, where each oral would be held and each cell's zone.
    let with_zones = |mut names: Vec<&'static str>, extra: &'static str| {
        if zoned.is_some() {
            names.push(extra);
        }
        names
    };
    let cand_columns = vec!["candidate_id", "center", "track", "subject", "probability"];
    let mut cands = Table::new(&with_zones(cand_columns, "oral_center"));
    for r in &fc.rows {
        let c = &data.candidates[r.candidate];
        let mut row: Vec<Field> = vec![
            c.id.as_str().into(),
            data.center_name(c).into(),
            data.track_name(c).into(),
            data.subjects[r.subject as usize].as_str().into(),
            Field::Num(r.probability, 4),
        ];
        if let Some((_, hosts)) = zoned {
            let at = hosts.of(c.center, r.subject);
            row.push(data.centers[at as usize].as_str().into());
        }
        cands.push(row);
    }
    let mut subj = Table::new(&["subject", "expected_candidates", "low", "high"]);
    for s in &fc.subjects {
        subj.push(vec![
            data.subjects[s.key as usize].as_str().into(),
            Field::Num(s.expected(), 2),
            s.dist.quantile(lo).into(),
            s.dist.quantile(1.0 - lo).into(),
        ]);
    }
    let mut cent = Table::new(&[
        "center",
        "subject",
        "day",
        "half_day",
        "expected_candidates",
        "low",
        "high",
    ]);
    for s in &fc.cells {
        let [center, subject, day, half] = data.cell_names(&s.key);
        cent.push(vec![
            center.into(),
            subject.into(),
            day.into(),
            half.into(),
            Field::Num(s.expected(), 2),
            s.dist.quantile(lo).into(),
            s.dist.quantile(1.0 - lo).into(),
        ]);
    }
    let mut conv = Table::new(&with_zones(CONVOCATIONS.to_vec(), "zone"));
    for c in &plan.cells {
        let [center, subject, day, half] = data.cell_names(&c.cell);
        let zone = zoned.map(|(z, _)| z.name_of(c.cell.center));
        let mut row: Vec<Field> = vec![
            center.into(),
            subject.into(),
            day.into(),
            half.into(),
            Field::Num(c.expected, 2),
            c.examiners.into(),
            c.reserve.into(),
            c.capacity.into(),
            Field::Num(c.expected_uncovered, 3),
            Field::Num(c.expected_uncovered_with_reserve, 3),
        ];
        row.extend(zone.map(Field::from));
        conv.push(row);
    }
    // A zone's pooled reserve (when it has one): its centre empty, its expected counts in
    // its cells' rows.
    let pools = zoned.map_or(&[][..], |_| &plan.pools[..]);
    for p in pools.iter().filter(|p| p.reserve > 0) {
        let [_, subject, day, half] = data.cell_names(&plan.cells[p.cells[0]].cell);
        let zones = zoned.map(|(z, _)| &z.map).expect("pools only with zones");
        conv.push(vec![
            "".into(),
            subject.into(),
            day.into(),
            half.into(),
            "".into(),
            0.into(),
            p.reserve.into(),
            p.capacity.into(),
            "".into(),
            "".into(),
            zones.names[p.zone as usize].as_str().into(),
        ]);
    }
    (cands, subj, cent, conv)
}

/// Every file `forecast` may write (or remove, as a leftover of an earlier run).
const FILES: [&str; 9] = [
    "bacpredict.xlsx",
    "hosts.csv",
    "plan.html",
    "candidates.csv",
    "by_subject.csv",
    "by_center.csv",
    "convocations.csv",
    "summons.csv",
    "shortages.csv",
];

/// `convocations.csv`: one row per cell with eligible candidates, 0 examiners included.
const CONVOCATIONS: [&str; 10] = [
    "center",
    "subject",
    "day",
    "half_day",
    "expected_candidates",
    "examiners",
    "reserve",
    "capacity",
    "expected_uncovered",
    "expected_uncovered_with_reserve",
];

/// What one cell of the plan spans, for the summary.
fn capacity_unit(kind: SlotKind) -> &'static str {
    match kind {
        SlotKind::Period => "capacity per examiner over the whole oral period",
        SlotKind::Day => "per day: capacity per examiner and day",
        SlotKind::HalfDay => "per half-day: capacity per examiner and half-day",
    }
}

impl ForecastArgs {
    fn inputs(&self) -> Vec<PathBuf> {
        [
            Some(&self.model),
            Some(&self.candidates),
            self.roster.as_ref(),
        ]
        .into_iter()
        .flatten()
        .chain(self.plan.cells.inputs())
        .cloned()
        .collect()
    }
}

pub(crate) fn run(a: ForecastArgs, notes: &Notes) -> Result<String, Error> {
    refuse_overwriting_inputs(&a.out, &FILES, &a.inputs())?;
    let read = a.input.config(false)?;
    let (popts, q) = a.plan.config(&read)?;
    let model = Model::load(&a.model)?;
    let roster = match &a.roster {
        Some(p) => Some(rename_roster(input::read_roster(p, read.separator)?, &read)),
        None => None,
    };
    let mut data = read_data(std::slice::from_ref(&a.candidates), &read, notes)?;
    let mut popts = popts;
    a.plan
        .cells
        .apply_slots(&mut data, &mut popts, read.separator)?;
    // Read before the forecast, so that a damaged zones file stops the run at once.
    let zones = a.plan.cells.zones(&data, read.separator, notes)?;
    let familiarity = Familiarity::of(&model, &data);
    if let Some(why) = familiarity.refusal().filter(|_| !a.allow_unseen) {
        return Err(Error::Unfamiliar(format!("{}: {why}", a.model.display())));
    }
    let promise = promise::calibrate(&model, &popts, data.slot_kind());
    let fc = forecast::forecast(&model, &data, promise.firm);
    fc.check(&data).map_err(Error::Internal)?;
    for w in &fc.warnings {
        notes.warn(w);
    }
    let reserve_cells =
        (promise.reserve != promise.firm).then(|| fc.cells_widened(&model, &data, promise.reserve));
    let reserve_cells = reserve_cells.as_deref().unwrap_or(&fc.cells);
    let aimed = promise.plan_options(&popts);
    let apart = planning::plan_with_reserve(&fc.cells, reserve_cells, &aimed, &data);
    let widenings = (promise.firm, promise.reserve);
    let regrouped = zones
        .as_ref()
        .map(|z| zones::regrouped(z, &fc, (&model, &data), widenings, &aimed));
    let none = Hosts::default();
    let hosts = regrouped.as_ref().map_or(&none, |r| &r.hosts);
    let zoned_opts = zones.as_ref().map(|z| PlanOptions {
        zones: z.map.clone(),
        ..aimed.clone()
    });
    let zone_map = zoned_opts.as_ref().map_or(&aimed.zones, |o| &o.zones);
    let replanned = regrouped
        .as_ref()
        .zip(zoned_opts.as_ref())
        .map(|(r, o)| planning::plan_with_reserve(&r.firm, &r.reserve, o, &data));
    let plan = replanned.as_ref().unwrap_or(&apart);
    let named = roster
        .as_ref()
        .map(|r| planning::summon(plan, r, (&data, hosts, zone_map)));
    for s in named.iter().flat_map(|(_, shortages)| shortages) {
        let [center, subject, _, _] = data.cell_names(&s.cell);
        notes.warn(&format!(
            "roster short for {subject} at {center}{}: {} of {} {} examiners",
            slot_text(&data, s.cell.slot),
            s.summoned,
            s.planned,
            s.role.code()
        ));
    }
    let zoned = zones.as_ref().map(|z| (z, hosts));
    let regrouping = zoned.map(|_| regrouping_counts(hosts, &apart));
    let mut outputs = output_files(
        &a,
        (&data, &familiarity),
        &fc,
        (plan, zoned),
        named.as_ref(),
        q,
    )?;
    outputs.set_settings(PlanSettings {
        hosts: zones::host_names(hosts, &data),
        zones: zones::zone_names(zone_map, &data),
        ..PlanSettings::of(&popts, data.slot_kind())
    });
    let page = PlanPage {
        candidates: data.candidates.len(),
        model: &a.model.display().to_string(),
        slot_kind: data.slot_kind(),
        interval: q,
        familiarity: &familiarity,
        promise: &promise,
        regrouping,
        shortages: named
            .iter()
            .flat_map(|(_, sh)| sh)
            .map(|s| {
                let [center, subject, _, _] = data.cell_names(&s.cell);
                format!(
                    "{center} {subject}{}: {}/{} ({})",
                    slot_text(&data, s.cell.slot),
                    s.summoned,
                    s.planned,
                    s.role.code()
                )
            })
            .collect(),
    };
    let html = report::plan_page(&data, &fc, plan, &popts, &page, a.output.lang);
    outputs.add("plan.html", html.into_bytes());
    outputs.write(&a.inputs())?;
    let run = Run {
        data: &data,
        fc: &fc,
        plan,
        named: named.as_ref(),
        q,
        promise: &promise,
        regrouping,
    };
    if a.output.json {
        Ok(run.json(&outputs))
    } else {
        run.text(&popts, &a.out)
    }
}

/// `hosts.csv`: one row per (centre, subject) whose orals are held at another centre of
/// its zone.
fn hosts_table<'a>(zones: &'a Zones, hosts: &Hosts, data: &'a Dataset) -> Table<'a> {
    let mut t = Table::new(&["center", "subject", "host_center", "zone"]);
    for (c, s, h) in hosts.moved() {
        t.push(vec![
            data.centers[c as usize].as_str().into(),
            data.subjects[s as usize].as_str().into(),
            data.centers[h as usize].as_str().into(),
            zones.name_of(h).into(),
        ]);
    }
    t
}

/// The roster with its subjects as the subjects file's codes.
fn rename_roster(mut roster: Vec<RosterEntry>, read: &input::ReadOptions) -> Vec<RosterEntry> {
    for e in roster.iter_mut() {
        e.subject = read.subjects.code(&e.subject).to_string();
    }
    roster
}

/// Every file of the run, rendered in memory.
fn output_files(
    a: &ForecastArgs,
    (data, familiarity): (&Dataset, &Familiarity),
    fc: &Forecast,
    (plan, zoned): (&Plan, Option<(&Zones, &Hosts)>),
    named: Option<&(Vec<Summon>, Vec<Shortage>)>,
    q: f64,
) -> Result<Outputs, Error> {
    let style = CsvStyle::for_excel(a.output.excel);
    let hosted = zoned.map(|(z, h)| hosts_table(z, h, data));
    let none = ZoneMap::default();
    let zone_map = zoned.map_or(&none, |(z, _)| &z.map);
    let (cands, subj, cent, conv) = forecast_tables(data, fc, (plan, zoned), q);
    let named_tables =
        named.map(|(summons, shortages)| summons_tables(summons, shortages, (data, zone_map)));
    let mut tables: Vec<(&str, &Table)> = vec![
        ("convocations.csv", &conv),
        ("by_subject.csv", &subj),
        ("by_center.csv", &cent),
        ("candidates.csv", &cands),
    ];
    if let Some((t, sh)) = &named_tables {
        tables.extend([("summons.csv", t), ("shortages.csv", sh)]);
    }
    if let Some(t) = &hosted {
        tables.push(("hosts.csv", t));
    }
    let mut outputs = Outputs::new(&a.out, "forecast");
    for (name, table) in &tables {
        outputs.add_table(name, table, style);
    }
    if a.output.xlsx {
        let mut summary = unseen_rows(familiarity);
        summary.extend(workbook_summary(a, data, fc, plan));
        outputs.add(report::WORKBOOK, report::xlsx(&summary, &tables)?);
    }
    Ok(outputs)
}

/// The workbook summary's first rows when the model does not know every subject or
/// centre of the files: what it does not know, before anything else.
fn unseen_rows(known: &Familiarity) -> Vec<(String, String)> {
    if known.complete() {
        return Vec::new();
    }
    let list = |names: &[String]| format!("{} ({})", names.len(), names.join(", "));
    vec![
        (
            "ATTENTION".to_string(),
            format!(
                "le modèle ne connaît pas tout ce fichier : leurs prévisions et la couverture \
                 reposent sur la moyenne de l'académie. Disciplines connues : {:.0} % des \
                 lignes ; centres connus : {:.0} % des candidats.",
                100.0 * known.row_share(),
                100.0 * known.candidate_share()
            ),
        ),
        (
            "Disciplines inconnues du modèle".to_string(),
            list(&known.unseen_subjects),
        ),
        (
            "Centres inconnus du modèle".to_string(),
            list(&known.unseen_centers),
        ),
    ]
}

/// The workbook's first sheet: what was run and its totals.
fn workbook_summary(
    a: &ForecastArgs,
    data: &Dataset,
    fc: &Forecast,
    plan: &Plan,
) -> Vec<(String, String)> {
    let rows = [
        ("Commande", "bacpredict forecast".to_string()),
        ("Modèle", a.model.display().to_string()),
        ("Candidats (fichier)", a.candidates.display().to_string()),
        ("Règle", plan.rule.clone()),
        ("Candidats", data.candidates.len().to_string()),
        (
            "Oraux attendus",
            format!("{:.0}", fc.expected_orals.iter().sum::<f64>()),
        ),
        ("Examinateurs (fermes)", plan.examiners.to_string()),
        ("Examinateurs (réserve)", plan.reserve.to_string()),
        (
            "Couverture attendue (fermes)",
            format!("{:.1} %", plan.expected_coverage() * 100.0),
        ),
        (
            "Couverture attendue (avec réserve)",
            format!("{:.1} %", plan.expected_coverage_with_reserve() * 100.0),
        ),
        ("Avertissements", fc.warnings.join(" ; ")),
    ];
    rows.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// `summons.csv` and `shortages.csv`; with zones, each with a `zone` column, a zone's
/// pooled reserve without a centre.
fn summons_tables<'a>(
    summons: &'a [Summon],
    shortages: &'a [Shortage],
    (data, zones): (&'a Dataset, &'a ZoneMap),
) -> (Table<'a>, Table<'a>) {
    let mut t = Table::new(input::summons::columns(zones));
    for s in summons {
        t.push(summon_fields(s, data, zones));
    }
    let mut columns = vec![
        "center",
        "subject",
        "day",
        "half_day",
        "role",
        "examiners_planned",
        "summoned",
        "missing",
    ];
    if !zones.is_empty() {
        columns.push("zone");
    }
    let mut sh = Table::new(&columns);
    for s in shortages {
        let [center, subject, day, half] = data.cell_names(&s.cell);
        let mut row: Vec<Field> = vec![
            if s.zone.is_some() { "" } else { center }.into(),
            subject.into(),
            day.into(),
            half.into(),
            s.role.code().into(),
            s.planned.into(),
            s.summoned.into(),
            (s.planned - s.summoned).into(),
        ];
        if !zones.is_empty() {
            let zone = s.zone.or_else(|| zones.of(s.cell.center));
            row.push(zone.map_or("", |z| zones.names[z as usize].as_str()).into());
        }
        sh.push(row);
    }
    (t, sh)
}

/// What the summary printed on stdout reads from.
struct Run<'a> {
    data: &'a Dataset,
    fc: &'a Forecast,
    plan: &'a Plan,
    named: Option<&'a (Vec<Summon>, Vec<Shortage>)>,
    q: f64,
    promise: &'a Promise,
    /// With `--zones`: [`regrouping_counts`].
    regrouping: Option<(usize, usize, usize, usize)>,
}

/// What the regrouping `hosts` saved against the plan `apart` made without it:
/// (centre-subjects moved, (zone, subject)s regrouped, firm and reserve examiners
/// without it).
fn regrouping_counts(hosts: &Hosts, apart: &Plan) -> (usize, usize, usize, usize) {
    let mut groups: Vec<(u32, u32)> = hosts.moved().map(|(_, s, h)| (h, s)).collect();
    groups.sort();
    groups.dedup();
    let moved = hosts.moved().count();
    (moved, groups.len(), apart.examiners, apart.reserve)
}

impl Run<'_> {
    fn regrouping_text(&self) -> Option<String> {
        let (moved, groups, firm, reserve) = self.regrouping?;
        let pools = &self.plan.pools;
        Some(format!(
            "Zones: {groups} subjects of a zone held at one centre ({moved} centre-subjects moved, hosts.csv); {} examiners on call for a whole zone ({} zone, subject and half-day pools, rows without a centre in convocations.csv), about {:.1} idle examiners expected to move to another centre of their zone: {} firm and {} reserve examiners, against {firm} and {reserve} without zones.",
            pools.iter().map(|p| p.reserve).sum::<usize>(),
            pools.iter().filter(|p| p.reserve > 0).count(),
            pools.iter().map(|p| p.expected_moves).sum::<f64>(),
            self.plan.examiners,
            self.plan.reserve
        ))
    }

    /// Per subject: the row as (subject, eligible, expected, low, high, examiners,
    /// expected uncovered).
    fn subject_rows(&self) -> Vec<(&str, usize, f64, usize, usize, usize, f64)> {
        let lo = (1.0 - self.q) / 2.0;
        let by_subject = self.plan.by_subject();
        self.fc
            .subjects
            .iter()
            .map(|s| {
                let p = by_subject.get(&s.key).copied().unwrap_or_default();
                let (low, high) = (s.dist.quantile(lo), s.dist.quantile(1.0 - lo));
                (
                    self.data.subjects[s.key as usize].as_str(),
                    s.eligible,
                    s.expected(),
                    low,
                    high,
                    p.0,
                    p.2,
                )
            })
            .collect()
    }

    fn json(&self, outputs: &Outputs) -> String {
        let subjects: Vec<_> = self
            .subject_rows()
            .into_iter()
            .map(
                |(subject, eligible, expected, low, high, examiners, uncovered)| {
                    json!({
                        "subject": subject,
                        "eligible": eligible,
                        "expected": expected,
                        "low": low,
                        "high": high,
                        "examiners": examiners,
                        "expected_uncovered": uncovered,
                    })
                },
            )
            .collect();
        let (data, fc, plan) = (self.data, self.fc, self.plan);
        let v = json!({
            "candidates": data.candidates.len(),
            "set_aside": data.set_aside,
            "rows_without_mark": data.without_mark.iter().map(|(_, n)| n).sum::<usize>(),
            "expected_orals": fc.expected_orals.iter().sum::<f64>(),
            "interval": self.q,
            "subjects": subjects,
            "plan": {
                "rule": plan.rule,
                "capacity_unit": capacity_unit(data.slot_kind()),
                "examiners": plan.examiners,
                "reserve": plan.reserve,
                "expected_coverage": plan.expected_coverage(),
                "expected_coverage_with_reserve": plan.expected_coverage_with_reserve(),
                "expected_reserve_calls": plan.expected_calls,
                "pools": plan.pools.len(),
                "pooled_reserve": plan.pools.iter().map(|p| p.reserve).sum::<usize>(),
                "expected_moves": plan.pools.iter().map(|p| p.expected_moves).sum::<f64>(),
                "expected_uncovered": plan.expected_uncovered,
                "marginal_examiners": plan.marginal_examiners,
                "per_cell_95_examiners": plan.per_cell_95_examiners,
            },
            "promise": self.promise,
            "regrouping": self.regrouping.map(|(moved, groups, firm, reserve)| json!({
                "moved": moved,
                "groups": groups,
                "examiners_without": firm,
                "reserve_without": reserve,
            })),
            "summoned": self.named.map(|(s, _)| s.len()),
            "shortages": self.named.map(|(_, s)| s.len()),
            "warnings": fc.warnings,
            "files": outputs.paths().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        });
        format!("{}\n", serde_json::to_string_pretty(&v).expect("json"))
    }

    fn text(&self, popts: &PlanOptions, dir: &Path) -> Result<String, Error> {
        let mut out = String::new();
        let rows: Vec<Vec<String>> = self
            .subject_rows()
            .into_iter()
            .map(|(subject, eligible, expected, low, high, examiners, _)| {
                vec![
                    subject.to_string(),
                    eligible.to_string(),
                    format!("{expected:.1}"),
                    format!("{low}-{high}"),
                    examiners.to_string(),
                ]
            })
            .collect();
        let interval = format!("{:.0}% interval", self.q * 100.0);
        let header = [
            "subject",
            "eligible",
            "expected orals",
            &interval,
            "examiners",
        ];
        write!(out, "{}", text_table(&header, &rows))?;
        let (data, fc, plan) = (self.data, self.fc, self.plan);
        writeln!(
            out,
            "\n{} candidates, {:.0} orals expected, {} cells ({}). Plan ({}): {} firm examiners, expected coverage {}, {:.1} orals expected uncovered.",
            data.candidates.len(),
            fc.expected_orals.iter().sum::<f64>(),
            plan.cells.len(),
            capacity_unit(data.slot_kind()),
            plan.rule,
            plan.examiners,
            pct(plan.expected_coverage()),
            plan.expected_uncovered
        )?;
        writeln!(
            out,
            "Reserve: {} examiners on call; with every one called, expected coverage {}; about {:.1} calls expected.",
            plan.reserve,
            pct(plan.expected_coverage_with_reserve()),
            plan.expected_calls
        )?;
        writeln!(out, "{}", promise_text(self.promise))?;
        if let Some(t) = self.regrouping_text() {
            writeln!(out, "{t}")?;
        }
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
        if let Some((summons, sh)) = self.named {
            writeln!(
                out,
                "Roster: {} convocations; {} cell{} short (see shortages.csv).",
                summons.len(),
                sh.len(),
                if sh.len() == 1 { "" } else { "s" }
            )?;
        }
        writeln!(out, "Files written in {}", dir.display())?;
        Ok(out)
    }
}
