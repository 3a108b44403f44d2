//! Fuzz: our own fuzzing of everything that reads what a user hands the tool.
//!
//! `cargo fuzz` needs a nightly compiler, which the project's machines do not have, so
//! the targets live here, with mutations of our own (byte flips, truncations, swapped
//! and duplicated lines, nasty field values, edited model numbers): the test suite runs a
//! few hundred cases of each through proptest, and `examples/fuzz.rs` runs them for as
//! long as asked. A case fails when the tool panics, accepts what it should refuse
//! (a NaN probability), or says what it must not (a message over its cap, a raw control
//! character, a value running over several lines). Hangs are caught by the example's
//! watchdog.
//!
//! Built for `cargo test` and, with the `fuzz` feature, public so that the example can
//! reach it; never part of the shipped tool.

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::data::Dataset;
use crate::input::{self, ReadOptions, Separator};
use crate::model::{FitOptions, Model};

/// What is fuzzed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The history reader (every file rule).
    History,
    /// The reader of the file to forecast (`chosen` optional).
    Candidates,
    /// Training on small, mutated subsets of the sample history (hangs, NaN fits).
    Train,
    /// The model loader, then a forecast with whatever it accepted.
    Model,
    /// The roster reader.
    Roster,
    /// The capacity-file reader.
    Capacities,
    /// The candidate reader on damaged or mutated spreadsheets (calamine).
    Spreadsheet,
    /// The candidate reader on an office's export: a title block, French column names,
    /// ';', decimal commas, Windows-1252, absent marks (the header search and aliases).
    Export,
    /// `--column NAME=HEADER` values, then the export read with the mapping.
    Column,
    /// The subjects file (`--subjects`).
    Subjects,
    /// `summons.csv` as an office edits it (repeated rows, an examiner in two cells).
    Summons,
    /// A plan's `manifest.json`, whose settings `confirm` follows.
    Manifest,
    /// The zones file (`--zones`), then its zones for the sample's centres.
    Zones,
    /// An office's regrouping (`--regroup FILE`), against the sample's zones and centres.
    Regroup,
}

