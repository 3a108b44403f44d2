//! The command line: usage errors, help, pipes and simulation.

use std::process::Stdio;

use crate::util::*;

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
        "per half-day",
        "default 8",
        "default 15",
        "default 24",
        "--reserve-coverage",
        "default 0.999",
        "--schedule",
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

/// Each world is reproducible from its seed and differs from the baseline; the baseline
/// is the bundled sample's behaviour whatever worlds exist.
#[test]
fn worlds_are_reproducible_and_differ_from_the_baseline() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let sim = |world: &str, out: &str| {
        ok(
            dir,
            &[
                "simulate",
                "--out",
                out,
                "--world",
                world,
                "--candidates",
                "200",
                "--centers",
                "3",
                "--sessions",
                "4",
                "--seed",
                "3",
                "-q",
            ],
        );
        std::fs::read(dir.join(out).join("history.csv")).unwrap()
    };
    let base = sim("baseline", "b");
    for world in ["heterogeneous", "rules", "centers", "trend", "shocks"] {
        let a = sim(world, &format!("{world}1"));
        assert_eq!(
            a,
            sim(world, &format!("{world}2")),
            "{world} is not reproducible"
        );
        assert!(a != base, "{world} is the baseline");
    }
    let o = run(dir, &["simulate", "--out", "x", "--world", "nowhere"]);
    assert_eq!(o.status.code(), Some(2));
}
