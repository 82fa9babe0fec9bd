"""The web process's garbage-collector set-up (config/wsgi.py) and its setting."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_ints
from covidhub.core.gcconfig import web_process_gc_set

ROOT = Path(__file__).resolve().parents[3]


def test_thresholds_parsed_and_bad_values_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEB_GC_THRESHOLD", raising=False)
    assert env_ints("WEB_GC_THRESHOLD", (50_000, 20, 100), count=3, minimum=1) == (50_000, 20, 100)
    monkeypatch.setenv("WEB_GC_THRESHOLD", "2000,10,10")
    assert env_ints("WEB_GC_THRESHOLD", (50_000, 20, 100), count=3, minimum=1) == (2000, 10, 10)
    for bad in ("2000,10", "2000,10,x", "0,10,10", "2000,10,10,10"):
        monkeypatch.setenv("WEB_GC_THRESHOLD", bad)
        with pytest.raises(ImproperlyConfigured, match="WEB_GC_THRESHOLD"):
            env_ints("WEB_GC_THRESHOLD", (50_000, 20, 100), count=3, minimum=1)


def test_set_freezes_what_is_loaded_and_sets_the_thresholds() -> None:
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    try:
        web_process_gc_set((40_000, 15, 90))
        assert gc.get_threshold() == (40_000, 15, 90)
        assert gc.get_freeze_count() >= frozen
        assert gc.get_freeze_count() > 0
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()  # this test process keeps collecting what it loaded


def test_the_web_process_gets_the_setting() -> None:
    """Loading the WSGI application, as the server does, applies WEB_GC_THRESHOLD."""
    script = (
        "import gc, config.wsgi\n"
        "print(','.join(map(str, gc.get_threshold())), gc.get_freeze_count() > 0)"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "WEB_GC_THRESHOLD": "30000,12,80",
        "PATH": "",
    }
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["30000,12,80", "True"]