impl Target {
    pub const ALL: [Target; 14] = [
        Target::History,
        Target::Candidates,
        Target::Train,
        Target::Model,
        Target::Roster,
        Target::Capacities,
        Target::Spreadsheet,
        Target::Export,
        Target::Column,
        Target::Subjects,
        Target::Summons,
        Target::Manifest,
        Target::Zones,
        Target::Regroup,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Target::History => "history",
            Target::Candidates => "candidates",
            Target::Train => "train",
            Target::Model => "model",
            Target::Roster => "roster",
            Target::Capacities => "capacities",
            Target::Spreadsheet => "spreadsheet",
            Target::Export => "export",
            Target::Column => "column",
            Target::Subjects => "subjects",
            Target::Summons => "summons",
            Target::Manifest => "manifest",
            Target::Zones => "zones",
            Target::Regroup => "regroup",
        }
    }

    pub fn parse(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// The seed inputs, from the bundled sample under `repo`.
pub struct Corpus {
    history: Vec<u8>,
    candidates: Vec<u8>,
    model: Vec<u8>,
    roster: Vec<u8>,
    zones: Vec<u8>,
    /// The first candidates as a workbook.
    workbook: Vec<u8>,
    /// The first candidates as an office exports them ([`Target::Export`]).
    export: Vec<u8>,
    /// A few hundred forecast candidates, to forecast with an accepted model quickly.
    small_candidates: Dataset,
}

impl Corpus {
    pub fn load(repo: &Path) -> std::io::Result<Corpus> {
        let read = |p: &str| std::fs::read(repo.join(p));
        let candidates = read("data/sample/candidates.csv")?;
        let workbook = as_workbook(&take_lines(&candidates, 300))
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let export = french_export(&take_lines(&candidates, 300));
        let head: Vec<u8> = take_lines(&candidates, 800);
        let tmp = tempfile::NamedTempFile::new()?;
        std::fs::write(tmp.path(), &head)?;
        let opts = ReadOptions {
            require_chosen: false,
            ..ReadOptions::default()
        };
        let small = input::read_files(&[tmp.path().to_path_buf()], &opts)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(Corpus {
            history: read("data/sample/history.csv")?,
            candidates,
            model: read("models/sample.json")?,
            roster: read("data/sample/roster.csv")?,
            zones: read("data/sample/zones.csv")?,
            workbook,
            export,
            small_candidates: small,
        })
    }

    fn seed(&self, target: Target) -> Vec<u8> {
        match target {
            Target::History => take_lines(&self.history, 3000),
            // Candidates of every session, so that the rolling-origin fits run too.
            Target::Train => self.history.clone(),
            Target::Candidates => take_lines(&self.candidates, 3000),
            Target::Model => self.model.clone(),
            Target::Roster => self.roster.clone(),
            Target::Zones => self.zones.clone(),
            Target::Regroup => REGROUP_SEED.as_bytes().to_vec(),
            Target::Capacities => b"subject,capacity\nPHILOSOPHIE,20\nSES,12\n".to_vec(),
            Target::Spreadsheet => self.workbook.clone(),
            Target::Export => self.export.clone(),
            Target::Column => b"grade=note_finale".to_vec(),
            Target::Summons => SUMMONS_SEED.as_bytes().to_vec(),
            Target::Manifest => MANIFEST_SEED.as_bytes().to_vec(),
            Target::Subjects => "code;alias\nSES;\"SCIENCES ECONOMIQUES ET SOCIALES|Sciences éco.\"\nHGGSP;HG-GSP\nHGGSP;HIST GEO\n".as_bytes().to_vec(),
        }
    }
}

/// CSV bytes as a one-sheet workbook, cell by cell (numbers where they parse).
fn as_workbook(csv_bytes: &[u8]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(csv_bytes);
    for (r, rec) in rdr.records().flatten().enumerate().take(5000) {
        for (c, v) in rec.iter().enumerate().take(100) {
            let (r, c) = (r as u32, c as u16);
            match v.parse::<f64>() {
                Ok(x) if x.is_finite() => sheet.write_number(r, c, x)?,
                _ => sheet.write_string(r, c, v)?,
            };
        }
    }
    book.save_to_buffer()
}

/// A summons file with a repeated row and a reserve, as the office may leave it.
const SUMMONS_SEED: &str = "examiner_id,name,subject,center,day,half_day,role,zone\n\
    EX1,A,SES,C1,2026-07-08,am,firm,Z1\nEX1,A,SES,C1,2026-07-08,am,firm,Z1\n\
    EX2,B,SES,C1,2026-07-08,pm,reserve,Z1\nEX3,C,MATHS,C2,,,firm,\n\
    EX4,D,SES,,2026-07-08,am,reserve,Z1\nEX5,E,SES,,2026-07-08,pm,reserve,Nowhere\n";

/// A plan's manifest with its settings.
const REGROUP_SEED: &str = "zone;subject;centre hôte\nNancy;FRANCAIS;\"Lycée Loritz, Nancy\"\nMetz;NSI;\"Lycée Fabert, Metz\"\n";

const MANIFEST_SEED: &str = r#"{"tool":"bacpredict 0.1.0","command":"forecast","run":"0","files":[],
"settings":{"slots":"half_day","capacity":8,"capacity_by_subject":{"SES":6},"coverage":0.995,"reserve_coverage":0.999,"service_level":null,
"hosts":[["Lycée Fabert, Metz","SES","Lycée Louis-Vincent, Metz"],["Lycée Loritz, Nancy","NSI","Lycée Henri-Poincaré, Nancy"]],
"zones":[["Lycée Fabert, Metz","Metz"],["Lycée Loritz, Nancy","Nancy"]]}}"#;

