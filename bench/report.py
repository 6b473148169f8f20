#!/usr/bin/env python3
"""Summarise bench/run.sh's timings: print a table and write one section of bench/RESULTS.md.

Called by run.sh once per data shape and size (and once for the certification migration),
Python 3.11 standard library only. The machine description and tool versions come from BENCH_*
environment variables that run.sh sets. RESULTS.md holds one section per key, between
`<!-- size:KEY -->` and `<!-- /size:KEY -->` (KEY: `accounts-200000`, `billing-1000000`,
`cert-50000`, with `-sqlite` / `-pg` for a run limited by --only; the mixed shape of issues 5-15
keeps its bare size). Writing a key replaces its section and keeps the others and the
hand-written text outside them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import statistics
from pathlib import Path

FERRY_LIVE = "Ferry CSV → SQLite, live"
FERRY_TEST = "Ferry CSV → SQLite, --test-only"
FERRY_XML = "Ferry XML → SQLite, live"
FERRY_XLSX = "Ferry XLSX → SQLite, live"
ROLLBACK = "ferry rollback of the CSV live run → SQLite"
SQLITE = "sqlite3 .import"
FERRY_PG_LIVE = "Ferry CSV → PostgreSQL, live"
FERRY_PG_TEST = "Ferry CSV → PostgreSQL, --test-only"
ROLLBACK_PG = "ferry rollback of the CSV live run → PostgreSQL"
COPY = "psql \\copy"
PGLOADER = "pgloader"
CERT = "ferry certification migrate → SQLite"
CERT_PG = "ferry certification migrate → PostgreSQL"
ORDER = [FERRY_LIVE, FERRY_TEST, FERRY_XML, FERRY_XLSX, ROLLBACK, SQLITE,
         FERRY_PG_LIVE, FERRY_PG_TEST, ROLLBACK_PG, COPY, PGLOADER, CERT, CERT_PG]
GIB = 1024 * 1024  # KiB
# issue 16's goal for Ferry CSV live → SQLite against sqlite3 .import, per shape
SQLITE_GOAL = {"accounts": 1.5, "billing": 2.0, "mixed": 1.5}
SHAPE_ORDER = {"mixed": 0, "accounts": 1, "billing": 2, "cert": 3}

HEADER = """# Ferry benchmark results

Written by `bash bench/run.sh` (see `bench/README.md` for what is measured and how). Each
section is one data shape and size (or the certification migration), labelled with it; a run
replaces its own sections and keeps the others. The measurements of a section run round-robin
(run 1 of each, then run 2 of each …). Times are medians of the runs listed (wall clock, one
fresh target per run); rows/s is the records of the data set divided by the median; CPU is user +
system time of the timed process (`/usr/bin/time`), and for PostgreSQL also the server's (every
`postgres` process, sampled from /proc around the run: it includes whatever else the server did
meanwhile); peak RSS is the maximum resident set of the timed process (the client, for
PostgreSQL). The machine is shared and noisy: compare ratios from one run, not absolute times
across runs.
"""

# Earlier versions of HEADER, replaced when a section is written.
OLD_HEADERS = [
    """# Ferry benchmark results

Written by `bash bench/run.sh` (see `bench/README.md` for what is measured and how). Each
section is one data-set size, labelled with it; a run replaces its own size's section and keeps
the others. Times are medians of the runs listed (wall clock, one fresh target per run); rows/s
is the records of the data set divided by the median; peak RSS is the maximum resident set of
the timed process (`/usr/bin/time -f %M`), and CPU/wall its CPU time over its wall time: for
Ferry → PostgreSQL, psql and pgloader that is the client, not the PostgreSQL server. The machine
is shared and noisy: compare ratios from one run, not absolute times across runs.
""",
    """# Ferry benchmark results

