"""The capacity model: from the CPU that each hot path measurably costs (bench/results/,
written by the benchmarks) and a demand profile (bench/capacity_profile.toml), the web
nodes, database cores and database size a deployment needs, with every assumption printed.

    .venv/bin/python bench/capacity.py [--profile bench/capacity_profile.toml]
                                       [--results bench/results] [--population 98000000]

Each benchmark run records, per scenario, the CPU milliseconds that the web tier (the
granian processes) and PostgreSQL (the backends serving the bench database) spent per
request (bench/harness.py). CPU time, not wall time: a busy machine slows a run, but does
not change what a request costs. The newest result of each benchmark is used; a scenario
that no result measures is named, and the model refuses to guess its cost.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Cost:
    bench: str
    scenario: str
    app_ms: float
    db_ms: float
    measured_at: str


@dataclass(frozen=True)
class PeakNeed:
    name: str
    app_cores: float
    db_write_cores: float
    db_read_cores: float
    rows: list[tuple[str, float, str, Cost]]


def newest_results(results_dir: Path) -> dict[str, dict[str, Any]]:
    """The newest result file of each benchmark (files are named <bench>-<UTC time>.json)."""
    newest: dict[str, tuple[str, Path]] = {}
    for path in results_dir.glob("*.json"):
        bench, _, stamp = path.stem.rpartition("-")
        if bench and (bench not in newest or stamp > newest[bench][0]):
            newest[bench] = (stamp, path)
    return {
        bench: json.loads(path.read_text()) | {"_stamp": stamp}
        for bench, (stamp, path) in newest.items()
    }


def find_cost(results: dict[str, dict[str, Any]], bench: str, prefix: str) -> Cost | None:
    data = results.get(bench)
    if not data:
        return None
    for row in data.get("results", []):
        extra = row.get("extra") or {}
        if row["name"].startswith(prefix) and "app_cpu_ms_per_request" in extra:
            return Cost(
                bench=bench,
                scenario=row["name"],
                app_ms=float(extra["app_cpu_ms_per_request"]),
                db_ms=float(extra["db_cpu_ms_per_request"]),
                measured_at=data["_stamp"],
            )
    return None


def peak_need(peak: dict[str, Any], results: dict[str, dict[str, Any]], scale: float) -> PeakNeed:
    app = db_write = db_read = 0.0
    rows = []
    missing = []
    for load in peak["load"]:
        bench, prefix = load["scenario"]
        cost = find_cost(results, bench, prefix)
        if cost is None:
            missing.append(f"{bench}: {prefix}")
            continue
        rate = load["per_second"] * scale
        app += rate * cost.app_ms / 1000
        if load["kind"] == "write":
            db_write += rate * cost.db_ms / 1000
        else:
            db_read += rate * cost.db_ms / 1000
        rows.append((prefix, rate, load["kind"], cost))
    if missing:
        raise SystemExit(
            f"no measured cost for: {'; '.join(missing)}. Run the benchmarks that measure them "
            "(bench/README.md) so that bench/results/ holds their figures."
        )
    return PeakNeed(peak["name"], app, db_write, db_read, rows)


def storage_bytes(
    profile: dict[str, Any], results: dict[str, dict[str, Any]], population: int
) -> tuple[int, str]:
    """Database size: people with their records, measured per person on the largest bench
    database, plus the check-ins kept for the retention period, measured per row."""
    per_person = per_checkin = 0.0
    basis = []
    largest = max(
        (r for r in results.values() if r.get("database", {}).get("people")),
        key=lambda r: r["database"]["people"],
        default=None,
    )
    if largest:
        d = largest["database"]
        per_person = (d["database_bytes"] - d["checkin_bytes"]) / d["people"]
        basis.append(
            f"{per_person:,.0f} B per person with their records ({d['people']:,} people measured)"
        )
    with_checkins = max(
        (r for r in results.values() if r.get("database", {}).get("checkins")),
        key=lambda r: r["database"]["checkins"],
        default=None,
    )
    if with_checkins:
        d = with_checkins["database"]
        per_checkin = d["checkin_bytes"] / d["checkins"]
        basis.append(
            f"{per_checkin:,.0f} B per check-in with its indexes ({d['checkins']:,} measured)"
        )
    checkins_kept = (
        population * profile["checkins_per_person_per_day"] * profile["checkin_retention_days"]
    )
    total = population * per_person + checkins_kept * per_checkin
    return int(total), "; ".join(basis) or "no bench database measured"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", type=Path, default=ROOT / "bench" / "capacity_profile.toml")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--population", type=int, default=None, help="overrides the profile's")
    args = parser.parse_args(argv)

    profile = tomllib.loads(args.profile.read_text())
    population = args.population or profile["population"]
    scale = population / profile["population"]
    results = newest_results(args.results)
    utilisation = profile["target_utilisation"]

    needs = [peak_need(peak, results, scale) for peak in profile["peak"]]
    print(f"# Capacity for {population:,} people ({args.profile.name}; costs from {args.results})")
    print()
    print("## Measured cost per request (CPU ms, newest run of each benchmark)")
    print()
    print("| benchmark | scenario | web CPU ms | database CPU ms | run |")
    print("|---|---|---:|---:|---|")
    seen = set()
    for need in needs:
        for _prefix, _rate, _kind, cost in need.rows:
            if (cost.bench, cost.scenario) in seen:
                continue
            seen.add((cost.bench, cost.scenario))
            print(
                f"| {cost.bench} | {cost.scenario} | {cost.app_ms:.2f} | {cost.db_ms:.2f} | {cost.measured_at} |"
            )
    print()
    print(f"## Peaks (cores planned at {utilisation:.0%} busy)")
    for need, peak in zip(needs, profile["peak"], strict=True):
        print()
        print(f"### {need.name}")
        print(" ".join(peak["why"].split()))
        print()
        print("| load | requests/s | kind | web cores | database cores |")
        print("|---|---:|---|---:|---:|")
        for prefix, rate, kind, cost in need.rows:
            print(
                f"| {prefix} | {rate:,.0f} | {kind} | {rate * cost.app_ms / 1000 / utilisation:.1f} "
                f"| {rate * cost.db_ms / 1000 / utilisation:.1f} |"
            )
        print(
            f"| **total** | | | **{need.app_cores / utilisation:.1f}** "
            f"| **{(need.db_write_cores + need.db_read_cores) / utilisation:.1f}** |"
        )

    def plan(app: float, write: float, read: float) -> dict[str, float]:
        app_cores = app / utilisation
        app_nodes = (
            math.ceil(app_cores / profile["app_cores_per_node"]) + profile["spare_app_nodes"]
        )
        primary = write / utilisation
        replicas_cores = read / utilisation
        replicas = math.ceil(replicas_cores / profile["db_cores_per_node"]) if read else 0
        return {
            "web cores": app_cores,
            "web nodes": app_nodes,
            "primary cores": primary,
            "primary fits one node": primary <= profile["db_cores_per_node"],
            "standby cores (reads)": replicas_cores,
            "read standbys": max(replicas, 1),
        }

    worst = max(needs, key=lambda n: n.app_cores + n.db_write_cores + n.db_read_cores)
    together = plan(
        sum(n.app_cores for n in needs),
        sum(n.db_write_cores for n in needs),
        sum(n.db_read_cores for n in needs),
    )
    chosen = plan(worst.app_cores, worst.db_write_cores, worst.db_read_cores)
    size, basis = storage_bytes(profile, results, population)
    print()
    print("## Plan")
    print()
    print(f"| | the largest peak ({worst.name}) | every peak at once |")
    print("|---|---:|---:|")
    for key in chosen:
        a, b = chosen[key], together[key]
        fmt = (
            (lambda v: "yes" if v else "NO")
            if isinstance(a, bool)
            else (
                lambda v: (
                    f"{v:,.1f}"
                    if isinstance(v, float) and not float(v).is_integer()
                    else f"{v:,.0f}"
                )
            )
        )
        print(f"| {key} | {fmt(a)} | {fmt(b)} |")
    print(f"| database size | {size / 1e9:,.0f} GB | |")
    print()
    print("## Assumptions")
    print(
        f"- web nodes of {profile['app_cores_per_node']} cores, database nodes of "
        f"{profile['db_cores_per_node']} cores, {profile['spare_app_nodes']} spare web node(s)"
    )
    print(
        "- writes run on the primary; reads marked `read` run on hot standbys (covidhub/core/replicas.py)"
    )
    print(
        f"- storage: {basis}; check-ins kept {profile['checkin_retention_days']} days at "
        f"{profile['checkins_per_person_per_day']} per person per day; indexes included, WAL and backups not"
    )
    print(
        "- costs are CPU per request on this machine's cores; other cores differ, so re-run the benchmarks on the target hardware"
    )
    if not chosen["primary fits one node"]:
        print(
            "- the largest peak's writes do not fit one primary: split provinces across deployments (docs/scale.md)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