/// Candidate CSV bytes as an office exports them: a title line, French column names,
/// ';' and decimal commas, an absent mark on every 25th row, Windows-1252.
fn french_export(csv_bytes: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(csv_bytes);
    let mut out = String::from("Académie - export du 4 juillet;;\r\n");
    out += "Session;N° candidat;Centre d'examen;Série;Moyenne;Matière;Coef;note_finale;Choix;Date;Demi-journée\r\n";
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    for (i, rec) in rdr.records().flatten().enumerate() {
        let fields: Vec<String> = rec
            .iter()
            .enumerate()
            .map(|(k, f)| match k {
                7 if i % 25 == 3 => "ABS".to_string(),
                4 | 7 => f.replace('.', ","),
                _ if f.contains(';') => format!("\"{f}\""),
                _ => f.to_string(),
            })
            .collect();
        out += &fields.join(";");
        out += "\r\n";
    }
    encoding_rs::WINDOWS_1252.encode(&out).0.into_owned()
}

/// The first `n` lines of `bytes`.
fn take_lines(bytes: &[u8], n: usize) -> Vec<u8> {
    let end = bytes
        .iter()
        .enumerate()
        .filter(|(_, &b)| b == b'\n')
        .nth(n)
        .map_or(bytes.len(), |(i, _)| i + 1);
    bytes[..end].to_vec()
}

/// The input of case `case` of `target`: a mutation of the seed, or for [`Target::Train`]
/// a lightly mutated random subset of 10 to 100 candidates.
pub fn input(corpus: &Corpus, target: Target, case: u64) -> Vec<u8> {
    let mut rng = ChaCha8Rng::seed_from_u64(case);
    let seed = corpus.seed(target);
    if target == Target::Train {
        let subset = candidate_subset(&seed, &mut rng);
        return if rng.random_bool(0.3) {
            mutate(&subset, &mut rng, 1)
        } else {
            subset
        };
    }
    if target == Target::Model && rng.random_bool(0.7) {
        return edit_model_number(&seed, &mut rng);
    }
    if target == Target::Spreadsheet && rng.random_bool(0.5) {
        // Mutated text turned into a valid workbook: the cell rules through calamine.
        let text = mutate(&take_lines(&corpus.candidates, 300), &mut rng, 3);
        return as_workbook(&text).unwrap_or(seed);
    }
    let rounds = rng.random_range(1..=4);
    mutate(&seed, &mut rng, rounds)
}

/// The header and the rows of 10 to 100 random candidates.
fn candidate_subset(history: &[u8], rng: &mut ChaCha8Rng) -> Vec<u8> {
    let text = String::from_utf8_lossy(history);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or("");
    let mut by_id: Vec<(String, Vec<&str>)> = Vec::new();
    for l in lines {
        let id = l.split(',').nth(1).unwrap_or("").to_string();
        match by_id.last_mut() {
            Some((last, rows)) if *last == id => rows.push(l),
            _ => by_id.push((id, vec![l])),
        }
    }
    let k = rng.random_range(10..=100).min(by_id.len());
    let mut out = format!("{header}\n");
    for i in rand::seq::index::sample(rng, by_id.len(), k) {
        let (_, rows) = &by_id[i];
        for r in rows {
            out.push_str(r);
            out.push('\n');
        }
    }
    out.into_bytes()
}

/// Values a careless or hostile file holds.
const NASTY: [&str; 16] = [
    "",
    "abs",
    "-1",
    "21",
    "1e308",
    "NaN",
    "inf",
    "9,5",
    "=1+1",
    "\u{1b}[31m",
    "\"",
    "\"a\nb\"",
    "18446744073709551615",
    "4294967297",
    "0",
    "Lycée \u{a0}é",
];

