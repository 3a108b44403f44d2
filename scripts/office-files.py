#!/usr/bin/env python3
"""Turn a simulated académie (`bacpredict simulate --out SIM`) into files shaped like a
rectorat's exports, to try `train`, `forecast` and `backtest` as a new office would.

    scripts/office-files.py SIM OUT [--seed N]

What changes, each a thing real exports do (issue 19):
- centres become UAI codes (0540022F...), candidate numbers 2025-054-000285;
- the spécialité SES is labelled SES until 2023 and SCIENCES ECONOMIQUES ET SOCIALES from
  2024 (`OUT/subjects.csv` holds the line that merges them);
- about 0.15% of rows lose their mark (empty, ABS, DISP), with `chosen` 0;
- one centre closes after the first sessions: its candidates are moved to another;
- the last session keeps about 12% more candidates than the earlier ones (which are
  thinned), as a growing académie would;
- the file is written with a title block, French column names, ';', decimal commas,
  Windows-1252 and CRLF.

Writes OUT/history.csv (every session, with choices: for `backtest`), OUT/past.csv
(every session but the last), OUT/candidates.csv (the last session, choices empty),
OUT/choices.csv (its choices, `candidate_id,subject`) and OUT/subjects.csv.
"""
import csv
import random
import sys

FRENCH = ["Session", "N° candidat", "Centre d'examen", "Série", "Moyenne", "Matière",
          "Coef", "Note", "Choix", "Date", "Demi-journée"]


def main():
    sim, out = sys.argv[1], sys.argv[2]
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 1
    rnd = random.Random(seed)
    rows = list(csv.reader(open(f"{sim}/history.csv", newline="", encoding="utf-8")))
    header, rows = rows[0], rows[1:]
    last_rows = list(csv.reader(open(f"{sim}/candidates.csv", newline="", encoding="utf-8")))[1:]
    truth = {}
    for r in csv.reader(open(f"{sim}/choices.csv", newline="", encoding="utf-8")):
        truth.setdefault(r[0], set()).add(r[1])
    # The forecast session's rows with their real choices, as one more history session.
    for r in last_rows:
        r[8] = "1" if r[5] in truth.get(r[1], ()) else "0"
    rows += last_rows
    sessions = sorted({int(r[0]) for r in rows})
    last = sessions[-1]
    centers = sorted({r[2] for r in rows})
    uai = {c: f"0{54 + i % 4}{i:04d}{'ABCDEFGHJK'[i % 10]}" for i, c in enumerate(centers)}
    closed, host = centers[0], centers[1]
    # Earlier sessions thinned to about 1 / 1.12 of their candidates.
    ids = sorted({(r[0], r[1]) for r in rows if int(r[0]) != last})
    dropped = {k for k in ids if rnd.random() < 0.107}
    numbers, per_session = {}, {}
    out_rows = []
    for r in rows:
        s = int(r[0])
        if (r[0], r[1]) in dropped:
            continue
        r = list(r)
        key = (r[0], r[1])
        if key not in numbers:
            per_session[s] = per_session.get(s, 0) + 1
            numbers[key] = f"{s}-054-{per_session[s]:06d}"
        r[1] = numbers[key]
        if r[2] == closed and s >= sessions[2]:
            r[2] = host
        r[2] = uai[r[2]]
        if r[5] == "SES" and s >= 2024:
            r[5] = "SCIENCES ECONOMIQUES ET SOCIALES"
        if r[8] == "0" and rnd.random() < 0.0015:
            r[7] = rnd.choice(["", "ABS", "DISP", "abs"])
        out_rows.append(r)
    write(f"{out}/history.csv", header, out_rows, lambda r: True)
    write(f"{out}/past.csv", header, out_rows, lambda r: int(r[0]) != last)
    cands = [list(r) for r in out_rows if int(r[0]) == last]
    with open(f"{out}/choices.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["candidate_id", "subject"])
        for r in cands:
            if r[8] == "1":
                w.writerow([r[1], r[5]])
    for r in cands:
        r[8] = ""
    write(f"{out}/candidates.csv", header, cands, lambda r: True)
    with open(f"{out}/subjects.csv", "w", newline="", encoding="utf-8") as f:
        f.write("code,alias\nSCIENCES ECONOMIQUES ET SOCIALES,SES\n")


def write(path, header, rows, keep):
    """The rows as an export: title block, French names, ';', decimal commas, cp1252."""
    cols = FRENCH[: len(header)]
    lines = ["Rectorat - DEC - export des candidats du second groupe;;;",
             "Édité le 4 juillet;;;", ""]
    lines.append(";".join(cols))
    for r in rows:
        if not keep(r):
            continue
        f = list(r)
        f[4] = f[4].replace(".", ",")
        f[7] = f[7].replace(".", ",")
        lines.append(";".join(f))
    with open(path, "wb") as out:
        out.write(("\r\n".join(lines) + "\r\n").encode("cp1252"))


if __name__ == "__main__":
    main()
