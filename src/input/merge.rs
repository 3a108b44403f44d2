//! Merge: reading whole files into one [`Dataset`]. Header matching, the chunks of every
//! file parsed in parallel, the name tables sorted, and the candidates' runs merged in
//! session and id order.
//!
//! Names in sorted order and everything sorted: every downstream result, the model file
//! included, is then independent of row and file order.

use std::path::{Path, PathBuf};

use super::chunks::{chunk_bounds, parse_chunk, Chunk, ColumnPositions, ABSENT_KINDS, CHUNK_BYTES};
use super::columns::{Column, COLUMNS};
use super::header::{header_line, match_header, without_title, Wanted};
use super::problems::{shown_value, InputError, Problems};
use super::rows::{Interner, ParsedRow};
use super::runs::{add_row, Names, Pending};
use super::text::{csv_reader, read_text, ABSENT_MARKS, NO_MARK};
use super::{ReadOptions, Separator};
use crate::data::{sorted_union, Candidate, Dataset, SlotKind};

/// Reads and validates several files into one dataset. Either every file is valid and a
/// dataset comes back, or an [`InputError`] lists the problems of all of them.
pub(crate) fn read_files(paths: &[PathBuf], opts: &ReadOptions) -> Result<Dataset, InputError> {
    read_files_in_chunks(paths, opts, CHUNK_BYTES)
}

/// [`read_files`], cutting the data rows into chunks of about `chunk_bytes`.
///
/// Each chunk is parsed, checked and grouped into runs of one candidate's consecutive
/// rows on its own core; the runs of every chunk are then put in session and id order
/// and merged, the rare candidate whose rows are not all consecutive in one chunk being
/// rebuilt from its first run by replaying the later rows, as one pass over the files in
/// order would.
fn read_files_in_chunks(
    paths: &[PathBuf],
    opts: &ReadOptions,
    chunk_bytes: usize,
) -> Result<Dataset, InputError> {
    let mut problems = Problems::for_files(paths);
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut notes = Vec::new();
    for (file_idx, path) in paths.iter().enumerate() {
        let mut read = FileRead {
            chunks: &mut chunks,
            problems: &mut problems,
            notes: &mut notes,
        };
        read.file(path, file_idx, opts, chunk_bytes);
    }
    let tables = NameTables::new(&mut chunks);
    let runs = sorted_runs(&mut chunks);
    let mut merge = Merge {
        paths,
        opts,
        chunks: &chunks,
        tables: &tables,
        problems: &mut problems,
        set_aside: 0,
        first_lines: Vec::new(),
    };
    let candidates = merge.candidates(runs);
    let set_aside = merge.set_aside;
    check_slots(&candidates, &merge.first_lines, paths, &mut problems);
    if !problems.is_empty() {
        return Err(problems.into_error());
    }
    Ok(Dataset {
        candidates,
        centers: tables.centers,
        tracks: tables.tracks,
        subjects: tables.subjects,
        days: tables.days,
        set_aside,
        without_mark: without_mark(&chunks),
        notes,
    })
}

/// The rows every chunk set aside for an absent mark, by kind, the kinds found only.
fn without_mark(chunks: &[Chunk]) -> Vec<(&'static str, usize)> {
    let mut total = [0usize; ABSENT_KINDS];
    for c in chunks {
        for (t, n) in total.iter_mut().zip(c.absent) {
            *t += n;
        }
    }
    let names = ABSENT_MARKS.iter().copied().chain([NO_MARK]);
    names.zip(total).filter(|&(_, n)| n > 0).collect()
}

/// Where one file's reading goes: its chunks, its problems, and the notes on how it was
/// read (a title block skipped, columns read under other names).
struct FileRead<'a> {
    chunks: &'a mut Vec<Chunk>,
    problems: &'a mut Problems,
    notes: &'a mut Vec<String>,
}