/// `rounds` random mutations of `seed`.
fn mutate(seed: &[u8], rng: &mut ChaCha8Rng, rounds: usize) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..rounds {
        if b.is_empty() {
            b.extend_from_slice(b"x");
        }
        match rng.random_range(0..7) {
            0 => {
                let i = rng.random_range(0..b.len());
                b[i] ^= 1 << rng.random_range(0..8);
            }
            1 => b.truncate(rng.random_range(0..b.len())),
            2 => {
                let i = rng.random_range(0..b.len());
                b.insert(
                    i,
                    *[b'"', b';', b',', b'\r', b'\n', 0u8]
                        .get(rng.random_range(0..6))
                        .unwrap_or(&b'"'),
                );
            }
            3 | 4 => b = replace_field(&b, rng),
            5 => b = shuffle_lines(&b, rng, false),
            _ => b = shuffle_lines(&b, rng, true),
        }
    }
    b
}

/// One field of one line replaced by a nasty value.
fn replace_field(b: &[u8], rng: &mut ChaCha8Rng) -> Vec<u8> {
    let text = String::from_utf8_lossy(b).into_owned();
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    let li = rng.random_range(0..lines.len());
    let sep = if lines[li].contains(';') { ';' } else { ',' };
    let mut fields: Vec<String> = lines[li].split(sep).map(str::to_string).collect();
    let fi = rng.random_range(0..fields.len());
    fields[fi] = NASTY[rng.random_range(0..NASTY.len())].to_string();
    lines[li] = fields.join(&sep.to_string());
    lines.join("\n").into_bytes()
}

/// Two lines swapped, or one duplicated.
fn shuffle_lines(b: &[u8], rng: &mut ChaCha8Rng, duplicate: bool) -> Vec<u8> {
    let mut lines: Vec<&[u8]> = b.split(|&c| c == b'\n').collect();
    let (i, j) = (
        rng.random_range(0..lines.len()),
        rng.random_range(0..lines.len()),
    );
    if duplicate {
        let l = lines[i];
        lines.insert(j, l);
    } else {
        lines.swap(i, j);
    }
    lines.join(&b'\n')
}

/// A number of the model file replaced (an array shortened now and then), the checksum
/// recomputed as an editor of the file would: what the loader must check itself.
fn edit_model_number(seed: &[u8], rng: &mut ChaCha8Rng) -> Vec<u8> {
    let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(seed) else {
        return seed.to_vec();
    };
    let mut numbers = Vec::new();
    collect_number_paths(&v["model"], &mut Vec::new(), &mut numbers);
    if let Some(path) = numbers.get(rng.random_range(0..numbers.len().max(1))) {
        let mut at = &mut v["model"];
        for k in path {
            at = match k {
                Key::Field(f) => &mut at[f.as_str()],
                Key::Index(i) => &mut at[*i],
            };
        }
        let replacement: serde_json::Value = match rng.random_range(0..6) {
            0 => serde_json::json!(1e10),
            1 => serde_json::json!(-1e300),
            2 => serde_json::json!(0.0),
            3 => serde_json::json!("x".repeat(rng.random_range(1..100_000))),
            4 => serde_json::Value::Null,
            _ => serde_json::json!(rng.random_range(-50.0..50.0)),
        };
        *at = replacement;
    }
    if rng.random_bool(0.2) {
        if let Some(a) = v["model"]["choice"]["track_slopes"].as_array_mut() {
            a.pop();
        }
    }
    if rng.random_bool(0.2) {
        as_format_3(&mut v, rng);
    }
    let canonical = serde_json::to_string(&v["model"]).unwrap_or_default();
    v["checksum"] = serde_json::json!(crate::model::checksum(&canonical));
    serde_json::to_vec_pretty(&v).unwrap_or_default()
}

/// The model as an older build wrote it (format 3, without the count features format 4
/// added), or half so: the version alone, or the features dropped from some arrays only.
fn as_format_3(v: &mut serde_json::Value, rng: &mut ChaCha8Rng) {
    v["format_version"] = serde_json::json!(3);
    let count = &mut v["model"]["count"];
    let Some(at) = count["features"]
        .as_array()
        .and_then(|f| f.iter().position(|n| n == "best_room_to_12_over_missing"))
    else {
        return;
    };
    for field in ["features", "scale_mean", "scale_std", "weights"] {
        if let Some(a) = count[field].as_array_mut() {
            if a.len() >= at + 6 && rng.random_bool(0.9) {
                a.drain(at..at + 6);
            }
        }
    }
}

