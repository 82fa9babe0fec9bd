"""What `scripts/run` generates under var/ (the database, collected static files with
Django admin's JavaScript, screenshots) never changes what a check reports: the README
runs `scripts/run` before `scripts/check`."""

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def planted():
    """A directory under the checkout's var/ (not the tests' COVIDHUB_VAR_DIR) holding what
    collectstatic copies there: JavaScript with gettext calls, and Python that fails lint,
    types and tests."""
    home = ROOT / "var" / f"planted-{uuid.uuid4().hex[:8]}"
    js = home / "static" / "admin" / "js"
    js.mkdir(parents=True)
    (js / "planted.js").write_text('gettext("covidhub planted in var");\n', encoding="utf-8")
    (home / "test_planted.py").write_text(
        "import os,sys\ndef test_planted() -> None:\n    assert False\n", encoding="utf-8"
    )
    yield home
    shutil.rmtree(home)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    return subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )


def test_translation_check_ignores_collected_static_files(planted):
    result = _run(sys.executable, "scripts/i18n.py", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "djangojs.po" not in result.stdout


def test_lint_and_test_collection_ignore_var(planted):
    ruff = Path(sys.executable).with_name("ruff")
    lint = _run(str(ruff), "check", ".")
    assert planted.name not in lint.stdout, lint.stdout
    collected = _run(sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly")
    assert planted.name not in collected.stdout, collected.stdout[-2000:]
