//! Runs bacpredict's fuzz targets (see `src/fuzz.rs`) for a chosen time:
//!
//! ```sh
//! cargo run --release --features fuzz --example fuzz -- --seconds 1800 [--target history] [--seed 1]
//! ```
//!
//! Targets: history, candidates, train, model, roster, capacities, spreadsheet, export,
//! column, subjects, summons, manifest (default: all, in
//! turn). Each failing input is saved under `target/fuzz-failures/`; a case running over
//! 30 s is a hang: its input is saved and the run stops with exit status 3.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bacpredict::fuzz::{self, Corpus, Target};

const HANG: Duration = Duration::from_secs(30);

struct Options {
    seconds: u64,
    targets: Vec<Target>,
    seed: u64,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        seconds: 60,
        targets: Target::ALL.to_vec(),
        seed: 1,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--seconds" => o.seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?,
            "--seed" => o.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--target" => {
                let v = value()?;
                o.targets = vec![Target::parse(&v).ok_or(format!("unknown target {v}"))?];
            }
            _ => return Err(format!("unknown option {a}")),
        }
    }
    Ok(o)
}

/// The case being run, for the watchdog: target, case number, start, input.
type Current = Arc<Mutex<(Target, u64, Instant, Vec<u8>)>>;

fn save(dir: &Path, target: Target, case: u64, what: &str, bytes: &[u8]) -> PathBuf {
    let _ = std::fs::create_dir_all(dir);
    let path = dir.join(format!("{}-{what}-{case}.bin", target.name()));
    let _ = std::fs::write(&path, bytes);
    path
}

fn watchdog(current: Current, dir: PathBuf) {
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_secs(1));
        let c = current.lock().expect("lock");
        if c.2.elapsed() > HANG {
            let path = save(&dir, c.0, c.1, "hang", &c.3);
            eprintln!(
                "HANG: {} case {} ran over {HANG:?}; input saved to {}",
                c.0.name(),
                c.1,
                path.display()
            );
            std::process::exit(3);
        }
    });
}

fn main() {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = Corpus::load(repo).expect("the bundled sample");
    let dir = repo.join("target/fuzz-failures");
    let current: Current = Arc::new(Mutex::new((o.targets[0], 0, Instant::now(), Vec::new())));
    watchdog(current.clone(), dir.clone());
    let end = Instant::now() + Duration::from_secs(o.seconds);
    let (mut runs, mut failures) = (vec![0u64; o.targets.len()], 0u64);
    let mut slowest = Duration::ZERO;
    let mut case = o.seed.wrapping_mul(1_000_003);
    while Instant::now() < end {
        for (k, &target) in o.targets.iter().enumerate() {
            case = case.wrapping_add(1);
            let bytes = fuzz::input(&corpus, target, case);
            *current.lock().expect("lock") = (target, case, Instant::now(), bytes.clone());
            let start = Instant::now();
            let result = fuzz::run_case(&corpus, target, &bytes);
            slowest = slowest.max(start.elapsed());
            runs[k] += 1;
            if let Err(e) = result {
                failures += 1;
                let path = save(&dir, target, case, "fail", &bytes);
                eprintln!(
                    "FAIL: {} case {case}: {e} (input: {})",
                    target.name(),
                    path.display()
                );
            }
        }
    }
    for (t, n) in o.targets.iter().zip(&runs) {
        println!("{}: {n} runs", t.name());
    }
    println!(
        "{failures} failures, 0 hangs, slowest run {} ms",
        slowest.as_millis()
    );
    if failures > 0 {
        std::process::exit(1);
    }
}