impl FileRead<'_> {
    /// Reads file number `file_idx`: its header, then its data rows in chunks parsed on
    /// every core.
    fn file(&mut self, path: &Path, file_idx: usize, opts: &ReadOptions, chunk_bytes: usize) {
        let Some((text, sheet)) = read_text(path, self.problems, opts.sheet.as_deref()) else {
            return;
        };
        if text.trim().is_empty() {
            let expected = "a header row and data rows (the file is empty)";
            self.problems.push(path, 0, "", "", expected);
            return;
        }
        let separator = if sheet {
            Separator::Comma
        } else {
            opts.separator
        };
        let line = header_line(&text);
        let text = without_title(&text, line);
        let (mut rdr, sep) = csv_reader(&text, separator);
        if line > 1 && !sheet {
            let titles = line - 1;
            self.notes.push(format!(
                "{}: header on line {line}, below {titles} title line{}",
                path.display(),
                if titles == 1 { "" } else { "s" }
            ));
        }
        let Some(col) = self.header_columns(&mut rdr, (sep, line), path, opts) else {
            return;
        };
        let data_start = rdr.position().clone();
        let bytes = text.as_bytes();
        let first = self.chunks.len();
        let bounds: Vec<_> = chunk_bounds(bytes, &data_start, chunk_bytes)
            .into_iter()
            .enumerate()
            .collect();
        let parsed = crate::parallel::par_map(bounds, |(k, bound)| {
            parse_chunk(bytes, sep, bound, &col, (path, file_idx), first + k, opts)
        });
        let (mut any_row, mut any_problem) = (false, false);
        for mut chunk in parsed {
            any_row |= chunk.rows_read > 0;
            any_problem |= chunk.problems.total() > 0;
            self.problems.absorb(std::mem::take(&mut chunk.problems));
            self.chunks.push(chunk);
        }
        if !any_row && !any_problem {
            let expected = "at least one data row after the header";
            self.problems.push(path, 0, "", "", expected);
        }
    }

    /// The position of each [`Column`] in the header, or `None` when the header cannot
    /// be read or a required column is missing.
    fn header_columns(
        &mut self,
        rdr: &mut csv::Reader<&[u8]>,
        (sep, line): (u8, usize),
        path: &Path,
        opts: &ReadOptions,
    ) -> Option<ColumnPositions> {
        let header = match rdr.headers() {
            Ok(h) => h.clone(),
            Err(e) => {
                let expected = format!("a CSV header row ({e})");
                self.problems.push(path, line as u64, "", "", &expected);
                return None;
            }
        };
        let wanted = Wanted {
            columns: &COLUMNS,
            required: Column::required_count(opts.require_chosen),
            by_hand: Some(&opts.columns),
        };
        let matched = match_header(&header, &wanted, (sep, line as u64), path, self.problems)?;
        if !matched.renamed.is_empty() {
            let renamed: Vec<String> = matched
                .renamed
                .iter()
                .map(|(h, c)| format!("'{}' as {c}", shown_value(h)))
                .collect();
            self.notes.push(format!(
                "{}: columns read under other names: {}",
                path.display(),
                renamed.join(", ")
            ));
        }
        Some(std::array::from_fn(|k| matched.positions[k]))
    }
}

/// The sorted name tables of the whole input, and for each chunk the map from its own
/// name numbers to them.
struct NameTables {
    centers: Vec<String>,
    tracks: Vec<String>,
    subjects: Vec<String>,
    days: Vec<String>,
    maps: [Vec<Vec<u32>>; 4],
}

impl NameTables {
    /// The tables, with every chunk's runs renamed to them (on every core).
    fn new(chunks: &mut [Chunk]) -> NameTables {
        let sorted = |names: fn(&Chunk) -> &Interner| {
            sorted_union(chunks.iter().map(|c| names(c).names.as_slice()))
        };
        let (centers, cmaps) = sorted(|c| &c.centers);
        let (tracks, tmaps) = sorted(|c| &c.tracks);
        let (subjects, smaps) = sorted(|c| &c.subjects);
        let (days, dmaps) = sorted(|c| &c.days);
        crate::parallel::par_for_each_mut(chunks, |k, chunk| {
            for p in chunk.runs.iter_mut() {
                let c = &mut p.candidate;
                c.center = cmaps[k][c.center as usize];
                c.track = tmaps[k][c.track as usize];
                for s in c.subjects.iter_mut() {
                    s.subject = smaps[k][s.subject as usize];
                }
                c.subjects.sort_unstable_by_key(|s| s.subject);
                c.slot = c.slot.renumbered(|d| dmaps[k][d as usize]);
            }
        });
        NameTables {
            centers,
            tracks,
            subjects,
            days,
            maps: [cmaps, tmaps, smaps, dmaps],
        }
    }

