//! A real office's files (issue 19): small académies, absent marks, French headers with a
//! title line, renamed subjects, a model from elsewhere, a plan's own settings on results
//! day, hand-edited summons.

use std::collections::BTreeMap;
use std::path::Path;

use crate::util::{ok, repo_file, run, stderr};

/// Asserts that `o` refused its input as bad (exit 2) saying `needle`.
fn refused(o: &std::process::Output, needle: &str) {
    assert_eq!(o.status.code(), Some(2), "{}", stderr(o));
    assert!(stderr(o).contains(needle), "{}", stderr(o));
}

/// The bundled sample's history, one entry per (session, candidate) with its rows, in file
/// order.
fn sample_history() -> (csv::StringRecord, Vec<Vec<csv::StringRecord>>) {
    let path = repo_file("data/sample/history.csv");
    let mut r = csv::Reader::from_path(path).expect("sample history");
    let header = r.headers().expect("header").clone();
    let mut by: BTreeMap<(String, String), Vec<csv::StringRecord>> = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.expect("row");
        by.entry((rec[0].to_string(), rec[1].to_string()))
            .or_default()
            .push(rec);
    }
    (header, by.into_values().collect())
}

fn write_history(path: &Path, header: &csv::StringRecord, cands: &[&Vec<csv::StringRecord>]) {
    let mut w = csv::Writer::from_path(path).expect("write");
    w.write_record(header).expect("header");
    for rows in cands {
        for r in rows.iter() {
            w.write_record(r).expect("row");
        }
    }
    w.flush().expect("flush");
}

/// `n` of `pool` picked by a small linear congruential generator seeded with `seed`.
fn draw<'a, T>(pool: &[&'a T], n: usize, seed: u64) -> Vec<&'a T> {
    let mut left: Vec<&T> = pool.to_vec();
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut out = Vec::new();
    while out.len() < n && !left.is_empty() {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        out.push(left.remove((x >> 33) as usize % left.len()));
    }
    out
}

