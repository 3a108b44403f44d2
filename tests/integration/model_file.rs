//! The model file: byte-identical training, no personal data in it, and clear errors
//! for damaged or foreign files.

use std::path::Path;

use crate::util::*;

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
            &forecast_args(
                "model.json",
                "sim/candidates.csv",
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
            text.replacen("\"format_version\": 4", "\"format_version\": 99", 1),
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
            &forecast_args(
                tmp.path().join(name).to_str().unwrap(),
                "sim/candidates.csv",
                tmp.path().join("o").to_str().unwrap(),
                &[],
            ),
        );
        assert_eq!(o.status.code(), Some(2), "{name}");
        assert!(stderr(&o).contains(needle), "{name}: {}", stderr(&o));
        assert!(!tmp.path().join("o").exists());
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

/// `train` records in the model file and prints which settings it tried, each one's
/// held-out log-loss and which it chose; a half-life given on the command line is kept.
#[test]
fn training_records_and_prints_the_settings_it_chose() {
    let a = academy();
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("m.json");
    let history = a.path.join("sim/history.csv");
    let args = |extra: &[&str]| {
        let mut v = vec![
            "train".to_string(),
            "--history".to_string(),
            history.display().to_string(),
            "--model".to_string(),
            model.display().to_string(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run_train = |a: Vec<String>| {
        ok(
            tmp.path(),
            &a.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        )
    };
    let text = run_train(args(&[]));
    assert!(
        text.contains("settings chosen by rolling origin (held-out sessions 2023, 2024)"),
        "{text}"
    );
    assert_eq!(
        text.lines().filter(|l| l.starts_with("  * ")).count(),
        1,
        "{text}"
    );
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
    let sel = &file["model"]["training"]["selection"];
    let trials = sel["trials"].as_array().expect("trials");
    assert!(trials.len() >= 3, "{sel}");
    assert!(sel["chosen"].as_u64().unwrap() < trials.len() as u64);
    assert!(trials.iter().all(|t| t["log_loss"].as_f64().unwrap() > 0.0));
    let json = run_train(args(&["--half-life", "2", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let trials = v["selection"]["trials"].as_array().expect("trials");
    assert!(
        trials.iter().all(|t| t["half_life"].as_f64() == Some(2.0)),
        "{json}"
    );
    assert_eq!(v["options"]["half_life"].as_f64(), Some(2.0));
}