    fn names(&self) -> Names<'_> {
        [&self.centers, &self.tracks, &self.subjects, &self.days]
    }
}

/// Every chunk's runs in session and id order. Each chunk's runs are sorted already, and
/// a stable sort keeps a candidate's runs in file and row order: its first run comes
/// first.
fn sorted_runs(chunks: &mut [Chunk]) -> Vec<Pending> {
    let mut runs: Vec<Pending> = Vec::with_capacity(chunks.iter().map(|c| c.runs.len()).sum());
    for chunk in chunks.iter_mut() {
        runs.append(&mut chunk.runs);
    }
    runs.sort_by(|a, b| a.key().cmp(&b.key()));
    runs
}

/// The merge of the sorted runs into candidates.
struct Merge<'a> {
    paths: &'a [PathBuf],
    opts: &'a ReadOptions,
    chunks: &'a [Chunk],
    tables: &'a NameTables,
    problems: &'a mut Problems,
    /// Candidates read but outside the average band.
    set_aside: usize,
    /// The file and line of each kept candidate's first row, for the slot check.
    first_lines: Vec<(usize, u64)>,
}

impl Merge<'_> {
    /// One candidate per (session, id), from its first run and its later ones.
    fn candidates(&mut self, runs: Vec<Pending>) -> Vec<Candidate> {
        let mut candidates = Vec::with_capacity(runs.len());
        let mut runs = runs.into_iter().peekable();
        while let Some(mut p) = runs.next() {
            self.problems.absorb(std::mem::take(&mut p.problems));
            let mut merged = false;
            while let Some(later) = runs.next_if(|q| q.key() == p.key()) {
                merged = true;
                self.replay(&mut p, &later);
            }
            if merged {
                p.candidate.subjects.sort_unstable_by_key(|s| s.subject);
            }
            let at = (p.file, p.line);
            if let Some(c) = self.finish(p) {
                candidates.push(c);
                self.first_lines.push(at);
            }
        }
        candidates
    }

    /// The later run's own checks compared its rows with its own first row; they are
    /// redone against the candidate's first row.
    fn replay(&mut self, p: &mut Pending, later: &Pending) {
        let k = later.chunk;
        let chunk = &self.chunks[k];
        let path = &self.paths[chunk.file];
        let first_file = (chunk.file != p.file).then(|| self.paths[p.file].as_path());
        let [cmaps, tmaps, smaps, dmaps] = &self.tables.maps;
        for r in &chunk.rows[later.rows.clone()] {
            let row = ParsedRow {
                center: cmaps[k][r.center as usize],
                track: tmaps[k][r.track as usize],
                slot: r.slot.renumbered(|d| dmaps[k][d as usize]),
                id: 0..0,
                ..*r
            };
            let subject = r.subject_row(smaps[k][r.subject as usize]);
            let names = self.tables.names();
            add_row(p, &row, subject, names, path, first_file, self.problems);
        }
    }

    /// The candidate once all its rows are in, unless it has a problem or lies outside
    /// the average band.
    fn finish(&mut self, p: Pending) -> Option<Candidate> {
        let c = p.candidate;
        let path = &self.paths[p.file];
        if let Some(n) = c.n_chosen() {
            if n > 2 {
                self.problems.push(
                    path,
                    p.line,
                    "chosen",
                    &n.to_string(),
                    "at most two orals per candidate (this candidate's rows have more chosen = 1)",
                );
                return None;
            }
        }
        let partly_chosen = p.chosen_missing && c.subjects.iter().any(|s| s.chosen.is_some());
        if partly_chosen && !self.opts.require_chosen {
            self.problems.push(
                path,
                p.line,
                "chosen",
                "",
                "'chosen' filled on all or none of a candidate's rows",
            );
            return None;
        }
        if c.average < self.opts.min_average || c.average >= self.opts.max_average {
            self.set_aside += 1;
            return None;
        }
        Some(c)
    }
}