enum Key {
    Field(String),
    Index(usize),
}

fn collect_number_paths(v: &serde_json::Value, at: &mut Vec<Key>, out: &mut Vec<Vec<Key>>) {
    match v {
        serde_json::Value::Number(_) => out.push(
            at.iter()
                .map(|k| match k {
                    Key::Field(f) => Key::Field(f.clone()),
                    Key::Index(i) => Key::Index(*i),
                })
                .collect(),
        ),
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                at.push(Key::Index(i));
                collect_number_paths(x, at, out);
                at.pop();
            }
        }
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                at.push(Key::Field(k.clone()));
                collect_number_paths(x, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

/// Runs one case: `bytes` as the input of `target`. `Err` names a defect.
pub fn run_case(corpus: &Corpus, target: Target, bytes: &[u8]) -> Result<(), String> {
    let suffix = if target == Target::Spreadsheet {
        ".xlsx"
    } else {
        ".csv"
    };
    let tmp = tempfile::Builder::new()
        .suffix(suffix)
        .tempfile()
        .map_err(|e| format!("harness: {e}"))?;
    std::fs::write(tmp.path(), bytes).map_err(|e| format!("harness: {e}"))?;
    let path = tmp.path();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        exercise(corpus, target, path)
    }));
    match outcome {
        Ok(r) => r,
        Err(p) => Err(format!(
            "panic: {}",
            p.downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| p.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)")
        )),
    }
}

fn exercise(corpus: &Corpus, target: Target, path: &Path) -> Result<(), String> {
    let paths = [path.to_path_buf()];
    match target {
        Target::History | Target::Candidates | Target::Spreadsheet => {
            let opts = ReadOptions {
                require_chosen: target == Target::History,
                ..ReadOptions::default()
            };
            if let Err(e) = input::read_files(&paths, &opts) {
                check_message(&e.to_string())?;
            }
        }
        Target::Train => match input::read_files(&paths, &ReadOptions::default()) {
            Err(e) => check_message(&e.to_string())?,
            Ok(data) => {
                let opts = FitOptions {
                    max_iterations: 50,
                    ..FitOptions::default()
                };
                match crate::model::train(&data, &opts) {
                    Ok(m) => check_forecast(&m, &data)?,
                    Err(e) => check_message(&e.to_string())?,
                }
            }
        },
        Target::Model => {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            match Model::from_json(&text, path) {
                Ok(m) => check_forecast(&m, &corpus.small_candidates)?,
                Err(e) => check_message(&e.to_string())?,
            }
        }
        Target::Export => {
            let opts = ReadOptions {
                require_chosen: false,
                columns: vec![("grade".into(), "note_finale".into())],
                ..ReadOptions::default()
            };
            if let Err(e) = input::read_files(&paths, &opts) {
                check_message(&e.to_string())?;
            }
        }
        Target::Column => read_export_with_column(corpus, path)?,
        Target::Subjects => {
            if let Err(e) = input::read_subjects(path, Separator::Auto) {
                check_message(&e.to_string())?;
            }
        }
        Target::Summons => read_summons(corpus, path)?,
        Target::Manifest => read_manifest(corpus, path)?,
        Target::Roster => {
            if let Err(e) = input::read_roster(path, Separator::Auto) {
                check_message(&e.to_string())?;
            }
        }
        Target::Capacities => {
            if let Err(e) = input::read_capacities(path, Separator::Auto) {
                check_message(&e.to_string())?;
            }
        }
        Target::Zones => match input::read_zones(path, Separator::Auto) {
            Ok(table) => {
                let (zones, _) = crate::zones::Zones::of(&table, &corpus.small_candidates);
                if zones.map.names.len() > corpus.small_candidates.centers.len() {
                    return Err("more zones than centres".into());
                }
            }
            Err(e) => check_message(&e.to_string())?,
        },
        Target::Regroup => read_regroup(corpus, path)?,
    }
    Ok(())
}