Written by `bash bench/run.sh` (see `bench/README.md` for what is measured and how). Each
section is one data-set size, labelled with it; a run replaces its own size's section and keeps
the others. Times are medians of the runs listed (wall clock, one fresh target per run); rows/s
is the records of the data set divided by the median; peak RSS is the maximum resident set of
the timed process (`/usr/bin/time -f %M`: for psql and pgloader that is the client, not the
PostgreSQL server). The machine is shared and noisy: compare ratios from one run, not absolute
times across runs.
""",
]


def fmt_s(x: float) -> str:
    return f"{x:.2f}" if x < 100 else f"{x:.0f}"


def mib(kb: float) -> str:
    return f"{kb / 1024:.0f} MiB"


def read_times(path: Path) -> dict[str, list[dict]]:
    runs: dict[str, list[dict]] = {}
    for line in path.read_text().splitlines():
        name, run, e, kb, u, s, rc, server, records = line.split("\t")
        runs.setdefault(name, []).append(
            {"run": int(run), "s": float(e), "kb": int(kb), "cpu": float(u) + float(s),
             "server": None if server == "-" else float(server), "rc": int(rc),
             "records": int(records)})
    return runs


def summarise(runs: dict[str, list[dict]]) -> list[dict]:
    """One row per measurement: medians of wall, CPU (client, and client + server), RSS."""
    table = []
    for name in ORDER + sorted(set(runs) - set(ORDER)):
        r = runs.get(name)
        if not r:
            continue
        med = statistics.median(x["s"] for x in r)
        cpu = statistics.median(x["cpu"] for x in r)
        servers = [x["server"] for x in r if x["server"] is not None]
        server = statistics.median(servers) if servers else None
        records = r[0]["records"]
        total = cpu + (server or 0)
        table.append({
            "name": name, "median": med, "runs": " ".join(fmt_s(x["s"]) for x in r),
            "rate": records / med if med else 0, "records": records,
            "rss": statistics.median(x["kb"] for x in r), "rss_max": max(x["kb"] for x in r),
            "cpu": cpu, "server": server, "total_cpu": total,
            "cpu_per_k": cpu / records * 1000 if records else 0,
            "total_per_k": total / records * 1000 if records else 0,
            "exit": ",".join(map(str, sorted({x["rc"] for x in r})))})
    return table


def ratios_of(table: list[dict], shape: str, accounts: int, ledger_rows: int) -> list[tuple]:
    """(ratio, wall, by CPU, goal) rows: issue 16's goals, met or not, and a few for scale."""
    by = {t["name"]: t for t in table}

    def r(a: str, b: str, key: str) -> float | None:
        ta, tb = by.get(a), by.get(b)
        return ta[key] / tb[key] if ta and tb and tb[key] else None

    def rstr(x: float | None) -> str:
        return f"{x:.2f}×" if x is not None else "not measured"

    def verdict(x: float | None, goal: float | None, at_least: bool = False) -> str:
        if x is None or goal is None:
            return ""
        return " — met" if (x >= goal if at_least else x <= goal) else " — **not met**"

    rows = []

    def add(name: str, a: str, b: str, goal: float | None, goal_text: str, at_least=False):
        wall = r(a, b, "median")
        cpu = r(a, b, "total_cpu")
        if wall is None:
            return
        rows.append((name, rstr(wall) + verdict(wall, goal, at_least), rstr(cpu), goal_text))

    if shape == "cert":
        add("migrate → PostgreSQL / → SQLite", CERT_PG, CERT, None, "—")
        return rows
    g = SQLITE_GOAL[shape]
    add("Ferry CSV live / sqlite3 .import", FERRY_LIVE, SQLITE, g, f"≤ {g}×")
    add("Ferry XML live / Ferry CSV live", FERRY_XML, FERRY_LIVE, 1.3, "≤ 1.3×")
    add("Ferry XLSX live / Ferry CSV live", FERRY_XLSX, FERRY_LIVE, 1.3, "≤ 1.3×")
    add("Ferry test-only / live (CSV → SQLite)", FERRY_TEST, FERRY_LIVE, 1.1, "≤ 1.1×")
    add("Ferry → PostgreSQL live / psql \\copy", FERRY_PG_LIVE, COPY, 2.0, "≤ 2.0×")
    add("pgloader / Ferry → PostgreSQL live (above 1: Ferry faster)", PGLOADER, FERRY_PG_LIVE, 10,
        "≥ 10×", at_least=True)
    add("Ferry PG test-only / live", FERRY_PG_TEST, FERRY_PG_LIVE, 1.1, "≤ 1.1×")
    add("Ferry XML live / sqlite3 .import", FERRY_XML, SQLITE, None, "—")
    add("Ferry XLSX live / sqlite3 .import", FERRY_XLSX, SQLITE, None, "—")
    add("rollback / import (SQLite, CSV live)", ROLLBACK, FERRY_LIVE, None, "—")
    add("rollback / import (PostgreSQL, CSV live)", ROLLBACK_PG, FERRY_PG_LIVE, None, "—")
    add("pgloader / psql \\copy", PGLOADER, COPY, None, "—")
    ferry = [t for t in table if t["name"].startswith("Ferry") or t["name"].startswith("ferry")]
    if ferry:
        peak = max(t["rss_max"] for t in ferry)
        # issue 16: ≤ 1 GiB at 1,000,000 accounts + 5,000,000 ledger rows; judged only at that
        # scale (a smaller set says nothing about it)
        full = accounts >= 1_000_000 and (shape == "accounts" or ledger_rows >= 5_000_000)
        worst = max(ferry, key=lambda t: t["rss_max"])["name"]
        rows.append(("Ferry peak RSS (max over runs and measurements)",
                     f"{mib(peak)} ({worst})" + (verdict(peak, GIB) if full else ""), "—",
                     "≤ 1 GiB at 1,000,000 accounts (+ 5,000,000 ledger rows)"))
    return rows


