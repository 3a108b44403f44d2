//! Integration tests: the real `bacpredict` executable, run in temporary folders on small
//! inline fixtures or on académies it simulates itself.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bacpredict"))
}

fn run(dir: &Path, args: &[&str]) -> Output {
    bin()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run bacpredict")
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let o = run(dir, args);
    assert!(
        o.status.success(),
        "bacpredict {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&o.stderr),
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8(o.stdout).expect("utf-8 stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A small simulated académie, trained once and shared by the tests that only read it.
struct Academy {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn academy() -> &'static Academy {
    static A: OnceLock<Academy> = OnceLock::new();
    A.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().to_path_buf();
        ok(
            &path,
            &[
                "simulate",
                "--out",
                "sim",
                "--candidates",
                "400",
                "--centers",
                "4",
                "--sessions",
                "4",
                "--seed",
                "7",
            ],
        );
        ok(
            &path,
            &[
                "train",
                "--history",
                "sim/history.csv",
                "--model",
                "model.json",
                "-q",
            ],
        );
        Academy { _dir: dir, path }
    })
}

fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = r.headers().expect("headers").clone();
    r.records()
        .map(|rec| {
            let rec = rec.expect("record");
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn header(path: &Path) -> String {
    std::fs::read_to_string(path)
        .expect("read")
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

#[test]
fn forecast_writes_every_table_with_probabilities_following_the_rules() {
    let a = academy();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let stdout = ok(
        &a.path,
        &[
            "forecast",
            "--model",
            "model.json",
            "--candidates",
            "sim/candidates.csv",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(stdout.contains("expected orals"), "{stdout}");
    assert!(stdout.contains("per-cell 95% plan"), "{stdout}");
    assert_eq!(
        header(&out.join("candidates.csv")),
        "candidate_id,center,track,subject,probability"
    );
    assert_eq!(
        header(&out.join("by_subject.csv")),
        "subject,expected_candidates,low,high"
    );
    assert_eq!(
        header(&out.join("by_center.csv")),
        "center,subject,expected_candidates,low,high"
    );
    assert_eq!(
        header(&out.join("convocations.csv")),
        "center,subject,expected_candidates,examiners,capacity,expected_uncovered"
    );
    // One row per eligible subject of each kept candidate; per candidate the
    // probabilities sum to an expected number of orals between 0 and 2.
    let input = read_csv(&a.path.join("sim/candidates.csv"));
    let kept: Vec<_> = input
        .iter()
        .filter(|r| {
            let avg: f64 = r["average"].parse().unwrap();
            (8.0..10.0).contains(&avg)
        })
        .collect();
    let rows = read_csv(&out.join("candidates.csv"));
    assert_eq!(rows.len(), kept.len());
    let eligible: std::collections::HashSet<(String, String)> = kept
        .iter()
        .map(|r| (r["candidate_id"].clone(), r["subject"].clone()))
        .collect();
    let mut sums: HashMap<String, f64> = HashMap::new();
    for r in &rows {
        assert!(eligible.contains(&(r["candidate_id"].clone(), r["subject"].clone())));
        let p: f64 = r["probability"].parse().unwrap();
        assert!((0.0..=1.0).contains(&p));
        *sums.entry(r["candidate_id"].clone()).or_default() += p;
    }
    assert!(sums.values().all(|s| (0.0..=2.0 + 1e-3).contains(s)));
    assert!(
        sums.values().any(|s| *s > 1.0),
        "some candidates should expect two orals"
    );
    // The subject totals are the sums of the candidate probabilities.
    for s in read_csv(&out.join("by_subject.csv")) {
        let total: f64 = rows
            .iter()
            .filter(|r| r["subject"] == s["subject"])
            .map(|r| r["probability"].parse::<f64>().unwrap())
            .sum();
        let e: f64 = s["expected_candidates"].parse().unwrap();
        assert!(
            (total - e).abs() < 0.01 * total.max(1.0) + 0.05,
            "{}: {total} vs {e}",
            s["subject"]
        );
        let (lo, hi): (f64, f64) = (s["low"].parse().unwrap(), s["high"].parse().unwrap());
        assert!(lo <= e && e <= hi);
    }
}

#[test]
fn same_inputs_give_byte_identical_models_and_outputs() {
    let a = academy();
    let tmp = tempfile::tempdir().unwrap();
    let m2 = tmp.path().join("again.json");
    ok(
        &a.path,
        &[
            "train",
            "--history",
            "sim/history.csv",
            "--model",
            m2.to_str().unwrap(),
            "-q",
        ],
    );
    assert_eq!(
        std::fs::read(a.path.join("model.json")).unwrap(),
        std::fs::read(&m2).unwrap()
    );
    for o in ["o1", "o2"] {
        let out = tmp.path().join(o);
        ok(
            &a.path,
            &[
                "forecast",
                "--model",
                "model.json",
                "--candidates",
                "sim/candidates.csv",
                "--out",
                out.to_str().unwrap(),
                "-q",
            ],
        );
    }
    for f in [
        "candidates.csv",
        "by_subject.csv",
        "by_center.csv",
        "convocations.csv",
    ] {
        assert_eq!(
            std::fs::read(tmp.path().join("o1").join(f)).unwrap(),
            std::fs::read(tmp.path().join("o2").join(f)).unwrap(),
            "{f} differs"
        );
    }
}

/// The bundled model must be what training on the bundled sample gives.
#[test]
fn retraining_on_the_bundled_sample_reproduces_the_bundled_model() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let m = tmp.path().join("sample.json");
    ok(
        root,
        &[
            "train",
            "--history",
            "data/sample/history.csv",
            "--model",
            m.to_str().unwrap(),
            "-q",
        ],
    );
    let bundled = std::fs::read(root.join("models/sample.json")).unwrap();
    assert!(
        std::fs::read(&m).unwrap() == bundled,
        "models/sample.json is stale: retrain it (see README)"
    );
}

#[test]
fn model_file_holds_no_candidate_id_or_mark() {
    let a = academy();
    let model = std::fs::read_to_string(a.path.join("model.json")).unwrap();
    for r in read_csv(&a.path.join("sim/history.csv")).iter().take(200) {
        assert!(!model.contains(&r["candidate_id"]), "candidate id in model");
    }
}

/// Writes the candidates file as a French-locale spreadsheet would: ';', decimal comma,
/// Windows-1252 (accents in centre names and a subject code), CRLF.
fn to_french_1252(src: &Path, dst: &Path) {
    let text = std::fs::read_to_string(src).unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    w.write_record(r.headers().unwrap()).unwrap();
    for rec in r.records() {
        let rec = rec.unwrap();
        let fields: Vec<String> = rec
            .iter()
            .map(|f| {
                if f.parse::<f64>().is_ok() && f.contains('.') {
                    f.replace('.', ",")
                } else {
                    f.to_string()
                }
            })
            .collect();
        w.write_record(&fields).unwrap();
    }
    let utf8 = String::from_utf8(w.into_inner().unwrap()).unwrap();
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&utf8);
    assert!(!unmappable);
    assert!(
        bytes.contains(&0xE9),
        "fixture should hold an é in Windows-1252"
    );
    std::fs::write(dst, &bytes).unwrap();
}

#[test]
fn french_excel_and_windows_1252_input_give_the_same_forecast() {
    let a = academy();
    let tmp = tempfile::tempdir().unwrap();
    let fr = tmp.path().join("candidats.csv");
    to_french_1252(&a.path.join("sim/candidates.csv"), &fr);
    // A UTF-8 file with BOM, ';' and decimal commas, as Excel's "CSV UTF-8" writes.
    let bom = tmp.path().join("bom.csv");
    let fr_utf8 = encoding_rs::WINDOWS_1252
        .decode(&std::fs::read(&fr).unwrap())
        .0
        .into_owned();
    std::fs::write(&bom, format!("\u{feff}{fr_utf8}")).unwrap();
    for (name, input) in [
        ("plain", a.path.join("sim/candidates.csv")),
        ("fr", fr),
        ("bom", bom),
    ] {
        let out = tmp.path().join(name);
        ok(
            &a.path,
            &[
                "forecast",
                "--model",
                "model.json",
                "--candidates",
                input.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "-q",
            ],
        );
    }
    for f in [
        "candidates.csv",
        "by_subject.csv",
        "by_center.csv",
        "convocations.csv",
    ] {
        let plain = std::fs::read(tmp.path().join("plain").join(f)).unwrap();
        assert_eq!(
            plain,
            std::fs::read(tmp.path().join("fr").join(f)).unwrap(),
            "{f}: Windows-1252 differs"
        );
        assert_eq!(
            plain,
            std::fs::read(tmp.path().join("bom").join(f)).unwrap(),
            "{f}: BOM differs"
        );
    }
}

#[test]
fn excel_option_writes_semicolons_decimal_commas_and_a_bom() {
    let a = academy();
    let tmp = tempfile::tempdir().unwrap();
    ok(
        &a.path,
        &[
            "forecast",
            "--model",
            "model.json",
            "--candidates",
            "sim/candidates.csv",
            "--out",
            tmp.path().to_str().unwrap(),
            "--excel",
            "-q",
        ],
    );
    let bytes = std::fs::read(tmp.path().join("by_subject.csv")).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBFsubject;expected_candidates;low;high"));
    let text = String::from_utf8(bytes).unwrap();
    let line = text.lines().nth(1).unwrap();
    assert!(
        line.split(';').nth(1).unwrap().contains(','),
        "decimal comma expected: {line}"
    );
}

const HEADER: &str = "session,candidate_id,center,track,average,subject,coefficient,grade,chosen";

#[test]
fn bad_input_lists_every_problem_with_location_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let hist = tmp.path().join("h.csv");
    std::fs::write(
        &hist,
        format!(
            "{HEADER}\n\
             2024,A1,C1,GENERALE,9.1,MATHS,16,abs,1\n\
             2024,A1,C1,GENERALE,9.1,PHILO,8,21,0\n\
             2024,A2,C1,GENERALE,9.5,MATHS,16,8,1\n\
             2024,A2,C1,GENERALE,9.5,MATHS,16,8,0\n\
             2024,A3,C1,GENERALE,9.0,MATHS,16,8,1\n\
             2024,A3,C1,GENERALE,9.0,PHILO,8,8,1\n\
             2024,A3,C1,GENERALE,9.0,SES,16,8,1\n\
             2024,A4,C1,GENERALE,9.0,MATHS,16,8,1\n\
             2024,A4,C1,GENERALE,9.2,SES,16,8,0\n\
             2024,A5,C1,GENERALE,9.0,SES,0,8,yes\n"
        ),
    )
    .unwrap();
    let model = tmp.path().join("m.json");
    let o = run(
        tmp.path(),
        &["train", "--history", "h.csv", "--model", "m.json"],
    );
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    for needle in [
        "h.csv, line 2, column 'grade': value 'abs': expected a mark between 0 and 20",
        "line 3, column 'grade': value '21'",
        "line 5, column 'subject': value 'MATHS': expected each subject once",
        "column 'chosen': value '3': expected at most two orals",
        "line 10, column 'average'",
        "line 11, column 'coefficient': value '0'",
        "line 11, column 'chosen': value 'yes'",
    ] {
        assert!(e.contains(needle), "missing «{needle}» in:\n{e}");
    }
    assert!(!model.exists(), "no model may be written on bad input");
    assert!(!e.contains("panicked"));
}

#[test]
fn regression_average_disagreement_does_not_print_the_mark_next_to_the_id() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("h.csv"),
        format!("{HEADER}\n2024,SECRET1,C1,GENERALE,9.13,MATHS,16,8,1\n2024,SECRET1,C1,GENERALE,9.27,SES,16,8,0\n"),
    )
    .unwrap();
    let o = run(
        tmp.path(),
        &["train", "--history", "h.csv", "--model", "m.json"],
    );
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("line 3, column 'average'"), "{e}");
    assert!(!e.contains("9.27") && !e.contains("9.13"), "{e}");
}