/// The case's bytes as a `--column` value: refused with a message, or the export read
/// with it.
fn read_export_with_column(corpus: &Corpus, path: &Path) -> Result<(), String> {
    let spec = String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned();
    let mapping = match input::column_by_hand(&spec) {
        Ok(m) => m,
        Err(e) => return check_message(&e),
    };
    let file = tempfile::NamedTempFile::new().map_err(|e| format!("harness: {e}"))?;
    std::fs::write(file.path(), &corpus.export).map_err(|e| format!("harness: {e}"))?;
    let opts = ReadOptions {
        require_chosen: false,
        columns: vec![mapping],
        ..ReadOptions::default()
    };
    match input::read_files(&[file.path().to_path_buf()], &opts) {
        Ok(_) => Ok(()),
        Err(e) => check_message(&e.to_string()),
    }
}

/// The case's bytes as the `manifest.json` of a folder: unreadable (ignored), or read,
/// its settings checked as `confirm` checks them.
/// The case as an office's regrouping, against the sample's zones and its candidates.
fn read_regroup(corpus: &Corpus, path: &Path) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| format!("harness: {e}"))?;
    let zones = dir.path().join("zones.csv");
    std::fs::write(&zones, &corpus.zones).map_err(|e| format!("harness: {e}"))?;
    let table = input::read_zones(&zones, Separator::Auto).map_err(|e| format!("seed: {e}"))?;
    match input::read_regroup(path, Separator::Auto, &table, &corpus.small_candidates) {
        Ok(_) => Ok(()),
        Err(e) => check_message(&e.to_string()),
    }
}

fn read_manifest(corpus: &Corpus, path: &Path) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| format!("harness: {e}"))?;
    std::fs::copy(path, dir.path().join(crate::report::MANIFEST))
        .map_err(|e| format!("harness: {e}"))?;
    let Some(s) = crate::report::Manifest::read(dir.path()).and_then(|m| m.settings) else {
        return Ok(());
    };
    if let Err(e) = s.check() {
        return check_message(&e);
    }
    // The plan's moves and zones, as confirm reads them against its candidates.
    let table = s
        .zones
        .iter()
        .map(|[c, z]| (c.clone(), z.clone()))
        .collect();
    // Whatever the names, a map of the candidates' centres, without panicking.
    crate::zones::map_of_names(&table, &corpus.small_candidates);
    match crate::zones::hosts_of_names(&s.hosts, &corpus.small_candidates) {
        Ok(_) => Ok(()),
        Err(e) => check_message(&e),
    }
}

/// A summons file read and resolved as `confirm` does, against the small candidates in
/// two zones (their first centre alone, the others together): notes and problems must
/// be readable messages.
fn read_summons(corpus: &Corpus, path: &Path) -> Result<(), String> {
    let (rows, notes) = match input::summons::read_summons(path, Separator::Auto) {
        Ok(read) => read,
        Err(e) => return check_message(&e.to_string()),
    };
    notes.iter().try_for_each(|n| check_message(n))?;
    let mut data = corpus.small_candidates.clone();
    input::summons::add_names(&rows, &mut data);
    let zone_of = (0..data.centers.len())
        .map(|c| if c == 0 { "Z0" } else { "Z1" }.to_string())
        .collect();
    let zones = crate::data::ZoneMap::new(zone_of);
    match input::summons::resolve(rows, &data, &zones, path) {
        Ok(_) => Ok(()),
        Err(e) => check_message(&e.to_string()),
    }
}

