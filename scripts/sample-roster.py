#!/usr/bin/env python3
"""Writes the bundled sample's examiner roster (data/sample/roster.csv) from a plan.

Usage: scripts/sample-roster.py out/convocations.csv > data/sample/roster.csv

For each (centre, subject), as many local examiners as the busiest half-day needs (firm
plus reserve), one fewer in every seventh (centre, subject) so that shortages show; two
pool examiners (no centre) per subject; every fifth local examiner unavailable on the
afternoon of the first day. Synthetic names; deterministic (no randomness).
"""
import csv
import sys
from collections import defaultdict

need = defaultdict(int)
days = set()
with open(sys.argv[1], newline="", encoding="utf-8-sig") as f:
    for r in csv.DictReader(f):
        key = (r["center"], r["subject"])
        need[key] = max(need[key], int(r["examiners"]) + int(r["reserve"]))
        if r["day"]:
            days.add(r["day"])
first_day = min(days) if days else ""

w = csv.writer(sys.stdout, lineterminator="\n")
w.writerow(["examiner_id", "name", "subject", "center", "priority", "unavailable"])
n = 0
for k, (center, subject) in enumerate(sorted(need)):
    count = need[(center, subject)] - (1 if k % 7 == 6 else 0)
    for j in range(max(count, 0)):
        n += 1
        away = f"{first_day} pm" if first_day and n % 5 == 0 else ""
        w.writerow([f"EX{n:04d}", f"Examinateur {n:04d}", subject, center, j + 1, away])
for subject in sorted({s for _, s in need}):
    for j in range(2):
        n += 1
        w.writerow([f"EX{n:04d}", f"Examinateur {n:04d}", subject, "", "", ""])