#[test]
fn missing_column_empty_and_binary_files_are_reported_together() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("nocol.csv"),
        "session;candidate_id;center;track;average;subject;grade;chosen\n2024;A;C;G;9;M;8;1\n",
    )
    .unwrap();
    std::fs::write(tmp.path().join("empty.csv"), "").unwrap();
    std::fs::write(tmp.path().join("bin.csv"), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
    let o = run(
        tmp.path(),
        &[
            "train",
            "--history",
            "nocol.csv",
            "empty.csv",
            "bin.csv",
            "--model",
            "m.json",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("nocol.csv, line 1, column 'coefficient'"), "{e}");
    assert!(e.contains("separator ';'"), "{e}");
    assert!(
        e.contains("empty.csv: expected a header row and data rows (the file is empty)"),
        "{e}"
    );
    assert!(e.contains("bin.csv: expected a text CSV file"), "{e}");
    assert!(e.contains("3 problems"), "{e}");
}

#[test]
fn history_without_chosen_is_bad_input_but_a_forecast_file_may_omit_it() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("h.csv"), "session,candidate_id,center,track,average,subject,coefficient,grade\n2024,A,C,G,9,M,16,8\n").unwrap();
    let o = run(
        tmp.path(),
        &["train", "--history", "h.csv", "--model", "m.json"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("column 'chosen'"));
    let a = academy();
    let o = run(
        &a.path,
        &[
            "forecast",
            "--model",
            "model.json",
            "--candidates",
            tmp.path().join("h.csv").to_str().unwrap(),
            "--out",
            tmp.path().join("o").to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn unseen_subject_centre_and_track_are_forecast_with_warnings() {
    let a = academy();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("c.csv"),
        "session,candidate_id,center,track,average,subject,coefficient,grade\n\
         2030,N1,Lycée Nouveau,STAV,9.2,FRANCAIS,5,7\n\
         2030,N1,Lycée Nouveau,STAV,9.2,MATHS-ANTICIPEES,2,6\n\
         2030,N1,Lycée Nouveau,STAV,9.2,AGRONOMIE,16,8\n",
    )
    .unwrap();
    let o = run(
        &a.path,
        &[
            "forecast",
            "--model",
            "model.json",
            "--candidates",
            tmp.path().join("c.csv").to_str().unwrap(),
            "--out",
            tmp.path().join("o").to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("2 subjects never seen in training")
            && e.contains("AGRONOMIE, MATHS-ANTICIPEES"),
        "{e}"
    );
    assert!(
        e.contains("1 centre never seen") && e.contains("Lycée Nouveau"),
        "{e}"
    );
    assert!(
        e.contains("1 track never seen") && e.contains("STAV"),
        "{e}"
    );
    let rows = read_csv(&tmp.path().join("o/candidates.csv"));
    assert_eq!(rows.len(), 3);
    assert!(rows
        .iter()
        .all(|r| r["probability"].parse::<f64>().unwrap() > 0.0));
}

#[test]
fn damaged_or_foreign_model_files_are_clear_errors() {
    let a = academy();
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(a.path.join("model.json")).unwrap();
    let cases = [
        (
            "truncated.json",
            text[..text.len() / 2].to_string(),
            "not a valid bacpredict model",
        ),
        ("edited.json", text.clone(), "modified after training"),
        (
            "version.json",
            text.replacen("\"format_version\": 1", "\"format_version\": 99", 1),
            "format version 99",
        ),
    ];
    for (name, body, needle) in cases {
        let body = if name == "edited.json" {
            // Change one parameter's digits without breaking the JSON.
            let i = body.find("\"beta\": [").unwrap();
            let j = i + body[i..].find(|c: char| c.is_ascii_digit()).unwrap();
            let mut b = body.clone();
            let d = b.as_bytes()[j];
            b.replace_range(j..j + 1, if d == b'9' { "8" } else { "9" });
            b
        } else {
            body
        };
        std::fs::write(tmp.path().join(name), body).unwrap();
        let o = run(
            &a.path,
            &[
                "forecast",
                "--model",
                tmp.path().join(name).to_str().unwrap(),
                "--candidates",
                "sim/candidates.csv",
                "--out",
                tmp.path().join("o").to_str().unwrap(),
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{name}");
        assert!(stderr(&o).contains(needle), "{name}: {}", stderr(&o));
        assert!(!tmp.path().join("o").exists());
    }
}

#[test]
fn usage_errors_exit_with_2() {
    let a = academy();
    for args in [
        vec![
            "forecast",
            "--model",
            "model.json",
            "--candidates",
            "sim/candidates.csv",
            "--out",
            "x",
            "--coverage",
            "1.5",
        ],
        vec![
            "forecast",
            "--model",
            "model.json",
            "--candidates",
            "sim/candidates.csv",
            "--out",
            "x",
            "--capacity",
            "0",
        ],
        vec![
            "train",
            "--history",
            "sim/history.csv",
            "--model",
            "m.json",
            "--min-average",
            "11",
        ],
        vec!["frobnicate"],
    ] {
        let o = run(&a.path, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn roster_summons_by_priority_without_doubles_and_reports_shortages() {
    let a = academy();
    let tmp = tempfile::tempdir().unwrap();
    let conv_dir = tmp.path().join("plan");
    ok(
        &a.path,
        &[
            "forecast",
            "--model",
            "model.json",
            "--candidates",
            "sim/candidates.csv",
            "--out",
            conv_dir.to_str().unwrap(),
            "-q",
        ],
    );
    let conv = read_csv(&conv_dir.join("convocations.csv"));
    let need = conv
        .iter()
        .find(|r| r["subject"] == "PHILOSOPHIE" && r["examiners"] != "0")
        .expect("a PHILOSOPHIE cell");
    let center = need["center"].clone();
    let n: usize = need["examiners"].parse().unwrap();
    // Local examiners: n + 1 so that priority decides; the pool has one MATHEMATIQUES
    // examiner only, so other subjects go short.
    let mut roster = String::from("examiner_id,name,subject,center,priority\n");
    for i in 0..=n {
        roster.push_str(&format!(
            "L{i},Local {i},PHILOSOPHIE,\"{center}\",{}\n",
            n + 1 - i
        ));
    }
    roster.push_str("P1,Pool One,MATHEMATIQUES,,1\n");
    std::fs::write(tmp.path().join("roster.csv"), roster).unwrap();
    let out = tmp.path().join("o");
    let stdout = ok(
        &a.path,
        &[
            "forecast",
            "--model",
            "model.json",
            "--candidates",
            "sim/candidates.csv",
            "--out",
            out.to_str().unwrap(),
            "--roster",
            tmp.path().join("roster.csv").to_str().unwrap(),
            "-q",
        ],
    );
    assert!(stdout.contains("short"), "{stdout}");
    let summons = read_csv(&out.join("summons.csv"));
    let philo: Vec<&str> = summons
        .iter()
        .filter(|r| r["center"] == center && r["subject"] == "PHILOSOPHIE")
        .map(|r| r["examiner_id"].as_str())
        .collect();
    assert_eq!(philo.len(), n);
    // The highest priority number (L0) is the one left at home.
    assert!(!philo.contains(&"L0"), "{philo:?}");
    let ids: std::collections::HashSet<&str> =
        summons.iter().map(|r| r["examiner_id"].as_str()).collect();
    assert_eq!(ids.len(), summons.len(), "an examiner summoned twice");
    let shortages = read_csv(&out.join("shortages.csv"));
    assert!(!shortages.is_empty());
    assert!(shortages
        .iter()
        .all(|s| !(s["center"] == center && s["subject"] == "PHILOSOPHIE")));
}

#[test]
fn backtest_numbers_match_their_definitions_recomputed_from_cells_csv() {
    let a = academy();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bt");
    let json = ok(
        &a.path,
        &[
            "backtest",
            "--history",
            "sim/history.csv",
            "--out",
            out.to_str().unwrap(),
            "--json",
            "--capacity",
            "10",
            "-q",
            "--oracle",
            "sim/truth.csv",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    for k in [
        "session",
        "coverage",
        "cell_coverage",
        "redundancy",
        "surplus",
        "wape_subject",
        "wape_cell",
        "log_loss",
        "examiners",
        "needed",
        "baselines",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    for b in [
        "last year +25%",
        "two lowest weighted marks",
        "plain logistic",
        "oracle (true probabilities)",
    ] {
        assert!(v["baselines"].get(b).is_some(), "missing baseline {b}");
    }
    assert_eq!(
        header(&out.join("cells.csv")),
        "center,subject,expected,low,high,actual,examiners,needed"
    );
    let cells = read_csv(&out.join("cells.csv"));
    let f = |r: &BTreeMap<String, String>, k: &str| r[k].parse::<f64>().unwrap();
    let (mut covered, mut actual, mut ex, mut need, mut surplus) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut needing, mut ok_cells, mut err_cell) = (0.0, 0.0, 0.0);
    let mut subj: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for r in &cells {
        let (a_, e_, n_) = (f(r, "actual"), f(r, "examiners"), f(r, "needed"));
        assert_eq!(n_, (a_ / 10.0).ceil());
        covered += (e_ * 10.0).min(a_);
        actual += a_;
        ex += e_;
        need += n_;
        surplus += (e_ - n_).max(0.0);
        if n_ > 0.0 {
            needing += 1.0;
            if e_ >= n_ {
                ok_cells += 1.0;
            }
        }
        err_cell += (f(r, "expected") - a_).abs();
        let s = subj.entry(r["subject"].clone()).or_default();
        s.0 += f(r, "expected");
        s.1 += a_;
    }
    let close = |k: &str, want: f64, tol: f64| {
        let got = v[k].as_f64().unwrap();
        assert!(
            (got - want).abs() < tol,
            "{k}: json {got}, recomputed {want}"
        );
    };
    close("coverage", covered / actual, 1e-9);
    close("cell_coverage", ok_cells / needing, 1e-9);
    close("redundancy", (ex - need) / need, 1e-9);
    close("surplus", surplus / need, 1e-9);
    // expected is rounded to 2 decimals in the CSV.
    close("wape_cell", err_cell / actual, 0.01);
    close(
        "wape_subject",
        subj.values().map(|(e, a)| (e - a).abs()).sum::<f64>() / actual,
        0.01,
    );
    assert_eq!(v["examiners"].as_f64().unwrap(), ex);
    let subjects = read_csv(&out.join("subjects.csv"));
    let total: f64 = subjects.iter().map(|r| f(r, "actual")).sum();
    assert_eq!(total, actual);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("Calibration") && html.contains("Capacity: 10"));
    assert!(
        !html.contains("<script") && !html.contains("http://") && !html.contains("https://"),
        "report must be self-contained"
    );
}

#[test]
fn backtest_all_reports_each_session_and_the_average() {
    let a = academy();
    let json = ok(
        &a.path,
        &[
            "backtest",
            "--history",
            "sim/history.csv",
            "--all",
            "--json",
            "-q",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let sessions: Vec<i64> = v["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session"].as_i64().unwrap())
        .collect();
    // Four sessions 2021-2024: those with two earlier ones are 2023 and 2024.
    assert_eq!(sessions, vec![2023, 2024]);
    assert!(v["average"]["coverage"].as_f64().is_some());
}

#[test]
fn simulate_is_deterministic_for_a_seed() {
    let tmp = tempfile::tempdir().unwrap();
    for d in ["a", "b"] {
        ok(
            tmp.path(),
            &[
                "simulate",
                "--out",
                d,
                "--candidates",
                "50",
                "--centers",
                "2",
                "--sessions",
                "2",
                "--seed",
                "3",
            ],
        );
    }
    for f in ["history.csv", "truth.csv", "candidates.csv"] {
        assert_eq!(
            std::fs::read(tmp.path().join("a").join(f)).unwrap(),
            std::fs::read(tmp.path().join("b").join(f)).unwrap()
        );
    }
}

#[test]
fn regression_broken_pipe_is_not_an_error() {
    let a = academy();
    let tmp = tempfile::tempdir().unwrap();
    let mut child = bin()
        .current_dir(&a.path)
        .args([
            "forecast",
            "--model",
            "model.json",
            "--candidates",
            "sim/candidates.csv",
            "--out",
            tmp.path().to_str().unwrap(),
            "--json",
            "-q",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status.code(),
        stderr(&o)
    );
    assert!(!stderr(&o).contains("Broken pipe"));
}

#[test]
fn help_documents_units_and_defaults() {
    let o = bin().args(["forecast", "--help"]).output().unwrap();
    let h = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "--capacity",
        "default: 24",
        "12 a day",
        "--coverage",
        "0.995",
        "--service-level",
        "--excel",
        "--roster",
        "--json",
    ] {
        assert!(h.contains(needle), "--help lacks {needle}");
    }
}

#[test]
fn regression_model_file_does_not_depend_on_history_file_order() {
    let a = academy();
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(a.path.join("sim/history.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let (mut early, mut late) = (format!("{header}\n"), format!("{header}\n"));
    for l in lines {
        if l.starts_with("2021") || l.starts_with("2022") {
            early.push_str(l);
            early.push('\n');
        } else {
            late.push_str(l);
            late.push('\n');
        }
    }
    // The later sessions first: names used to be numbered in order of first appearance,
    // so the model file changed with the order of the history files.
    std::fs::write(tmp.path().join("late.csv"), late).unwrap();
    std::fs::write(tmp.path().join("early.csv"), early).unwrap();
    let m = tmp.path().join("m.json");
    ok(
        tmp.path(),
        &[
            "train",
            "--history",
            "late.csv",
            "early.csv",
            "--model",
            "m.json",
            "-q",
        ],
    );
    assert_eq!(
        std::fs::read(a.path.join("model.json")).unwrap(),
        std::fs::read(&m).unwrap()
    );
}

#[test]
fn capacity_file_overrides_the_default_per_subject() {
    let a = academy();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("cap.csv"),
        "subject;capacity\nPHILOSOPHIE;6\n",
    )
    .unwrap();
    let out = tmp.path().join("o");
    ok(
        &a.path,
        &[
            "forecast",
            "--model",
            "model.json",
            "--candidates",
            "sim/candidates.csv",
            "--out",
            out.to_str().unwrap(),
            "--capacity-file",
            tmp.path().join("cap.csv").to_str().unwrap(),
            "-q",
        ],
    );
    let conv = read_csv(&out.join("convocations.csv"));
    assert!(conv.iter().any(|r| r["subject"] == "PHILOSOPHIE"));
    for r in &conv {
        let want = if r["subject"] == "PHILOSOPHIE" {
            "6"
        } else {
            "24"
        };
        assert_eq!(r["capacity"], want, "{r:?}");
    }
}