def label_of(m: dict, kind: str, key: str, small: bool, only: str) -> str:
    limited = {"sqlite": ", SQLite only", "pg": ", PostgreSQL only"}.get(only, "")
    if kind == "cert":
        cmd = "--small" if small else f"--enrollments {m['enrollments']}"
        if only != "all":
            cmd += f" --only {only}"
        return f"ferry certification migrate, {m['enrollments']:,} enrollments{limited} (`bash bench/run.sh {cmd}`)"
    shape = m.get("shape", "mixed")
    cmd = "--small" if small else f"--sizes {m['accounts']}"
    if shape != "mixed":
        cmd += f" --shapes {shape}"
    if only != "all":
        cmd += f" --only {only}"
    return f"{shape} shape, {m['accounts']:,} accounts{limited} (`bash bench/run.sh {cmd}`)"


def data_line(m: dict, kind: str, env) -> str:
    if kind == "cert":
        counts = ", ".join(f"{n:,} `{t}`" for t, n in m.get("counts", {}).items())
        return (f"**Data** (`bench/generate_cert.py --enrollments {m['enrollments']} --seed "
                f"{m.get('seed', '?')}`): {counts}. Sizes: {env('BENCH_DISK', '?')}. The students "
                "are imported first (not timed); the migration runs with --add-missing-components.")
    c = m["counts"]
    shape = m.get("shape", "mixed")
    ledger = ""
    if m["ledger_rows"]:
        ledger = (f", {m['ledger_rows']:,} ledger rows ({c['Debit']:,} `Debit`, {c['Credit']:,} "
                  f"`Credit`, {c['CloseInvoice']:,} `CloseInvoice`, {c['Payment']:,} `Payment`)")
    return (f"**Data** (`bench/generate.py --shape {shape} --accounts {m['accounts']} --seed "
            f"{m['seed']}`, generated in {m['seconds']} s): {m['records']:,} records — "
            f"{c['User']:,} `User`, {c['Contact']:,} `Contact`, {c['ContactEmail']:,} "
            f"`ContactEmail`, {c['ContactPhone']:,} `ContactPhone`{ledger} and "
            f"{sum(m['setup_counts'].values())} setup records; XLSX in "
            f"{len(m['xlsx_parts'])} workbook(s). Sizes: {env('BENCH_DISK', '?')}. "
            f"The raw loaders load the {m['raw_rows']:,} rows without the setup records.")


def sort_key(key: str) -> tuple:
    """Sections in order: the mixed shape's (bare sizes), then accounts, billing, cert."""
    if key.isdigit():
        return (0, int(key), "")
    shape, _, rest = key.partition("-")
    num, _, only = rest.partition("-")
    return (SHAPE_ORDER.get(shape, 9), int(num) if num.isdigit() else 0, only)