/// Small académies: histories of 20, 50 and 100 candidates drawn from the sample from one
/// centre, from one session and from all sessions always give a model (before, a third of
/// such draws ended in exit 1, "did not converge"), and the model forecasts.
#[test]
fn small_academies_always_train() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (header, cands) = sample_history();
    let all: Vec<&Vec<csv::StringRecord>> = cands.iter().collect();
    let center_of = |c: &Vec<csv::StringRecord>| c[0][2].to_string();
    let mut per_center: BTreeMap<String, Vec<&Vec<csv::StringRecord>>> = BTreeMap::new();
    for c in &all {
        per_center.entry(center_of(c)).or_default().push(c);
    }
    let one_session: Vec<_> = all.iter().copied().filter(|c| &c[0][0] == "2024").collect();
    let mut failures = Vec::new();
    for n in [20, 50, 100] {
        for seed in 0..4u64 {
            let center = per_center.values().nth(seed as usize * 3).expect("centre");
            let ways = [
                ("one centre", draw(center, n, seed)),
                ("one session", draw(&one_session, n, seed)),
                ("several sessions", draw(&all, n, seed)),
            ];
            for (way, picked) in ways {
                let file = dir.path().join(format!("h{n}_{seed}_{}.csv", way.len()));
                write_history(&file, &header, &picked);
                let o = run(
                    dir.path(),
                    &[
                        "train",
                        "-q",
                        "--history",
                        file.to_str().unwrap(),
                        "--model",
                        "m.json",
                    ],
                );
                if !o.status.success() {
                    failures.push(format!(
                        "{n} candidates, {way}, seed {seed}: {}",
                        stderr(&o)
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let sample = repo_file("data/sample/candidates.csv");
    ok(
        dir.path(),
        &crate::util::forecast_args("m.json", sample.to_str().unwrap(), "out", &["-q"]),
    );
}

/// Below the documented minimum the refusal is bad input (exit 2) and names it.
#[test]
fn a_history_below_the_minimum_is_refused_with_the_minimum() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (header, cands) = sample_history();
    let picked: Vec<_> = cands.iter().take(5).collect();
    let file = dir.path().join("h.csv");
    write_history(&file, &header, &picked);
    let o = run(
        dir.path(),
        &["train", "--history", "h.csv", "--model", "m.json"],
    );
    refused(&o, "at least 10");
}

/// The sample's candidates file as an office exports it: a title block, French column
/// names, ';' separators, decimal commas, Windows-1252, CRLF.
fn french_export(canonical: &str) -> Vec<u8> {
    let french = [
        "Session",
        "N° candidat",
        "Centre d'examen",
        "Série",
        "Moyenne",
        "Matière",
        "Coef",
        "Note",
        "Choix",
        "Date",
        "Demi-journée",
    ];
    let mut text = String::from(
        "Académie de Nancy-Metz - export des candidats;;;\r\nSession 2026, second groupe\r\n\r\n",
    );
    text += &french.join(";");
    text += "\r\n";
    let mut r = csv::Reader::from_reader(canonical.as_bytes());
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for rec in r.records() {
        let rec = rec.unwrap();
        let fields: Vec<String> = rec
            .iter()
            .enumerate()
            .map(|(i, f)| {
                if i == 4 || i == 7 {
                    f.replace('.', ",")
                } else {
                    f.to_string()
                }
            })
            .collect();
        w.write_record(&fields).unwrap();
    }
    text += &String::from_utf8(w.into_inner().unwrap()).unwrap();
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&text);
    assert!(!unmappable);
    bytes.into_owned()
}

/// Every file below `dir`, by path relative to it, with its bytes.
fn outputs(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        out.insert(name, std::fs::read(&p).unwrap());
    }
    out
}

/// The same forecast, byte for byte, from the canonical CSV and from its French-header,
/// title-block, Windows-1252, ';' version; the note says where the header was found and
/// which names were read as which column. The history likewise gives the same model.
#[test]
fn a_french_export_with_a_title_block_gives_the_same_forecast_and_model() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let sample = repo_file("data/sample");
    let model = repo_file("models/sample.json");
    let (model, cands) = (model.to_str().unwrap(), sample.join("candidates.csv"));
    let text = std::fs::read_to_string(&cands).unwrap();
    std::fs::write(d.join("fr.csv"), french_export(&text)).unwrap();
    // (Not --xlsx: the workbook's summary names the candidates' file.)
    ok(
        d,
        &crate::util::forecast_args(model, cands.to_str().unwrap(), "a", &["-q"]),
    );
    let o = run(d, &crate::util::forecast_args(model, "fr.csv", "b", &[]));
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("header on line 4, below 3 title lines"), "{e}");
    assert!(
        e.contains("'Note' as grade") && e.contains("'Demi-journée' as half_day"),
        "{e}"
    );
    let (a, b) = (outputs(&d.join("a")), outputs(&d.join("b")));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, bytes) in &a {
        assert!(bytes == &b[name], "{name} differs from the French export's");
    }
    let history = std::fs::read_to_string(sample.join("history.csv")).unwrap();
    std::fs::write(d.join("fr-history.csv"), french_export(&history)).unwrap();
    let h = sample.join("history.csv");
    ok(
        d,
        &[
            "train",
            "-q",
            "--history",
            h.to_str().unwrap(),
            "--model",
            "m1.json",
        ],
    );
    ok(
        d,
        &[
            "train",
            "-q",
            "--history",
            "fr-history.csv",
            "--model",
            "m2.json",
        ],
    );
    assert!(std::fs::read(d.join("m1.json")).unwrap() == std::fs::read(d.join("m2.json")).unwrap());
}

/// A column no alias names: the message names the header's line and the closest name
/// with the option to use, and `--column` reads it.
#[test]
fn a_missing_column_suggests_the_closest_name_and_column_maps_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let sample = repo_file("data/sample/candidates.csv");
    let model = repo_file("models/sample.json");
    let model = model.to_str().unwrap();
    let text = std::fs::read_to_string(&sample).unwrap();
    let renamed = text.replacen(",grade,", ",note_finale,", 1);
    std::fs::write(d.join("c.csv"), format!("Export du 3 juillet\n{renamed}")).unwrap();
    let o = run(d, &crate::util::forecast_args(model, "c.csv", "o", &[]));
    refused(
        &o,
        "c.csv, line 2, column 'grade': expected a column named 'grade' in the header on line 2",
    );
    let e = stderr(&o);
    assert!(
        e.contains("'note_finale' looks like 'grade': use --column grade=\"note_finale\""),
        "{e}"
    );
    assert!(!d.join("o").exists());
    let args = ["-q", "--column", "grade=note_finale"];
    ok(d, &crate::util::forecast_args(model, "c.csv", "o", &args));
    let o = run(
        d,
        &crate::util::forecast_args(model, "c.csv", "o2", &["--column", "marks=x"]),
    );
    refused(&o, "'marks' is not a column");
}

