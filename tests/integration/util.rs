//! Helpers shared by the themes: running the executable, a small simulated académie
//! trained once, and reading CSV outputs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The executable under test: the one cargo built, or `BACPREDICT_TEST_BIN` when set, to
/// check that a new test fails on an older build (README, "Tests").
pub(crate) fn bin() -> Command {
    match std::env::var_os("BACPREDICT_TEST_BIN") {
        Some(path) => Command::new(path),
        None => Command::new(env!("CARGO_BIN_EXE_bacpredict")),
    }
}

pub(crate) fn run(dir: &Path, args: &[&str]) -> Output {
    bin()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run bacpredict")
}

pub(crate) fn ok(dir: &Path, args: &[&str]) -> String {
    let o = run(dir, args);
    assert!(
        o.status.success(),
        "bacpredict {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&o.stderr),
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8(o.stdout).expect("utf-8 stdout")
}

/// The arguments of `bacpredict forecast --model MODEL --candidates CANDIDATES --out OUT`
/// followed by `extra`.
pub(crate) fn forecast_args<'a>(
    model: &'a str,
    candidates: &'a str,
    out: &'a str,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut v = vec![
        "forecast",
        "--model",
        model,
        "--candidates",
        candidates,
        "--out",
        out,
    ];
    v.extend_from_slice(extra);
    v
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A small simulated académie, trained once and shared by the tests that only read it.
pub(crate) struct Academy {
    _dir: tempfile::TempDir,
    pub(crate) path: PathBuf,
}

pub(crate) fn academy() -> &'static Academy {
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

pub(crate) fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
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

pub(crate) fn header(path: &Path) -> String {
    std::fs::read_to_string(path)
        .expect("read")
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

/// A file of the bundled sample (`data/sample/NAME`) or model (`models/NAME`).
pub(crate) fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}
