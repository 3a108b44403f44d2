#!/usr/bin/env python3
"""Writes tests/fixtures/candidates.ods: the first 300 candidates of data/sample as an
OpenDocument spreadsheet (a title row above the header, numbers as float cells), for the
test that reads .ods. Needs odfpy (pip install odfpy); the fixture is checked in so the
tests do not need it.

Usage: scripts/sample-ods.py
"""
import csv
from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import Table, TableRow, TableCell
from odf.text import P

rows = list(csv.reader(open("data/sample/candidates.csv", newline="", encoding="utf-8")))
header, body = rows[0], rows[1:]
ids = []
kept = []
for r in body:
    if r[1] not in ids:
        if len(ids) == 300:
            break
        ids.append(r[1])
    kept.append(r)
numeric = {"session", "average", "coefficient", "grade"}
doc = OpenDocumentSpreadsheet()
table = Table(name="Candidats")

def row(values, types):
    tr = TableRow()
    for v, t in zip(values, types):
        if t and v != "":
            cell = TableCell(valuetype="float", value=v)
        else:
            cell = TableCell(valuetype="string")
        cell.addElement(P(text=v))
        tr.addElement(cell)
    table.addElement(tr)

row(["Export de test - session 2026"], [False])
row(header, [False] * len(header))
for r in kept:
    row(r, [h in numeric for h in header])
doc.spreadsheet.addElement(table)
doc.save("tests/fixtures/candidates.ods")