/// Absent marks (empty, ABS, DISP, any case) set the row aside, counted in the note;
/// the candidate keeps their other subjects. A word that is neither stays a problem.
#[test]
fn absent_marks_set_the_subject_aside_and_other_words_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let sample = repo_file("data/sample/candidates.csv");
    let model = repo_file("models/sample.json");
    let model = model.to_str().unwrap();
    let text = std::fs::read_to_string(&sample).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut blanked = Vec::new();
    for (k, code) in [(3, "ABS"), (40, ""), (41, "disp"), (90, "Abj")] {
        let mut f: Vec<String> = lines[k].split(',').map(str::to_string).collect();
        // The centre is quoted with a comma inside: the grade is the fifth field from the end.
        let g = f.len() - 4;
        f[g] = code.to_string();
        blanked.push((f[1].clone(), f[f.len() - 6].clone()));
        lines[k] = f.join(",");
    }
    std::fs::write(d.join("c.csv"), lines.join("\n") + "\n").unwrap();
    let o = run(d, &crate::util::forecast_args(model, "c.csv", "o", &[]));
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("4 rows without a mark set aside (ABS 1, ABJ 1, DISP 1, empty 1)"),
        "{e}"
    );
    let rows = crate::util::read_csv(&d.join("o/candidates.csv"));
    for (id, subject) in &blanked {
        assert!(
            rows.iter().any(|r| &r["candidate_id"] == id),
            "{id} lost every subject"
        );
        let kept = rows
            .iter()
            .any(|r| &r["candidate_id"] == id && &r["subject"] == subject);
        assert!(!kept, "{id} {subject} still forecast");
    }
    lines[5] = lines[5].replacen(",5.5,", ",absent?,", 1);
    let mut f: Vec<String> = lines[5].split(',').map(str::to_string).collect();
    let g = f.len() - 4;
    f[g] = "absent?".into();
    lines[5] = f.join(",");
    std::fs::write(d.join("bad.csv"), lines.join("\n") + "\n").unwrap();
    let o = run(d, &crate::util::forecast_args(model, "bad.csv", "o2", &[]));
    refused(&o, "line 6, column 'grade': value 'absent?'");
}

