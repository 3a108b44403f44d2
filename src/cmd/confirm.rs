//! `bacpredict confirm`: results day. From this year's candidates, their real choices
//! and the convocations sent (`summons.csv` of `forecast --roster`): who comes, who is
//! released, which reserves are called, which orals have no examiner, and the
//! timetable of every other oral, per candidate and per examiner.
//!
//! It reads the summons file the office acted on rather than a plan folder: that file
//! is what the examiners received, whatever was edited by hand since.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use super::args::{within, CellArgs, InputArgs, OutputArgs};
use super::{read_data, refuse_overwriting_inputs, slot_text, summon_fields, usage, Error, Notes};
use crate::confirm::timetable::{self, clock, parse_clock, Timetable, TimetableOptions};
use crate::confirm::{self, Action, Decisions};
use crate::data::{CellKey, Dataset, Hosts, SlotKind, Summon, ZoneMap};
use crate::input::{self, Choices, Durations};
use crate::planning::{PlanOptions, PlanSettings};
use crate::report::{self, text_table, CsvStyle, Manifest, Outputs, Table};
use crate::zones;

#[derive(Debug, Args)]
pub(crate) struct ConfirmArgs {
    /// This year's candidates: the file given to `forecast` (with its slots).
    #[arg(long, value_name = "FILE")]
    pub(crate) candidates: PathBuf,
    /// The orals chosen: CSV `candidate_id,subject`, one row per oral (0 to 2 per
    /// candidate; a candidate absent from it takes no oral).
    #[arg(long, value_name = "FILE")]
    pub(crate) choices: PathBuf,
    /// The convocations sent: `summons.csv` of `forecast --roster` (firm and reserve).
    #[arg(long, value_name = "FILE")]
    pub(crate) summons: PathBuf,
    /// Folder for confirmations.csv, shortages.csv, timetable.csv and examiners.csv.
    #[arg(long, value_name = "DIR")]
    pub(crate) out: PathBuf,
    /// The capacity and slot options, as given to `forecast`. By default they are read
    /// from the plan's `manifest.json` next to the summons file.
    #[command(flatten)]
    pub(crate) cells: CellArgs,
    /// Judge the convocations with a --capacity (or --capacity-file) other than the
    /// plan's own, as recorded in its `manifest.json`.
    #[arg(long)]
    pub(crate) force_capacity: bool,
    /// CSV `subject,preparation,oral` in minutes, overriding --preparation and --oral.
    #[arg(long, value_name = "FILE")]
    pub(crate) durations: Option<PathBuf>,
    /// Minutes of preparation before each oral.
    #[arg(long, default_value_t = 20, value_name = "MINUTES")]
    pub(crate) preparation: u32,
    /// Minutes of interrogation.
    #[arg(long, default_value_t = 20, value_name = "MINUTES")]
    pub(crate) oral: u32,
    /// Minutes between the end of a candidate's first oral and the start of the second's
    /// preparation.
    #[arg(long, default_value_t = 10, value_name = "MINUTES")]
    pub(crate) gap: u32,
    /// The same when the two orals are in two centres (a plan made with --zones held one
    /// of them at another centre of the zone): the time to go from one to the other.
    #[arg(long, default_value_t = 30, value_name = "MINUTES")]
    pub(crate) travel: u32,
    /// When the first candidates of a morning (or of a whole day) start preparing.
    #[arg(long, default_value = "08:00", value_name = "HH:MM")]
    pub(crate) am_start: String,
    /// When the first candidates of an afternoon start preparing.
    #[arg(long, default_value = "13:30", value_name = "HH:MM")]
    pub(crate) pm_start: String,
    #[command(flatten)]
    pub(crate) input: InputArgs,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

/// The settings of the plan the summons come from, with the path of the `manifest.json`
/// next to the summons file that holds them, when `forecast` wrote it; `None`, said in a
/// note, otherwise.
fn plan_settings(a: &ConfirmArgs, notes: &Notes) -> Result<Option<(PathBuf, PlanSettings)>, Error> {
    let dir = a.summons.parent().unwrap_or(std::path::Path::new(""));
    let dir = if dir.as_os_str().is_empty() {
        std::path::Path::new(".")
    } else {
        dir
    };
    let settings = Manifest::read(dir)
        .filter(|m| m.command == "forecast")
        .and_then(|m| m.settings);
    let Some(settings) = settings else {
        notes.say(&format!(
            "no plan manifest.json with its settings next to {}: capacity and slots from the options",
            a.summons.display()
        ));
        return Ok(None);
    };
    let manifest = a.summons.with_file_name(report::MANIFEST);
    settings.check().map_err(|e| {
        usage(format!(
            "{}: the plan's settings hold {e}; the file was edited or damaged: write the \
             plan again with `bacpredict forecast`, or move the summons file away from it",
            manifest.display()
        ))
    })?;
    Ok(Some((manifest, settings)))
}

/// The plan's capacity, per-subject capacities and slot unit, unless the options say
/// otherwise: a different capacity is refused without `--force-capacity` (it would judge
/// the convocations by a rule they were not made with), different slots always.
fn follow_plan(
    a: &ConfirmArgs,
    (manifest, plan): &(PathBuf, PlanSettings),
    popts: &mut PlanOptions,
    slots: SlotKind,
    notes: &Notes,
) -> Result<(), Error> {
    if slots.code() != plan.slots {
        return Err(usage(format!(
            "the plan ({}) was made with slots '{}', these candidates give slots '{}': give \
             confirm the candidates file and the --schedule the plan was made with",
            manifest.display(),
            plan.slots,
            slots.code()
        )));
    }
    let asked = a.cells.capacity.is_some() || a.cells.capacity_file.is_some();
    let differs =
        popts.capacity != plan.capacity || popts.capacity_by_subject != plan.capacity_by_subject;
    if asked && differs && !a.force_capacity {
        return Err(usage(format!(
            "the plan ({}) was made with a capacity of {} per cell{}; judging its convocations \
             at {} would count as short cells that were planned full. Leave out --capacity and \
             --capacity-file to use the plan's, or pass --force-capacity",
            manifest.display(),
            plan.capacity,
            if plan.capacity_by_subject.is_empty() {
                ""
            } else {
                " (and per-subject capacities)"
            },
            popts.capacity
        )));
    }
    if asked && differs {
        notes.warn(&format!(
            "capacity {} instead of the plan's {} (--force-capacity)",
            popts.capacity, plan.capacity
        ));
        return Ok(());
    }
    popts.capacity = plan.capacity;
    popts.capacity_by_subject = plan.capacity_by_subject.clone();
    notes.say(&format!(
        "plan settings from {}: capacity {} per cell, slots '{}'",
        manifest.display(),
        plan.capacity,
        plan.slots
    ));
    Ok(())
}

/// Refuses a timetable that runs past midnight (`--oral 120 --am-start 23:50` would
/// end an oral at "26:10"): a usage error naming where and how to fix it.
fn within_the_day(tt: &Timetable, data: &Dataset) -> Result<(), Error> {
    const MIDNIGHT: u32 = 24 * 60;
    let Some(late) = tt
        .ends
        .iter()
        .filter(|e| e.last_end > MIDNIGHT)
        .max_by_key(|e| e.last_end)
    else {
        return Ok(());
    };
    Err(usage(format!(
        "the timetable at {}{} would end at {} the next day: start earlier (--am-start, \
         --pm-start) or shorten the orals (--preparation, --oral, --durations)",
        data.centers[late.center as usize],
        slot_text(data, late.slot),
        clock(late.last_end - MIDNIGHT),
    )))
}

/// Every file `confirm` writes.
const FILES: [&str; 5] = [
    "bacpredict.xlsx",
    "confirmations.csv",
    "shortages.csv",
    "timetable.csv",
    "examiners.csv",
];

impl ConfirmArgs {
    fn inputs(&self) -> Vec<PathBuf> {
        [&self.candidates, &self.choices, &self.summons]
            .into_iter()
            .chain(self.cells.inputs())
            .chain(&self.durations)
            .cloned()
            .collect()
    }

