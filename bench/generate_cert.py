#!/usr/bin/env python3
"""Generate a legacy certification data set for `ferry certification migrate` (Python 3,
standard library only), shaped like examples/certification but with N enrollments.

  usage: python3 bench/generate_cert.py --out DIR [--enrollments N] [--seed S]

Writes, in one streaming pass (memory stays flat whatever N is; only the few programs and
components are kept):

  DIR/students/User.csv                   the students (accounts `S0000001` …), owner `admin`,
                                          role `Customer`: importable into a fresh target
  DIR/legacy_csv/LegacyProgram.csv        programs, with the legacy fields that have no
                                          equivalent (Established, IndustryCode, UF_1..4, …)
  DIR/legacy_csv/LegacyComponent.csv      components (Address, Prerequisites, Instructors)
  DIR/legacy_csv/LegacyProgramComponent.csv  4 to 8 components per program, most required
  DIR/legacy_csv/LegacyRegistration.csv   exactly N enrollments (rows with a ComponentCode),
                                          and the program registrations (rows without one)
                                          of most students' programs: the others are made by
                                          the migration from the enrollment
  DIR/manifest.json                       the parameters and the count of every record type

Dates are M/D/YYYY (the default `MDY` order). About 1 enrollment in 500 is for a component its
program does not contain: seed 002's warning (migrated only with --add-missing-components).
The same --enrollments and --seed always give byte-identical files.

Use (the target needs the students first):

  python3 bench/generate_cert.py --out bench/data/c50000-s1 --enrollments 50000 --seed 1
  ferry import bench/data/c50000-s1/students --db t.db
  ferry certification migrate bench/data/c50000-s1/legacy_csv --db t.db
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
from pathlib import Path

GENERATOR_VERSION = 1
STATUSES = ["Registered", "InProgress", "Complete", "Withdrawn"]
GRADES = ["A", "A-", "B+", "B", "B-", "C+", "C", "Pass"]
WORDS = ["Safety", "Navigation", "First Aid", "Rigging", "Weather", "Engines", "Radio",
         "Racing", "Rescue", "Knots", "Tides", "Anchoring", "Docking", "Night Sailing"]
INSTRUCTORS = ["Sam Ortega", "Ana Lima", "Leila Takahashi", "Red Cross volunteers",
               "Tom Becker", "Priya Nair"]


def mdy(d: dt.date) -> str:
    return f"{d.month}/{d.day}/{d.year}"


def programs_and_components(rnd: random.Random, n: int):
    """The programs (code, row), the components (code, row) and each program's components."""
    n_programs = max(3, min(200, n // 1000))
    n_components = max(6, min(400, n // 400))
    components = []
    for i in range(1, n_components + 1):
        code = f"C{i:03d}"
        title = f"{rnd.choice(WORDS)} {i}"
        addr = rnd.choice(["", "Clubhouse, 1 Harbour Road", "Harbour basin", "Classroom 2"])
        pre = f"C{rnd.randint(1, i - 1):03d}" if i > 1 and rnd.random() < 0.3 else ""
        inst = "; ".join(rnd.sample(INSTRUCTORS, rnd.randint(0, 2)))
        components.append((code, [code, title, addr, pre, inst]))
    programs, contains = [], {}
    for i in range(1, n_programs + 1):
        code = f"P{i:03d}"
        est = mdy(dt.date(1990, 1, 1) + dt.timedelta(days=rnd.randrange(12000))) if rnd.random() < 0.7 else ""
        row = [code, f"Program {i} - {rnd.choice(['Initial', 'Renewal', 'Advanced'])}", est,
               rnd.choice(["MAR", "SPT", ""]), rnd.choice(["Level 1", "Level 2", ""]), "",
               rnd.choice(["Harbour", ""]), "", rnd.choice(["Leila Takahashi", ""]),
               rnd.choice(["Run every spring", "", ""]), rnd.choice(["Swim test", ""]), str(i)]
        programs.append((code, row))
        k = rnd.randint(4, min(8, n_components))
        contains[code] = sorted(rnd.sample([c for c, _ in components], k))
    return programs, components, contains


def write_csv(path: Path, header, rows) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow(r)
            n += 1
    return n


def registrations(rnd, n, programs, contains, all_components, counts):
    """Yields LegacyRegistration rows until n enrollments were written; counts students."""
    seqn, enrolled, student = 100000, 0, 0
    while enrolled < n:
        student += 1
        user = f"S{student:07d}"
        for program in rnd.sample([p for p, _ in programs], rnd.choice([1, 1, 1, 2])):
            reg = dt.date(2005, 1, 1) + dt.timedelta(days=rnd.randrange(7000))
            status = rnd.choice(STATUSES)
            done = mdy(reg + dt.timedelta(days=rnd.randint(30, 400))) if status == "Complete" else ""
            if rnd.random() < 0.85:
                seqn += 1
                counts["program_registrations"] += 1
                yield [seqn, user, program, "", status, "", mdy(reg), done]
            comps = contains[program]
            for comp in rnd.sample(comps, rnd.randint(1, len(comps))):
                if enrolled >= n:
                    break
                if rnd.random() < 0.002:
                    # seed 002's warning: a component the program does not contain
                    outside = [c for c in all_components if c not in comps]
                    comp = rnd.choice(outside)
                    counts["not_in_program"] += 1
                st = rnd.choice(STATUSES)
                grade = rnd.choice(GRADES) if st == "Complete" else ""
                end = mdy(reg + dt.timedelta(days=rnd.randint(10, 300))) if st == "Complete" else ""
                seqn += 1
                enrolled += 1
                yield [seqn, user, program, comp, st, grade, mdy(reg), end]
    counts["students"] = student


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--enrollments", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    programs, components, contains = programs_and_components(rnd, a.enrollments)
    legacy = a.out / "legacy_csv"
    counts = {"program_registrations": 0, "not_in_program": 0, "students": 0}
    write_csv(legacy / "LegacyProgram.csv",
              ["ProgramCode", "Title", "Established", "IndustryCode", "UF_1", "UF_2", "UF_3",
               "UF_4", "Coordinators", "Notes", "Prerequisites", "Seqn"],
              (r for _, r in programs))
    write_csv(legacy / "LegacyComponent.csv",
              ["ComponentCode", "Title", "Address", "Prerequisites", "Instructors"],
              (r for _, r in components))
    pairs = [[p, c, "true" if rnd.random() < 0.8 else "false"]
             for p, _ in programs for c in contains[p]]
    write_csv(legacy / "LegacyProgramComponent.csv", ["ProgramCode", "ComponentCode", "Required"],
              pairs)
    all_components = [c for c, _ in components]
    rows = write_csv(legacy / "LegacyRegistration.csv",
                     ["Seqn", "StudentId", "ProgramCode", "ComponentCode", "Status", "Grade",
                      "RegisteredDate", "CompletedDate"],
                     registrations(rnd, a.enrollments, programs, contains, all_components, counts))
    write_csv(a.out / "students" / "User.csv",
              ["Name", "Owner", "Role", "Culture", "Currency", "Language", "Email"],
              ([f"S{i:07d}", "admin", "Customer", "English", "USD", "English",
                f"student{i}@example.org" if i % 4 else ""]
               for i in range(1, counts["students"] + 1)))
    manifest = {
        "generator": "bench/generate_cert.py", "version": GENERATOR_VERSION,
        "enrollments": a.enrollments, "seed": a.seed,
        "counts": {"User": counts["students"], "LegacyProgram": len(programs),
                   "LegacyComponent": len(components), "LegacyProgramComponent": len(pairs),
                   "LegacyRegistration": rows,
                   "program_registrations": counts["program_registrations"],
                   "enrollments": a.enrollments,
                   "enrollments_not_in_program": counts["not_in_program"]},
    }
    (a.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps(manifest["counts"]))


if __name__ == "__main__":
    main()