/// `text` (a candidates CSV in the canonical column order) with every centre and subject
/// renamed by `rename`, as another académie's files would name them.
fn renamed(text: &str, mut rename: impl FnMut(usize, &str) -> String) -> String {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(r.headers().unwrap()).unwrap();
    for rec in r.records() {
        let rec = rec.unwrap();
        let fields: Vec<String> = rec.iter().enumerate().map(|(i, f)| rename(i, f)).collect();
        w.write_record(&fields).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

/// A model trained on another académie (other subject codes, other centres) is refused
/// with exit 2 and why; `--allow-unseen` forecasts, and plan.html then opens on a warning
/// box and qualifies its headline's coverage. A model that misses one centre only is
/// accepted with the box.
#[test]
fn a_model_from_another_academie_is_refused_unless_allowed() {
    let a = crate::util::academy();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let history = std::fs::read_to_string(a.path.join("sim/history.csv")).unwrap();
    let foreign = renamed(&history, |i, f| match i {
        2 => format!("Ailleurs {f}"),
        5 => format!("{f}-B"),
        _ => f.to_string(),
    });
    std::fs::write(d.join("foreign.csv"), foreign).unwrap();
    ok(
        d,
        &[
            "train",
            "-q",
            "--history",
            "foreign.csv",
            "--model",
            "foreign.json",
        ],
    );
    let cands = a.path.join("sim/candidates.csv");
    let cands = cands.to_str().unwrap();
    let o = run(
        d,
        &crate::util::forecast_args("foreign.json", cands, "o", &[]),
    );
    refused(&o, "knows the subject of 0% of the candidates' rows");
    let e = stderr(&o);
    assert!(e.contains("--allow-unseen"), "{e}");
    assert!(!d.join("o").exists());
    ok(
        d,
        &crate::util::forecast_args(
            "foreign.json",
            cands,
            "o",
            &["-q", "--allow-unseen", "--xlsx"],
        ),
    );
    let page = std::fs::read_to_string(d.join("o/plan.html")).unwrap();
    let box_at = page.find("class=\"warnbox\"").expect("a warning box");
    assert!(
        box_at < page.find("class=\"headline\"").unwrap(),
        "the box comes first"
    );
    assert!(page.contains("repose sur la moyenne de l'académie"));
    // One centre renamed in the file to forecast: accepted, the box names it.
    let text = std::fs::read_to_string(a.path.join("sim/candidates.csv")).unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let first_center = r.records().next().unwrap().unwrap()[2].to_string();
    let one = renamed(&text, |i, f| {
        if i == 2 && f == first_center {
            "Nouveau lycée".into()
        } else {
            f.to_string()
        }
    });
    std::fs::write(d.join("one.csv"), one).unwrap();
    let model = a.path.join("model.json");
    ok(
        d,
        &crate::util::forecast_args(model.to_str().unwrap(), "one.csv", "p", &["-q"]),
    );
    let page = std::fs::read_to_string(d.join("p/plan.html")).unwrap();
    assert!(page.contains("class=\"warnbox\"") && page.contains("Nouveau lycée"));
    ok(
        d,
        &crate::util::forecast_args(model.to_str().unwrap(), cands, "q", &["-q"]),
    );
    let page = std::fs::read_to_string(d.join("q/plan.html")).unwrap();
    assert!(
        !page.contains("class=\"warnbox\""),
        "no box when the model knows everything"
    );
}

/// A spécialité renamed in 2024: `train` warns and gives the subjects file's line; with
/// the file, the history trains to the very model of the unrenamed history, and a file
/// to forecast that uses the new label (in other case and accents) gives the same plan.
#[test]
fn a_renamed_subject_is_warned_about_and_merged_by_the_subjects_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let sample = repo_file("data/sample");
    let new_label = "SCIENCES ECONOMIQUES ET SOCIALES";
    let history = std::fs::read_to_string(sample.join("history.csv")).unwrap();
    let mut session = String::new();
    let ren = renamed(&history, |i, f| {
        if i == 0 {
            session = f.to_string();
        }
        if i == 5 && f == "SES" && session.as_str() >= "2024" {
            new_label.to_string()
        } else {
            f.to_string()
        }
    });
    std::fs::write(d.join("h.csv"), ren).unwrap();
    let o = run(d, &["train", "--history", "h.csv", "--model", "m0.json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("subjects 'SES' (2021-2023) and 'SCIENCES ECONOMIQUES ET SOCIALES' (2024-2025) look like one subject renamed"),
        "{e}"
    );
    assert!(
        e.contains("add the line \"SCIENCES ECONOMIQUES ET SOCIALES,SES\""),
        "{e}"
    );
    // A contradictory subjects file is bad input: located, nothing written.
    std::fs::write(d.join("bad.csv"), "code,alias\nSES,ECO\nSVT,eco\n").unwrap();
    let o = run(
        d,
        &[
            "train",
            "--history",
            "h.csv",
            "--model",
            "mb.json",
            "--subjects",
            "bad.csv",
        ],
    );
    refused(
        &o,
        "bad.csv, line 3, column 'alias': value 'eco': expected each label for one code",
    );
    assert!(!d.join("mb.json").exists());
    std::fs::write(d.join("s.csv"), format!("code,alias\nSES,{new_label}\n")).unwrap();
    let o = run(
        d,
        &[
            "train",
            "--history",
            "h.csv",
            "--model",
            "m1.json",
            "--subjects",
            "s.csv",
        ],
    );
    assert!(
        o.status.success() && !stderr(&o).contains("look like one subject"),
        "{}",
        stderr(&o)
    );
    let h = sample.join("history.csv");
    ok(
        d,
        &[
            "train",
            "-q",
            "--history",
            h.to_str().unwrap(),
            "--model",
            "m2.json",
        ],
    );
    assert!(std::fs::read(d.join("m1.json")).unwrap() == std::fs::read(d.join("m2.json")).unwrap());
    let cands = std::fs::read_to_string(sample.join("candidates.csv")).unwrap();
    let ren = renamed(&cands, |i, f| {
        if i == 5 && f == "SES" {
            "Sciences économiques et sociales".into()
        } else {
            f.to_string()
        }
    });
    std::fs::write(d.join("c.csv"), ren).unwrap();
    let roster = sample.join("roster.csv");
    let roster = roster.to_str().unwrap();
    let c = sample.join("candidates.csv");
    ok(
        d,
        &crate::util::forecast_args(
            "m2.json",
            c.to_str().unwrap(),
            "a",
            &["-q", "--roster", roster],
        ),
    );
    ok(
        d,
        &crate::util::forecast_args(
            "m2.json",
            "c.csv",
            "b",
            &["-q", "--roster", roster, "--subjects", "s.csv"],
        ),
    );
    for f in [
        "convocations.csv",
        "candidates.csv",
        "by_subject.csv",
        "summons.csv",
    ] {
        assert!(
            std::fs::read(d.join("a").join(f)).unwrap()
                == std::fs::read(d.join("b").join(f)).unwrap(),
            "{f}"
        );
    }
}

/// The README's results day on the bundled sample, as written: the plan with the roster,
/// then `confirm` with `data/sample/choices.csv`, which follows the plan's own settings
/// from its manifest; another `--capacity` is refused unless `--force-capacity`.
#[test]
fn results_day_on_the_sample_follows_the_plans_settings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let file = |p: &str| repo_file(p).display().to_string();
    let (cands, choices) = (
        file("data/sample/candidates.csv"),
        file("data/sample/choices.csv"),
    );
    let extra = ["-q", "--roster", &file("data/sample/roster.csv"), "--excel"];
    ok(
        d,
        &crate::util::forecast_args(&file("models/sample.json"), &cands, "out", &extra),
    );
    let confirm = |out: &str, extra: &[&str]| {
        let mut args = vec![
            "confirm",
            "--candidates",
            &cands,
            "--choices",
            &choices,
            "--summons",
            "out/summons.csv",
            "--out",
            out,
        ];
        args.extend_from_slice(extra);
        run(d, &args)
    };
    let o = confirm("day", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "plan settings from out/manifest.json: capacity 8 per cell, slots 'half_day'"
        ),
        "{}",
        stderr(&o)
    );
    let o = confirm("day2", &["--capacity", "4"]);
    refused(&o, "was made with a capacity of 8 per cell");
    assert!(!d.join("day2").exists());
    let o = confirm("day3", &["--capacity", "4", "--force-capacity"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("capacity 4 instead of the plan's 8"),
        "{}",
        stderr(&o)
    );
    let o = confirm("day4", &["--oral", "120", "--am-start", "23:50"]);
    refused(&o, "the next day: start earlier");
    assert!(!d.join("day4").exists());
    // A damaged manifest is bad input, not a plan at capacity 0.
    let m = std::fs::read_to_string(d.join("out/manifest.json")).unwrap();
    std::fs::write(
        d.join("out/manifest.json"),
        m.replace("\"capacity\": 8", "\"capacity\": 0"),
    )
    .unwrap();
    let o = confirm("day5", &[]);
    refused(&o, "the plan's settings hold a capacity of 0");
}

/// `summons.csv` edited by hand: a copied row is read once with a note naming the line
/// kept; an examiner in two centres on the same half-day is a problem naming both lines.
#[test]
fn hand_edited_summons_are_read_once_or_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let file = |p: &str| repo_file(p).display().to_string();
    let (cands, choices) = (
        file("data/sample/candidates.csv"),
        file("data/sample/choices.csv"),
    );
    let extra = ["-q", "--roster", &file("data/sample/roster.csv")];
    ok(
        d,
        &crate::util::forecast_args(&file("models/sample.json"), &cands, "out", &extra),
    );
    let summons = std::fs::read_to_string(d.join("out/summons.csv")).unwrap();
    let lines: Vec<&str> = summons.lines().collect();
    // Line 3 of the file copied at the end.
    std::fs::write(d.join("copied.csv"), format!("{summons}{}\n", lines[2])).unwrap();
    let confirm = |summons: &str, out: &str| {
        run(
            d,
            &[
                "confirm",
                "--candidates",
                &cands,
                "--choices",
                &choices,
                "--summons",
                summons,
                "--out",
                out,
            ],
        )
    };
    let o = confirm("copied.csv", "a");
    assert!(o.status.success(), "{}", stderr(&o));
    let n = lines.len() + 1;
    assert!(
        stderr(&o).contains(&format!("copied.csv: line {n} repeats line 3")),
        "{}",
        stderr(&o)
    );
    let rows = crate::util::read_csv(&d.join("a/confirmations.csv"));
    assert_eq!(
        rows.len(),
        lines.len() - 1,
        "one row per summons, the copy read once"
    );
    // The examiner of line 2 also put in another centre at the same time.
    let mut r = csv::Reader::from_reader(summons.as_bytes());
    let recs: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let other = recs
        .iter()
        .find(|x| x[3] != recs[0][3] && x[4] == recs[0][4] && x[5] == recs[0][5])
        .unwrap();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(r.headers().unwrap()).unwrap();
    for x in &recs {
        w.write_record(x).unwrap();
    }
    let mut moved = other.clone();
    moved = csv::StringRecord::from(
        (0..7)
            .map(|i| {
                if i < 2 {
                    recs[0][i].to_string()
                } else {
                    moved[i].to_string()
                }
            })
            .collect::<Vec<_>>(),
    );
    w.write_record(&moved).unwrap();
    std::fs::write(d.join("twice.csv"), w.into_inner().unwrap()).unwrap();
    let o = confirm("twice.csv", "b");
    refused(&o, &format!("twice.csv, line {n}, column 'examiner_id'"));
    let e = stderr(&o);
    assert!(
        e.contains("each examiner in one cell at a time") && e.contains("on line 2"),
        "{e}"
    );
    assert!(!d.join("b").exists());
}