/// Slots are all or nothing: every candidate has one, with a half-day for all or for
/// none, or no candidate has one. A mix is reported at the first candidate that breaks
/// it, since guessing the others' slots would plan examiners for orals nobody set.
fn check_slots(
    candidates: &[Candidate],
    first_lines: &[(usize, u64)],
    paths: &[PathBuf],
    problems: &mut Problems,
) {
    let with = candidates.iter().filter(|c| c.slot.day().is_some()).count();
    let halves = candidates
        .iter()
        .filter(|c| c.slot.half().is_some())
        .count();
    let (odd, expected): (fn(&Candidate) -> bool, String) = if with > 0 && with < candidates.len() {
        (
            |c| c.slot.day().is_none(),
            format!(
                "a day for every candidate or for none ({with} of {} candidates have one)",
                candidates.len()
            ),
        )
    } else if halves > 0 && halves < with {
        (
            |c| c.slot.kind() == SlotKind::Day,
            format!(
                "a half-day for every candidate or for none ({halves} of {with} candidates have one)"
            ),
        )
    } else {
        return;
    };
    if let Some(i) = candidates.iter().position(odd) {
        let (file, line) = first_lines[i];
        problems.push(&paths[file], line, "day", "", &expected);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::problems::MAX_PROBLEMS;

    /// A history of `n` candidates with four subjects each; every seventh candidate's
    /// last row is moved to the end of the file (rows of one candidate apart).
    fn history(n: usize) -> String {
        let mut rows = String::from(
            "session,candidate_id,center,track,average,subject,coefficient,grade,chosen\n",
        );
        let mut moved = String::new();
        for k in 0..n {
            for (j, subject) in ["FRANCAIS", "PHILOSOPHIE", "SES", "HGGSP"]
                .iter()
                .enumerate()
            {
                let line = format!(
                    "{},C{k:04},Centre {},GENERALE,{}.5,{subject},{},{}.0,{}\n",
                    2020 + k % 3,
                    k % 5,
                    8 + k % 2,
                    2 + j,
                    5 + (k + j) % 10,
                    u8::from(j == k % 4)
                );
                if j == 3 && k % 7 == 0 {
                    moved.push_str(&line);
                } else {
                    rows.push_str(&line);
                }
            }
        }
        rows + &moved
    }

    /// Reading in chunks (as large files are, on several threads) gives what reading in
    /// one piece gives: the same dataset, or the same problems, with rows of a candidate
    /// in different chunks and problems on both sides of chunk boundaries.
    #[test]
    fn chunked_reading_matches_one_piece() {
        let dir = tempfile::tempdir().unwrap();
        let mut good = history(300);
        // An absent mark far from its candidate's other rows: set aside in both readings.
        good.push_str("2020,C0003,Centre 3,GENERALE,9.5,NSI,4,abs,0\n");
        let mut bad = good.clone();
        // A mark out of range, a word for a mark, a duplicate subject far from its
        // candidate, a centre that disagrees: 40 problems or more in all, over the cap.
        bad = bad
            .replacen(",6.0,", ",21.0,", 25)
            .replacen(",7.0,", ",zero,", 20);
        bad.push_str("2020,C0003,Centre 3,GENERALE,9.5,SES,4,8.0,0\n");
        bad.push_str("2021,C0001,Centre 4,GENERALE,9.5,MATHS,4,8.0,0\n");
        for (name, text) in [("good.csv", &good), ("bad.csv", &bad)] {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            let paths = [path];
            let opts = ReadOptions::default();
            let whole = read_files_in_chunks(&paths, &opts, usize::MAX);
            let chunked = read_files_in_chunks(&paths, &opts, 500);
            assert!(chunk_bounds(text.as_bytes(), &csv::Position::new(), 500).len() > 10);
            match (whole, chunked) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(name, "good.csv");
                    assert_eq!(a.candidates, b.candidates);
                    assert_eq!(a.centers, b.centers);
                    assert_eq!(a.subjects, b.subjects);
                    assert_eq!(a.candidates.len() + a.set_aside, 300);
                    assert_eq!(a.without_mark, vec![("ABS", 1)]);
                    assert_eq!(b.without_mark, a.without_mark);
                }
                (Err(a), Err(b)) => {
                    assert_eq!(name, "bad.csv");
                    assert_eq!(a.problems, b.problems);
                    assert_eq!(a.more, b.more);
                    assert_eq!(a.problems.len(), MAX_PROBLEMS);
                    assert!(a.more > 10, "{} more", a.more);
                }
                (a, b) => panic!("{name}: {a:?} / {b:?}"),
            }
        }
    }

    /// The problems listed were the first found, not the first by line: one found after
    /// all rows were grouped (three orals) went unlisted behind 30 found while grouping.
    #[test]
    fn regression_listed_problems_are_the_first_by_line_whatever_the_check() {
        let mut text = String::from(
            "session,candidate_id,center,track,average,subject,coefficient,grade,chosen\n",
        );
        for subject in ["FRANCAIS", "SES", "HGGSP"] {
            text.push_str(&format!("2024,A,C,GENERALE,9.5,{subject},4,8.0,1\n"));
        }
        for k in 0..35 {
            for subject in ["FRANCAIS", "SES", "SES"] {
                text.push_str(&format!("2024,B{k},C,GENERALE,9.5,{subject},4,8.0,0\n"));
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.csv");
        std::fs::write(&path, text).unwrap();
        let err = read_files(&[path], &ReadOptions::default()).unwrap_err();
        assert_eq!(err.problems.len() + err.more, 36);
        assert_eq!(
            (err.problems[0].line, err.problems[0].column.as_str()),
            (2, "chosen")
        );
        assert_eq!(err.problems[1].line, 7);
    }

    /// A candidate's rows in two files make one candidate, checked against its first
    /// row in the first file, which a message then names.
    #[test]
    fn a_candidates_rows_in_two_files_are_merged_and_checked_against_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let head = "session,candidate_id,center,track,average,subject,coefficient,grade,chosen\n";
        let a = dir.path().join("a.csv");
        let b = dir.path().join("b.csv");
        std::fs::write(
            &a,
            format!("{head}2024,A,C1,GENERALE,9.5,MATHS,16,8,1\n2024,B,C1,STMG,9,SES,4,7,0\n"),
        )
        .unwrap();
        std::fs::write(&b, format!("{head}2024,A,C1,GENERALE,9.5,SES,16,9,0\n")).unwrap();
        let paths = [a.clone(), b.clone()];
        let data = read_files(&paths, &ReadOptions::default()).unwrap();
        let subjects = |c: &Candidate| -> Vec<&str> {
            c.subjects.iter().map(|s| data.subject_name(s)).collect()
        };
        assert_eq!(data.candidates.len(), 2);
        assert_eq!(subjects(&data.candidates[0]), ["MATHS", "SES"]);

        std::fs::write(&b, format!("{head}2024,A,C2,GENERALE,9.5,SES,16,9,0\n")).unwrap();
        let err = read_files(&paths, &ReadOptions::default()).unwrap_err();
        assert_eq!(err.problems.len(), 1);
        let p = &err.problems[0];
        assert_eq!(
            (p.file.as_path(), p.line, p.value.as_str()),
            (b.as_path(), 2, "C2")
        );
        let first = format!("line 2 of {}: 'C1'", a.display());
        assert!(p.expected.contains(&first), "{}", p.expected);
    }
}
