//! Forecasting: the tables, their formats, unseen names, the roster and capacities.

use std::collections::HashMap;
use std::path::Path;

use crate::util::*;

#[test]
fn forecast_writes_every_table_with_probabilities_following_the_rules() {
    let a = academy();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let stdout = ok(
        &a.path,
        &forecast_args(
            "model.json",
            "sim/candidates.csv",
            out.to_str().unwrap(),
            &[],
        ),
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
        "center,subject,day,half_day,expected_candidates,low,high"
    );
    assert_eq!(
        header(&out.join("convocations.csv")),
        "center,subject,day,half_day,expected_candidates,examiners,reserve,capacity,expected_uncovered,expected_uncovered_with_reserve"
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
            &forecast_args(
                "model.json",
                input.to_str().unwrap(),
                out.to_str().unwrap(),
                &["-q"],
            ),
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
        &forecast_args(
            "model.json",
            "sim/candidates.csv",
            tmp.path().to_str().unwrap(),
            &["--excel", "-q"],
        ),
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
        &forecast_args(
            "model.json",
            tmp.path().join("c.csv").to_str().unwrap(),
            tmp.path().join("o").to_str().unwrap(),
            // A single new centre: the model knows none of the file's centres.
            &["--allow-unseen"],
        ),
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
fn roster_summons_by_priority_without_doubles_and_reports_shortages() {
    let a = academy();
    let tmp = tempfile::tempdir().unwrap();
    let conv_dir = tmp.path().join("plan");
    ok(
        &a.path,
        &forecast_args(
            "model.json",
            "sim/candidates.csv",
            conv_dir.to_str().unwrap(),
            &["-q"],
        ),
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
        &forecast_args(
            "model.json",
            "sim/candidates.csv",
            out.to_str().unwrap(),
            &[
                "--roster",
                tmp.path().join("roster.csv").to_str().unwrap(),
                "-q",
            ],
        ),
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
        &forecast_args(
            "model.json",
            "sim/candidates.csv",
            out.to_str().unwrap(),
            &[
                "--capacity-file",
                tmp.path().join("cap.csv").to_str().unwrap(),
                "-q",
            ],
        ),
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

/// The promise replayed on the sample model's three held-out sessions: printed, in the
/// JSON, on plan.html, and never narrower than the model's own widening.
#[test]
fn the_promise_is_replayed_on_the_models_past_sessions() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let model = repo_file("models/sample.json");
    let cands = repo_file("data/sample/candidates.csv");
    let (m, c) = (model.to_str().unwrap(), cands.to_str().unwrap());
    let text = ok(d, &forecast_args(m, c, "t", &[]));
    assert!(
        text.contains(
            "Checked on the past sessions 2023, 2024, 2025: this rule would have covered"
        ),
        "{text}"
    );
    let json = ok(d, &forecast_args(m, c, "j", &["--json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let p = &v["promise"];
    assert_eq!(p["outcome"], "calibrated", "{p}");
    let years: Vec<i64> = p["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["session"].as_i64().unwrap())
        .collect();
    assert_eq!(years, [2023, 2024, 2025]);
    assert!(p["firm_multiplier"].as_f64().unwrap() >= 1.0);
    assert!(p["reserve_multiplier"].as_f64().unwrap() >= 1.0);
    // The replayed sessions reach the target on average, each within half a point.
    let cov: Vec<f64> = p["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["coverage"].as_f64().unwrap())
        .collect();
    assert!(cov.iter().sum::<f64>() / 3.0 >= 0.995 - 1e-12, "{cov:?}");
    assert!(cov.iter().all(|&x| x >= 0.99 - 1e-12), "{cov:?}");
    let page = std::fs::read_to_string(d.join("t/plan.html")).unwrap();
    assert!(
        page.contains("Sur 2023, 2024, 2025, cette règle aurait couvert"),
        "plan.html says what the rule would have covered"
    );
}

/// With the sample's zones, the plan holds thin subjects of a town's centres at one of
/// them: hosts.csv names each move within a zone, the convocations are at hosts only for
/// the moved subjects, and fewer firm examiners are convened at the same expected
/// coverage.
#[test]
fn zones_regroup_thin_subjects_at_one_centre_of_their_town() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let model = repo_file("models/sample.json");
    let cands = repo_file("data/sample/candidates.csv");
    let zones = repo_file("data/sample/zones.csv");
    let (m, c, z) = (
        model.to_str().unwrap(),
        cands.to_str().unwrap(),
        zones.to_str().unwrap(),
    );
    let json = |out: &str, extra: &[&str]| -> serde_json::Value {
        let mut more = vec!["--json", "-q"];
        more.extend_from_slice(extra);
        let o = ok(d, &forecast_args(m, c, out, &more));
        serde_json::from_str(&o).unwrap()
    };
    let plain = json("plain", &[]);
    let zoned = json("zoned", &["--zones", z]);
    let firm = |v: &serde_json::Value| v["plan"]["examiners"].as_u64().unwrap();
    assert!(
        firm(&zoned) < firm(&plain),
        "{} vs {}",
        firm(&zoned),
        firm(&plain)
    );
    assert_eq!(
        zoned["regrouping"]["examiners_without"],
        plain["plan"]["examiners"]
    );
    for v in [&plain, &zoned] {
        assert!(v["plan"]["expected_coverage"].as_f64().unwrap() >= 0.995 - 1e-9);
    }
    let town: HashMap<String, String> = read_csv(&zones)
        .into_iter()
        .map(|r| (r["center"].clone(), r["zone"].clone()))
        .collect();
    let hosts = read_csv(&d.join("zoned/hosts.csv"));
    assert!(!hosts.is_empty());
    for r in &hosts {
        assert_ne!(r["center"], r["host_center"]);
        assert_eq!(town[&r["center"]], town[&r["host_center"]], "{r:?}");
        assert_eq!(town[&r["host_center"]], r["zone"]);
    }
    let moved: std::collections::HashSet<(String, String)> = hosts
        .iter()
        .map(|r| (r["center"].clone(), r["subject"].clone()))
        .collect();
    let zones_named: std::collections::HashSet<&String> = town.values().collect();
    for r in read_csv(&d.join("zoned/convocations.csv")) {
        if r["center"].is_empty() {
            // A zone's pooled reserve: no firm examiner, a reserve, a zone of the file.
            assert!(zones_named.contains(&r["zone"]), "{r:?}");
            assert_eq!(r["examiners"], "0");
            assert_ne!(r["reserve"], "0");
            continue;
        }
        let key = (r["center"].clone(), r["subject"].clone());
        assert!(
            !moved.contains(&key),
            "a moved subject convened at home: {r:?}"
        );
        assert_eq!(town[&r["center"]], r["zone"]);
    }
    let host: HashMap<(String, String), String> = hosts
        .iter()
        .map(|r| {
            (
                (r["center"].clone(), r["subject"].clone()),
                r["host_center"].clone(),
            )
        })
        .collect();
    for r in read_csv(&d.join("zoned/candidates.csv")) {
        let key = (r["center"].clone(), r["subject"].clone());
        assert_eq!(
            r["oral_center"],
            *host.get(&key).unwrap_or(&r["center"]),
            "{r:?}"
        );
    }
    let page = std::fs::read_to_string(d.join("zoned/plan.html")).unwrap();
    assert!(page.contains("Regroupement par zone"));
    assert!(!d.join("plain/hosts.csv").exists());
    assert!(!read_csv(&d.join("plain/candidates.csv"))[0].contains_key("oral_center"));
}

/// `--regroup none` moves no oral (the reserve is pooled by zone, and the firm plan
/// counts on idle examiners moving); `--regroup FILE` moves exactly what the office listed: every other
/// centre of the zone to the host, in that subject only.
#[test]
fn the_office_chooses_the_regrouping_or_none() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (m, c, z) = (
        repo_file("models/sample.json"),
        repo_file("data/sample/candidates.csv"),
        repo_file("data/sample/zones.csv"),
    );
    let (m, c, z) = (
        m.to_str().unwrap(),
        c.to_str().unwrap(),
        z.to_str().unwrap(),
    );
    let plan = |out: &str, extra: &[&str]| -> serde_json::Value {
        let mut more = vec!["--json", "-q"];
        more.extend_from_slice(extra);
        let v: serde_json::Value =
            serde_json::from_str(&ok(d, &forecast_args(m, c, out, &more))).unwrap();
        v["plan"].clone()
    };
    let (none, plain) = (
        plan("none", &["--zones", z, "--regroup", "none"]),
        plan("plain", &[]),
    );
    let n = |v: &serde_json::Value, k: &str| v[k].as_u64().unwrap();
    // Nothing regrouped; the reserve shared by the towns of several centres, and the
    // firm examiners no more than cell by cell.
    assert!(read_csv(&d.join("none/hosts.csv")).is_empty());
    assert!(n(&none, "examiners") <= n(&plain, "examiners"));
    assert!(n(&none, "pooled_reserve") > 0);
    assert!(plain["pools"] == 0);
    let firm = |out: &str, extra: &[&str]| n(&plan(out, extra), "examiners");
    std::fs::write(
        d.join("mine.csv"),
        "zone,subject,host_center\nNancy,FRANCAIS,\"Lycée Loritz, Nancy\"\n",
    )
    .unwrap();
    firm("mine", &["--zones", z, "--regroup", "mine.csv"]);
    let moved: Vec<(String, String, String)> = read_csv(&d.join("mine/hosts.csv"))
        .into_iter()
        .map(|r| {
            (
                r["center"].clone(),
                r["subject"].clone(),
                r["host_center"].clone(),
            )
        })
        .collect();
    let loritz = "Lycée Loritz, Nancy".to_string();
    let fr = "FRANCAIS".to_string();
    assert_eq!(
        moved,
        vec![
            (
                "Lycée Henri-Poincaré, Nancy".to_string(),
                fr.clone(),
                loritz.clone()
            ),
            ("Lycée Jeanne-d'Arc, Nancy".to_string(), fr, loritz),
        ]
    );
}