    fn timetable_options(&self, sep: input::Separator) -> Result<TimetableOptions, Error> {
        let clock_of = |name: &str, v: &str| {
            parse_clock(v).ok_or_else(|| usage(format!("--{name} must be a time HH:MM, got {v}")))
        };
        Ok(TimetableOptions {
            am_start: clock_of("am-start", &self.am_start)?,
            pm_start: clock_of("pm-start", &self.pm_start)?,
            gap: within("gap", self.gap, 0, 240, "minutes")?,
            travel: within("travel", self.travel, 0, 240, "minutes")?,
            default: Durations {
                preparation: within("preparation", self.preparation, 1, 240, "minutes")?,
                oral: within("oral", self.oral, 1, 240, "minutes")?,
            },
            by_subject: match &self.durations {
                Some(p) => input::read_durations(p, sep)?,
                None => BTreeMap::new(),
            },
        })
    }
}

pub(crate) fn run(mut a: ConfirmArgs, notes: &Notes) -> Result<String, Error> {
    refuse_overwriting_inputs(&a.out, &FILES, &a.inputs())?;
    let read = a.input.config(false)?;
    let mut popts = a.cells.config(&read)?;
    let topts = a.timetable_options(read.separator)?;
    let (rows, repeats) = input::summons::read_summons(&a.summons, read.separator)?;
    for n in &repeats {
        notes.say(n);
    }
    let mut data = read_data(std::slice::from_ref(&a.candidates), &read, notes)?;
    let plan = plan_settings(&a, notes)?;
    if plan
        .as_ref()
        .is_some_and(|(_, p)| p.slots == SlotKind::Period.code())
    {
        a.cells.whole_period = true;
    }
    a.cells.apply_slots(&mut data, &mut popts, read.separator)?;
    // The summons' names first: they renumber the data's ids the hosts and zones use.
    input::summons::add_names(&rows, &mut data);
    if let Some(plan) = &plan {
        follow_plan(&a, plan, &mut popts, data.slot_kind(), notes)?;
        popts.hosts = zones::hosts_of_names(&plan.1.hosts, &data).map_err(|e| {
            usage(format!(
                "{}: the plan holds orals of {e} at another centre, which these candidates do \
                 not have: give confirm the candidates file the plan was made with",
                plan.0.display()
            ))
        })?;
    }
    popts.zones = zone_map(&a, plan.as_ref(), &data, (read.separator, notes))?;
    let summons = input::summons::resolve(rows, &data, &popts.zones, &a.summons)?;
    let choices = input::read_choices(&a.choices, &read, &data)?;
    let decisions = confirm::decide(&data, &choices, &summons, &popts);
    let tt = timetable::timetable(&data, (&choices, &popts.hosts), &decisions, &topts);
    within_the_day(&tt, &data)?;
    let day = Day {
        data: &data,
        choices: &choices,
        summons: &summons,
        decisions: &decisions,
        tt: &tt,
        hosts: &popts.hosts,
        zones: &popts.zones,
    };
    let style = CsvStyle::for_excel(a.output.excel);
    for (cell, n, _) in day.shortages() {
        let [center, subject, _, _] = data.cell_names(&cell);
        notes.warn(&format!(
            "{n} oral{} of {subject} at {center}{} without an examiner",
            if n == 1 { "" } else { "s" },
            slot_text(&data, cell.slot)
        ));
    }
    day.files(&a.out, style, a.output.xlsx)?
        .write(&a.inputs())?;
    if a.output.json {
        Ok(day.json())
    } else {
        day.text(&a.out)
    }
}

/// The zones examiners move and pooled reserves are sent within: those of `--zones`,
/// else those the plan's manifest recorded (a plan made with `--zones`), else none.
fn zone_map(
    a: &ConfirmArgs,
    plan: Option<&(PathBuf, PlanSettings)>,
    data: &Dataset,
    (sep, notes): (input::Separator, &Notes),
) -> Result<ZoneMap, Error> {
    if let Some(z) = a.cells.zones(data, sep, notes)? {
        return Ok(z.map);
    }
    let Some((manifest, settings)) = plan.filter(|(_, p)| !p.zones.is_empty()) else {
        return Ok(ZoneMap::default());
    };
    notes.say(&format!("zones from {}", manifest.display()));
    let table = settings
        .zones
        .iter()
        .map(|[c, z]| (c.clone(), z.clone()))
        .collect();
    Ok(zones::map_of_names(&table, data))
}

/// Everything results day computed.
struct Day<'a> {
    data: &'a Dataset,
    choices: &'a Choices,
    summons: &'a [Summon],
    decisions: &'a Decisions,
    tt: &'a Timetable,
    /// Where the plan holds each (centre, subject)'s orals.
    hosts: &'a Hosts,
    /// The zones examiners moved within (empty without).
    zones: &'a ZoneMap,
}