def write_section(results: Path, key: str, section: str) -> None:
    text = results.read_text(encoding="utf-8") if results.exists() else ""
    pattern = r"(?s)<!-- size:([\w.-]+) -->(.*?<!-- /size:\1 -->)"
    sections = {k: f"<!-- size:{k} -->{v}" for k, v in re.findall(pattern, text)}
    # text outside the sections after the header (hand-written analysis) is kept
    rest = re.sub(r"(?s)<!-- size:([\w.-]+) -->.*?<!-- /size:\1 -->\n*", "", text)
    for h in [HEADER, *OLD_HEADERS]:
        rest = rest.replace(h, "")
    rest = rest.strip()
    sections[key] = section
    body = [HEADER.rstrip()]
    if rest:
        body.append(rest)
    body += [sections[k] for k in sorted(sections, key=sort_key)]
    results.write_text("\n\n".join(body) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--times", type=Path, required=True)
    ap.add_argument("--notes", type=Path, required=True)
    ap.add_argument("--manifest", type=Path, required=True)
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("--small", type=int, default=0)
    ap.add_argument("--only", default="all")
    ap.add_argument("--key", required=True)
    ap.add_argument("--kind", choices=["shape", "cert"], default="shape")
    ap.add_argument("--results", type=Path, required=True)
    args = ap.parse_args()

    m = json.loads(args.manifest.read_text())
    table = summarise(read_times(args.times))
    notes = [n for n in args.notes.read_text().splitlines() if n.strip()]
    shape = "cert" if args.kind == "cert" else m.get("shape", "mixed")
    ratios = ratios_of(table, shape, m.get("accounts", 0), m.get("ledger_rows", 0))
    label = label_of(m, args.kind, args.key, bool(args.small), args.only)
    env = os.environ.get

    head = ["measurement", "median s", "records/s", "CPU s", "+ PG server CPU s",
            "CPU s / 1k records", "peak RSS", "runs (s)"]

    def cells(t: dict) -> list[str]:
        server = "" if t["server"] is None else f"{t['server']:.2f}"
        per_k = f"{t['cpu_per_k']:.4f}"
        if t["server"] is not None:
            per_k += f" (+ server {t['total_per_k']:.4f})"
        return [t["name"], fmt_s(t["median"]), f"{t['rate']:,.0f}", f"{t['cpu']:.2f}", server,
                per_k, mib(t["rss"]), t["runs"] + (f" (exit {t['exit']})" if t["exit"] != "0" else "")]

    ok_text = ("Ferry: every run succeeded with no finding (0 errors, 0 warnings, 0 notes) and "
               "read and imported every record; every raw loader loaded every row."
               if args.kind == "shape" else "Every run succeeded and read every record.")

    # ---- stdout: a plain table ----
    print()
    print(f"Ferry benchmark, {label}: medians of {args.runs} run(s)")
    rows = [head] + [cells(t) for t in table]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    print()
    for name, wall, cpu, goal in ratios:
        by_cpu = f" (by CPU {cpu})" if cpu != "—" else ""
        print(f"{name}: {wall.replace('**', '')}{by_cpu}" + (f", goal {goal}" if goal != "—" else ""))
    print()
    if notes:
        print("Notes:")
        for n in notes:
            print(f"  {n}")
    else:
        print(ok_text)

    # ---- RESULTS.md section ----
    out = [f"<!-- size:{args.key} -->", f"## {label}", ""]
    out.append(f"Run {dt.datetime.now().strftime('%Y-%m-%d %H:%M')}; {env('BENCH_FERRY_VERSION', '?')}; "
               f"{args.runs} run(s) of each measurement, round-robin.")
    out.append("")
    out.append(data_line(m, args.kind, env))
    out.append("")
    out.append("**Machine**: " + f"{env('BENCH_NPROC', '?')} cores (`nproc`), {env('BENCH_CPU', '?')}, "
               f"{env('BENCH_KERNEL', '?')}; {env('BENCH_SQLITE_VERSION', '?')}; "
               f"{env('BENCH_PSQL_VERSION', '?')}, server {env('BENCH_PG_SERVER', '?')}; "
               f"{env('BENCH_PGLOADER_VERSION', '?')}; {env('BENCH_PYTHON_VERSION', '?')}.")
    out.append("")
    out.append(f"**Load**: {env('BENCH_LOAD', '?')} (other work on the machine adds noise).")
    out.append("")
    out.append("```")
    out.append("$ free -h")
    out.append(env("BENCH_FREE", "?"))
    out.append("```")
    out.append("")
    out.append("| " + " | ".join(head) + " |")
    out.append("|---|" + "---:|" * (len(head) - 2) + "---|")
    for t in table:
        out.append("| " + " | ".join(cells(t)) + " |")
    out.append("")
    if ratios:
        out.append("| ratio | wall (medians) | by CPU (client + PG server) | goal (issue 16) |")
        out.append("|---|---|---|---|")
        for name, wall, cpu, goal in ratios:
            out.append(f"| {name} | {wall} | {cpu} | {goal} |")
        out.append("")
    if notes:
        out.append("**Notes and problems seen in this run:**")
        out.append("")
        out += [f"- {n}" for n in notes]
    else:
        out.append(ok_text)
    out.append(f"<!-- /size:{args.key} -->")
    write_section(args.results, args.key, "\n".join(out))
    print(f"\nwrote {args.results} (section {args.key})")


if __name__ == "__main__":
    main()