/// A forecast from an accepted model must hold no NaN or out-of-range probability, and
/// its replayed sessions must calibrate to a finite widening no narrower than its own.
fn check_forecast(model: &Model, data: &Dataset) -> Result<(), String> {
    let opts = crate::planning::PlanOptions::default();
    let p = crate::promise::calibrate(model, &opts, data.slot_kind());
    if !(p.firm >= 1.0 && p.firm.is_finite() && p.reserve >= 1.0 && p.reserve.is_finite()) {
        return Err(format!(
            "an accepted model calibrated to {} and {}",
            p.firm, p.reserve
        ));
    }
    crate::forecast::forecast(model, data, p.firm)
        .check(data)
        .map_err(|e| format!("an accepted model forecast wrongly: {e}"))
}

/// The longest message an input error may print (30 problems of a few hundred
/// characters, or a model file's detail).
const MAX_MESSAGE: usize = 16_000;

/// What a message must never do: run long, carry a raw control character (other than
/// the line breaks between problems), or show a value running over several lines.
fn check_message(msg: &str) -> Result<(), String> {
    if msg.len() > MAX_MESSAGE {
        return Err(format!("a message of {} bytes", msg.len()));
    }
    if let Some(c) = msg.chars().find(|c| c.is_control() && *c != '\n') {
        return Err(format!("a raw control character {c:?} in a message"));
    }
    if msg
        .lines()
        .any(|l| l.contains("value '") && l.matches('\'').count() > 40)
    {
        return Err("a message line that quotes too much".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn corpus() -> &'static Corpus {
        static C: std::sync::OnceLock<Corpus> = std::sync::OnceLock::new();
        C.get_or_init(|| Corpus::load(Path::new(env!("CARGO_MANIFEST_DIR"))).expect("corpus"))
    }

    fn check(target: Target, case: u64) -> Result<(), TestCaseError> {
        let bytes = input(corpus(), target, case);
        run_case(corpus(), target, &bytes).map_err(TestCaseError::fail)
    }

    /// Found by the long run: a DEL in a manifest's slot unit reached the message raw.
    #[test]
    fn regression_a_control_character_in_a_manifest_is_escaped() {
        let bytes = MANIFEST_SEED.replace("half_day", "half\u{7f}day");
        run_case(corpus(), Target::Manifest, bytes.as_bytes()).unwrap();
    }

    // A short pass of every target in every `cargo test`; `examples/fuzz.rs` runs long.
    proptest! {
        #![proptest_config(ProptestConfig { cases: 150, failure_persistence: None, ..ProptestConfig::default() })]
        #[test]
        fn fuzz_history(case in any::<u64>()) { check(Target::History, case)?; }
        #[test]
        fn fuzz_candidates(case in any::<u64>()) { check(Target::Candidates, case)?; }
        #[test]
        fn fuzz_model(case in any::<u64>()) { check(Target::Model, case)?; }
        #[test]
        fn fuzz_roster(case in any::<u64>()) { check(Target::Roster, case)?; }
        #[test]
        fn fuzz_capacities(case in any::<u64>()) { check(Target::Capacities, case)?; }
        #[test]
        fn fuzz_zones(case in any::<u64>()) { check(Target::Zones, case)?; }
        #[test]
        fn fuzz_regroup(case in any::<u64>()) { check(Target::Regroup, case)?; }
        #[test]
        fn fuzz_spreadsheet(case in any::<u64>()) { check(Target::Spreadsheet, case)?; }
        #[test]
        fn fuzz_export(case in any::<u64>()) { check(Target::Export, case)?; }
        #[test]
        fn fuzz_column(case in any::<u64>()) { check(Target::Column, case)?; }
        #[test]
        fn fuzz_subjects(case in any::<u64>()) { check(Target::Subjects, case)?; }
        #[test]
        fn fuzz_summons(case in any::<u64>()) { check(Target::Summons, case)?; }
        #[test]
        fn fuzz_manifest(case in any::<u64>()) { check(Target::Manifest, case)?; }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 20, failure_persistence: None, ..ProptestConfig::default() })]
        #[test]
        fn fuzz_train(case in any::<u64>()) { check(Target::Train, case)?; }
    }
}