/// A cell (centre, subject, day, half-day) and its orals without an examiner.
type Short = (CellKey, usize, Vec<String>);

impl Day<'_> {
    /// Per cell, the orals no examiner could take, with the candidates' ids.
    fn shortages(&self) -> Vec<Short> {
        let mut by: BTreeMap<CellKey, Vec<String>> = BTreeMap::new();
        for u in &self.tt.unheard {
            let c = &self.data.candidates[u.candidate];
            let subject = self
                .data
                .subject_id(&u.subject)
                .expect("a subject of the data");
            let key = CellKey {
                center: self.hosts.of(c.center, subject),
                subject,
                slot: c.slot,
            };
            by.entry(key).or_default().push(c.id.clone());
        }
        by.into_iter().map(|(k, ids)| (k, ids.len(), ids)).collect()
    }

    fn files(&self, dir: &std::path::Path, style: CsvStyle, xlsx: bool) -> Result<Outputs, Error> {
        let (c, s, t, e) = (
            self.confirmations(),
            self.shortage_table(),
            self.timetable_table(),
            self.examiners_table(),
        );
        let tables = [
            ("confirmations.csv", &c),
            ("shortages.csv", &s),
            ("timetable.csv", &t),
            ("examiners.csv", &e),
        ];
        let mut outputs = Outputs::new(dir, "confirm");
        for (name, table) in tables {
            outputs.add_table(name, table, style);
        }
        if xlsx {
            let [come, release, call, stay] = self.counts();
            let summary: Vec<(String, String)> = [
                ("Commande", "bacpredict confirm".to_string()),
                ("Viennent", come.to_string()),
                ("Libérés", release.to_string()),
                ("Réserves appelées", call.to_string()),
                ("Réserves non appelées", stay.to_string()),
                (
                    "Déplacés dans leur zone",
                    self.decisions.count(Action::Move).to_string(),
                ),
                ("Oraux sans examinateur", self.tt.unheard.len().to_string()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            outputs.add(report::WORKBOOK, report::xlsx(&summary, &tables)?);
        }
        Ok(outputs)
    }

    fn confirmations(&self) -> Table<'_> {
        let zoned = !self.zones.is_empty();
        let mut header: Vec<&str> = input::summons::columns(self.zones).to_vec();
        header.push("action");
        if zoned {
            header.push("sent_to_center");
        }
        let mut t = Table::new(&header);
        let d = self.decisions;
        for ((s, a), sent) in self.summons.iter().zip(&d.actions).zip(&d.sent) {
            let mut row = summon_fields(s, self.data, self.zones);
            row.push(a.code().into());
            if zoned {
                let to = sent.map_or("", |k| self.data.centers[k.center as usize].as_str());
                row.push(to.into());
            }
            t.push(row);
        }
        t
    }

    fn shortage_table(&self) -> Table<'static> {
        let mut t = Table::new(&[
            "center",
            "subject",
            "day",
            "half_day",
            "orals_without_examiner",
            "candidates",
        ]);
        for (cell, n, ids) in self.shortages() {
            let [center, subject, day, half] = self.data.cell_names(&cell);
            t.push(vec![
                center.to_string().into(),
                subject.to_string().into(),
                day.to_string().into(),
                half.to_string().into(),
                n.into(),
                ids.join(";").into(),
            ]);
        }
        t
    }

    fn timetable_table(&self) -> Table<'_> {
        let mut t = Table::new(&[
            "candidate_id",
            "center",
            "day",
            "subject",
            "examiner_id",
            "preparation_start",
            "oral_start",
            "oral_end",
        ]);
        let mut orals: Vec<&timetable::Scheduled> = self.tt.orals.iter().collect();
        orals.sort_by_key(|o| (&self.data.candidates[o.candidate].id, o.oral_start));
        for o in orals {
            let c = &self.data.candidates[o.candidate];
            t.push(vec![
                c.id.as_str().into(),
                self.data.centers[o.center as usize].as_str().into(),
                self.data.slot_labels(c.slot).0.into(),
                o.subject.clone().into(),
                self.summons[o.examiner].examiner_id.as_str().into(),
                clock(o.preparation_start).into(),
                clock(o.oral_start).into(),
                clock(o.oral_end).into(),
            ]);
        }
        t
    }

    /// Each examiner's candidates in order, ready to print.
    fn examiners_table(&self) -> Table<'_> {
        let mut t = Table::new(&[
            "examiner_id",
            "name",
            "subject",
            "center",
            "day",
            "half_day",
            "order",
            "candidate_id",
            "preparation_start",
            "oral_start",
            "oral_end",
        ]);
        let mut orals: Vec<&timetable::Scheduled> = self.tt.orals.iter().collect();
        orals.sort_by_key(|o| (o.examiner, o.oral_start));
        let mut order = 0;
        let mut last = usize::MAX;
        for o in orals {
            order = if o.examiner == last { order + 1 } else { 1 };
            last = o.examiner;
            let s = &self.summons[o.examiner];
            let at = self.decisions.sent[o.examiner].unwrap_or(s.cell);
            let [center, subject, day, half] = self.data.cell_names(&at);
            t.push(vec![
                s.examiner_id.as_str().into(),
                s.name.as_str().into(),
                subject.into(),
                center.into(),
                day.into(),
                half.into(),
                order.into(),
                self.data.candidates[o.candidate].id.as_str().into(),
                clock(o.preparation_start).into(),
                clock(o.oral_start).into(),
                clock(o.oral_end).into(),
            ]);
        }
        t
    }

    fn counts(&self) -> [usize; 4] {
        [
            Action::Come,
            Action::Release,
            Action::Call,
            Action::StayHome,
        ]
        .map(|a| self.decisions.count(a))
    }

    /// Per zone (with zones): firm examiners who come, moved, released; reserves
    /// called, left at home.
    fn by_zone(&self) -> Vec<(&str, [usize; 5])> {
        let mut by: BTreeMap<u32, [usize; 5]> = BTreeMap::new();
        for (s, a) in self.summons.iter().zip(&self.decisions.actions) {
            let Some(zone) = s.zone.or_else(|| self.zones.of(s.cell.center)) else {
                continue;
            };
            let k = match a {
                Action::Come => 0,
                Action::Move => 1,
                Action::Release => 2,
                Action::Call => 3,
                Action::StayHome => 4,
            };
            by.entry(zone).or_default()[k] += 1;
        }
        by.into_iter()
            .map(|(z, n)| (self.zones.names[z as usize].as_str(), n))
            .collect()
    }

    fn json(&self) -> String {
        let [come, release, call, stay] = self.counts();
        let short = self.shortages();
        let v = json!({
            "orals": self.choices.values().map(Vec::len).sum::<usize>(),
            "orals_without_examiner": short.iter().map(|s| s.1).sum::<usize>(),
            "cells_short": short.len(),
            "come": come,
            "release": release,
            "call": call,
            "stay_home": stay,
            "moved": self.decisions.count(Action::Move),
            "zones": self.by_zone().into_iter().map(|(zone, [come, moved, release, call, stay])| json!({
                "zone": zone,
                "come": come,
                "moved": moved,
                "release": release,
                "call": call,
                "stay_home": stay,
            })).collect::<Vec<_>>(),
            "slots": self.tt.ends.iter().map(|e| json!({
                "center": self.data.centers[e.center as usize],
                "day": self.data.slot_labels(e.slot).0,
                "half_day": self.data.slot_labels(e.slot).1,
                "last_end": clock(e.last_end),
                "lower_bound": clock(e.lower_bound),
            })).collect::<Vec<_>>(),
        });
        format!("{}\n", serde_json::to_string_pretty(&v).expect("json"))
    }

    fn text(&self, dir: &std::path::Path) -> Result<String, Error> {
        let mut out = String::new();
        let short = self.shortages();
        if !short.is_empty() {
            let n: usize = short.iter().map(|s| s.1).sum();
            writeln!(
                out,
                "SHORTAGE: {n} oral{} in {} cell{} without an examiner (see shortages.csv).",
                if n == 1 { "" } else { "s" },
                short.len(),
                if short.len() == 1 { "" } else { "s" }
            )?;
        }
        let [come, release, call, stay] = self.counts();
        let orals: usize = self.choices.values().map(Vec::len).sum();
        writeln!(
            out,
            "{orals} orals chosen. Firm examiners: {come} come, {release} released. Reserves: {call} called, {stay} stay home."
        )?;
        let zones = self.by_zone();
        if !zones.is_empty() {
            let moved = self.decisions.count(Action::Move);
            writeln!(
                out,
                "Zones: {moved} firm examiner{} moved to another centre of their zone before any reserve was called (confirmations.csv, sent_to_center).",
                if moved == 1 { "" } else { "s" }
            )?;
            let rows: Vec<Vec<String>> = zones
                .into_iter()
                .map(|(z, n)| {
                    std::iter::once(z.to_string())
                        .chain(n.map(|v| v.to_string()))
                        .collect()
                })
                .collect();
            let header = ["zone", "come", "moved", "released", "called", "stay home"];
            write!(out, "{}", text_table(&header, &rows))?;
        }
        let rows: Vec<Vec<String>> = self
            .tt
            .ends
            .iter()
            .map(|e| {
                let (day, half) = self.data.slot_labels(e.slot);
                vec![
                    self.data.centers[e.center as usize].clone(),
                    day.to_string(),
                    half.to_string(),
                    clock(e.last_end),
                    clock(e.lower_bound),
                    format!("{}", e.last_end.saturating_sub(e.lower_bound)),
                ]
            })
            .collect();
        let header = [
            "centre",
            "day",
            "half-day",
            "last end",
            "lower bound",
            "minutes over",
        ];
        write!(out, "{}", text_table(&header, &rows))?;
        writeln!(out, "Files written in {}", dir.display())?;
        Ok(out)
    }
}
