"""The capacity model (bench/capacity.py) over measured costs written as the benchmarks
write them: its arithmetic, its refusal to guess a cost nobody measured, and its storage
estimate."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from bench import capacity

PROFILE = Path(capacity.__file__).with_name("capacity_profile.toml")


def write_result(
    directory: Path,
    bench: str,
    stamp: str,
    rows: dict[str, tuple[float, float]],
    database: dict | None = None,
) -> None:
    results = [
        {"name": name, "extra": {"app_cpu_ms_per_request": app, "db_cpu_ms_per_request": db}}
        for name, (app, db) in rows.items()
    ]
    (directory / f"{bench}-{stamp}.json").write_text(
        json.dumps({"results": results, "database": database or {}})
    )


def every_profile_scenario(
    directory: Path, app: float, db: float, stamp: str = "20261206T100000"
) -> None:
    profile = tomllib.loads(PROFILE.read_text())
    by_bench: dict[str, dict[str, tuple[float, float]]] = {}
    for peak in profile["peak"]:
        for load in peak["load"]:
            bench, prefix = load["scenario"]
            by_bench.setdefault(bench, {})[prefix + " (measured)"] = (app, db)
    for bench, rows in by_bench.items():
        write_result(directory, bench, stamp, rows)


def test_cores_follow_rate_times_measured_cost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    every_profile_scenario(tmp_path, app=10.0, db=2.0)
    profile = tomllib.loads(PROFILE.read_text())
    peak = profile["peak"][0]
    need = capacity.peak_need(peak, capacity.newest_results(tmp_path), scale=1.0)
    rate = sum(load["per_second"] for load in peak["load"])
    assert need.app_cores == pytest.approx(rate * 10.0 / 1000)
    writes = sum(load["per_second"] for load in peak["load"] if load["kind"] == "write")
    assert need.db_write_cores == pytest.approx(writes * 2.0 / 1000)

    assert capacity.main(["--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "## Plan" in out and "web nodes" in out

    # Half the population: half the cores.
    half = capacity.peak_need(peak, capacity.newest_results(tmp_path), scale=0.5)
    assert half.app_cores == pytest.approx(need.app_cores / 2)


def test_the_newest_run_of_a_benchmark_is_used(tmp_path: Path) -> None:
    every_profile_scenario(tmp_path, app=10.0, db=2.0, stamp="20261201T000000")
    every_profile_scenario(tmp_path, app=1.0, db=0.5, stamp="20261206T000000")
    results = capacity.newest_results(tmp_path)
    cost = capacity.find_cost(results, "declarations", "check-in by venue code")
    assert cost is not None and cost.app_ms == 1.0


def test_a_cost_nobody_measured_is_refused_not_guessed(tmp_path: Path) -> None:
    every_profile_scenario(tmp_path, app=10.0, db=2.0)
    (tmp_path / "portal-20261206T100000.json").unlink()
    with pytest.raises(SystemExit, match="no measured cost for: portal"):
        capacity.main(["--results", str(tmp_path)])


def test_storage_counts_people_and_the_checkins_kept(tmp_path: Path) -> None:
    write_result(
        tmp_path,
        "foundation",
        "20261206T100000",
        {},
        {
            "database_bytes": 3_000_000,
            "people": 1_000,
            "checkin_bytes": 1_000_000,
            "checkins": 10_000,
        },
    )
    profile = tomllib.loads(PROFILE.read_text())
    size, basis = capacity.storage_bytes(
        profile, capacity.newest_results(tmp_path), population=1_000_000
    )
    kept = 1_000_000 * profile["checkins_per_person_per_day"] * profile["checkin_retention_days"]
    assert size == int(1_000_000 * 2_000 + kept * 100)
    assert "2,000 B per person" in basis
