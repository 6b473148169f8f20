#!/usr/bin/env python3
"""Summarise bench/run.sh's timings: print a table and write one section of bench/RESULTS.md.

Called by run.sh (Python 3.11 standard library only). The machine description and tool
versions come from BENCH_* environment variables that run.sh sets. RESULTS.md holds one section
per data-set size, between `<!-- size:N -->` and `<!-- /size:N -->`; writing a size replaces
its section and keeps the others.
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
FERRY_PG_LIVE = "Ferry CSV → PostgreSQL, live"
FERRY_PG_TEST = "Ferry CSV → PostgreSQL, --test-only"
SQLITE = "sqlite3 .import"
COPY = "psql \\copy"
PGLOADER = "pgloader"
ORDER = [FERRY_LIVE, FERRY_TEST, FERRY_XML, FERRY_XLSX, SQLITE,
         FERRY_PG_LIVE, FERRY_PG_TEST, COPY, PGLOADER]

HEADER = """# Ferry benchmark results

Written by `bash bench/run.sh` (see `bench/README.md` for what is measured and how). Each
section is one data-set size, labelled with it; a run replaces its own size's section and keeps
the others. Times are medians of the runs listed (wall clock, one fresh target per run); rows/s
is the records of the data set divided by the median; peak RSS is the maximum resident set of
the timed process (`/usr/bin/time -f %M`), and CPU/wall its CPU time over its wall time: for
Ferry → PostgreSQL, psql and pgloader that is the client, not the PostgreSQL server. The machine
is shared and noisy: compare ratios from one run, not absolute times across runs.
"""

# Earlier versions of HEADER, replaced when a section is written.
OLD_HEADERS = [
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


def fmt_rate(x: float) -> str:
    return f"{x:,.0f}"


def mib(kb: float) -> str:
    return f"{kb / 1024:.0f} MiB"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--times", type=Path, required=True)
    ap.add_argument("--notes", type=Path, required=True)
    ap.add_argument("--manifest", type=Path, required=True)
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("--small", type=int, default=0)
    ap.add_argument("--results", type=Path, required=True)
    args = ap.parse_args()

    m = json.loads(args.manifest.read_text())
    runs: dict[str, list[dict]] = {}
    for line in args.times.read_text().splitlines():
        name, run, e, kb, u, s, rc = line.split("\t")
        runs.setdefault(name, []).append(
            {"run": int(run), "s": float(e), "kb": int(kb), "cpu": float(u) + float(s), "rc": int(rc)})
    notes = [n for n in args.notes.read_text().splitlines() if n.strip()]

    def median(name: str) -> float | None:
        r = runs.get(name)
        return statistics.median(x["s"] for x in r) if r else None

    rows_ferry = m["records"]
    rows_raw = m["raw_rows"]
    table = []
    for name in ORDER:
        r = runs.get(name)
        if not r:
            continue
        med = statistics.median(x["s"] for x in r)
        rows = rows_ferry if name.startswith("Ferry") else rows_raw
        kb_med = statistics.median(x["kb"] for x in r)
        kb_max = max(x["kb"] for x in r)
        cpu = statistics.median(x["cpu"] / x["s"] if x["s"] else 0 for x in r)
        exits = sorted({x["rc"] for x in r})
        table.append({
            "name": name, "median": med, "runs": " ".join(fmt_s(x["s"]) for x in r),
            "rate": rows / med if med else 0, "rss": kb_med, "rss_max": kb_max, "cpu": cpu,
            "exit": ",".join(map(str, exits)), "rows": rows})

    def ratio(a: str, b: str) -> float | None:
        ma, mb = median(a), median(b)
        return ma / mb if ma and mb else None

    def rstr(x: float | None, suffix: str = "×") -> str:
        return f"{x:.2f}{suffix}" if x is not None else "not measured"

    def at_least(x: float | None, want: float) -> str:
        return "" if x is None else (" — met" if x >= want else " — not met")

    def at_most(x: float | None, want: float) -> str:
        return "" if x is None else (" — met" if x <= want else " — not met")

    copy_pgl = ratio(COPY, PGLOADER)
    pgl_ferry = ratio(PGLOADER, FERRY_PG_LIVE)
    ferry_rss = max((t["rss_max"] for t in table if t["name"].startswith("Ferry")), default=0)
    rss_by = ", ".join(f"{t['name'].removeprefix('Ferry ')} {mib(t['rss_max'])}"
                       for t in table if t["name"].startswith("Ferry"))
    r_live = ratio(FERRY_LIVE, SQLITE)
    r_test = ratio(FERRY_TEST, FERRY_LIVE)
    r_pg = ratio(FERRY_PG_LIVE, COPY)
    r_pg_test = ratio(FERRY_PG_TEST, FERRY_PG_LIVE)
    full = m["accounts"] >= 1_000_000
    ratios = [
        ("Ferry CSV live / sqlite3 .import", rstr(r_live) + at_most(r_live, 1.5), "≤ 1.5×"),
        ("Ferry XML live / sqlite3 .import", rstr(ratio(FERRY_XML, SQLITE)), "—"),
        ("Ferry XLSX live / sqlite3 .import", rstr(ratio(FERRY_XLSX, SQLITE)), "—"),
        ("Ferry XML live / Ferry CSV live", rstr(ratio(FERRY_XML, FERRY_LIVE)), "—"),
        ("Ferry XLSX live / Ferry CSV live", rstr(ratio(FERRY_XLSX, FERRY_LIVE)), "—"),
        ("Ferry test-only / live (CSV → SQLite)", rstr(r_test) + at_most(r_test, 1.1), "≤ 1.1×"),
        ("Ferry → PostgreSQL live / psql \\copy", rstr(r_pg) + at_most(r_pg, 1.5), "≤ 1.5×"),
        ("pgloader / Ferry → PostgreSQL live", rstr(pgl_ferry)
         + (" (Ferry faster)" if pgl_ferry and pgl_ferry > 1 else "")
         + at_least(pgl_ferry, 10), "≥ 10×"),
        ("Ferry PG test-only / live", rstr(r_pg_test) + at_most(r_pg_test, 1.1), "≤ 1.1×"),
        ("psql \\copy / pgloader", rstr(copy_pgl)
         + (f" (pgloader {1 / copy_pgl:.1f}× slower than COPY)" if copy_pgl else ""), "—"),
        ("Ferry peak RSS (max over runs and containers)",
         (mib(ferry_rss) + (at_most(ferry_rss, 1024 * 1024) if full else "")
          + f" ({rss_by})") if ferry_rss else "—",
         "≤ 1 GiB at 1,000,000 accounts"),
    ]

    acc = m["accounts"]
    c = m["counts"]
    label = f"{acc:,} accounts" + (" (`bash bench/run.sh --small`)" if args.small
                                   else f" (`bash bench/run.sh --accounts {acc}`)"
                                   if acc != 1_000_000 else " (`bash bench/run.sh`)")

    # ---- stdout: a plain table ----
    w = max(len(t["name"]) for t in table) if table else 30
    print()
    print(f"Ferry benchmark, {label}: {m['records']:,} records "
          f"({m['ledger_rows']:,} ledger rows), medians of {args.runs} run(s)")
    print(f"{'measurement':<{w}}  {'median s':>9}  {'rows/s':>10}  {'peak RSS':>9}  {'CPU/wall':>8}  runs (s)")
    for t in table:
        print(f"{t['name']:<{w}}  {fmt_s(t['median']):>9}  {fmt_rate(t['rate']):>10}  "
              f"{mib(t['rss']):>9}  {t['cpu']:>8.2f}  {t['runs']}"
              + (f"  (exit {t['exit']})" if t["exit"] != "0" else ""))
    print()
    wr = max(len(r[0]) for r in ratios)
    for name, val, target in ratios:
        print(f"{name:<{wr}}  {val}" + (f"   target {target}" if target != "—" else ""))
    problems = notes
    print()
    if problems:
        print("Notes:")
        for n in problems:
            print(f"  {n}")
    else:
        print("Ferry: every run succeeded with no finding (0 errors, 0 warnings, 0 notes) and "
              "read and imported every record; every raw loader loaded every row.")

    # ---- RESULTS.md section ----
    env = os.environ.get
    out = [f"<!-- size:{acc} -->", f"## {label}", ""]
    out.append(f"Run {dt.datetime.now().strftime('%Y-%m-%d %H:%M')}; {env('BENCH_FERRY_VERSION', '?')}; "
               f"{args.runs} run(s) of each measurement.")
    out.append("")
    out.append(f"**Data** (`bench/generate.py --accounts {acc} --seed {m['seed']}`, generated in "
               f"{m['seconds']} s): {m['records']:,} records — {c['User']:,} `User`, "
               f"{c['Contact']:,} `Contact`, {c['ContactEmail']:,} `ContactEmail`, "
               f"{c['ContactPhone']:,} `ContactPhone`, {m['ledger_rows']:,} ledger rows "
               f"({c['Debit']:,} `Debit`, {c['Credit']:,} `Credit`, {c['CloseInvoice']:,} "
               f"`CloseInvoice`, {c['Payment']:,} `Payment`) and "
               f"{sum(m['setup_counts'].values())} setup records; XLSX in "
               f"{len(m['xlsx_parts'])} workbook(s). Sizes: {env('BENCH_DISK', '?')}. "
               f"The raw loaders load the {m['raw_rows']:,} rows without the setup records.")
    out.append("")
    out.append("**Machine**: " + f"{env('BENCH_NPROC', '?')} cores (`nproc`), {env('BENCH_CPU', '?')}, "
               f"{env('BENCH_KERNEL', '?')}; {env('BENCH_SQLITE_VERSION', '?')}; "
               f"{env('BENCH_PSQL_VERSION', '?')}, server {env('BENCH_PG_SERVER', '?')}; "
               f"{env('BENCH_PGLOADER_VERSION', '?')}; {env('BENCH_PYTHON_VERSION', '?')}; "
               f"{env('BENCH_LOAD', '?')} (other work on the machine adds noise).")
    out.append("")
    out.append("```")
    out.append("$ free -h")
    out.append(env("BENCH_FREE", "?"))
    out.append("```")
    out.append("")
    out.append("| measurement | median s | rows/s | peak RSS | CPU/wall | runs (s) |")
    out.append("|---|---:|---:|---:|---:|---|")
    for t in table:
        name = t["name"]
        out.append(f"| {name} | {fmt_s(t['median'])} | {fmt_rate(t['rate'])} | {mib(t['rss'])} | "
                   f"{t['cpu']:.2f} | {t['runs']}" + (f" (exit {t['exit']})" if t["exit"] != "0" else "")
                   + " |")
    out.append("")
    out.append("| ratio | this run | target (issue 5) |")
    out.append("|---|---|---|")
    for name, val, target in ratios:
        out.append(f"| {name} | {val} | {target} |")
    out.append("")
    if problems:
        out.append("**Problems seen in this run:**")
        out.append("")
        out += [f"- {n}" for n in problems]
    else:
        out.append("Ferry: every run succeeded with no finding (0 errors, 0 warnings, 0 notes) and "
                   "read and imported every record; every raw loader loaded every row.")
    out.append(f"<!-- /size:{acc} -->")
    section = "\n".join(out)

    text = args.results.read_text(encoding="utf-8") if args.results.exists() else ""
    sections = {int(k): f"<!-- size:{k} -->{v}" for k, v in
                re.findall(r"(?s)<!-- size:(\d+) -->(.*?<!-- /size:\1 -->)", text)}
    # text outside the sections after the header (hand-written analysis) is kept
    rest = re.sub(r"(?s)<!-- size:(\d+) -->.*?<!-- /size:\1 -->\n*", "", text)
    for h in [HEADER, *OLD_HEADERS]:
        rest = rest.replace(h, "")
    rest = rest.strip()
    sections[acc] = section
    body = [HEADER.rstrip()]
    if rest:
        body.append(rest)
    body += [sections[k] for k in sorted(sections)]
    args.results.write_text("\n\n".join(body) + "\n", encoding="utf-8")
    print(f"\nwrote {args.results} (section {acc:,} accounts)")


if __name__ == "__main__":
    main()
