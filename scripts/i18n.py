#!/usr/bin/env python
"""Translations: `update` extracts messages into each app's locale/ and compiles them;
`check` fails when a message is missing from a catalogue, untranslated, fuzzy, or when a
compiled .mo file is stale. English is the source language, so en.po mirrors msgids."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("vi", "en")
# makemessages walks the whole checkout. What `scripts/run` and the tools generate (var/:
# the database, collected static files with Django admin's own JavaScript, screenshots;
# build output) is not ours to translate and must never change what a check reports.
GENERATED = ("var", "build", "dist", "*.egg-info", "bench/results", "node_modules")


def generated_ignores() -> list[str]:
    patterns = list(GENERATED)
    # COVIDHUB_VAR_DIR may move var/ elsewhere inside the checkout (scripts/check: var/check).
    var_dir = os.environ.get("COVIDHUB_VAR_DIR")
    if var_dir and Path(var_dir).resolve().is_relative_to(ROOT):
        # (outside the checkout makemessages never sees it)
        patterns.append(str(Path(var_dir).resolve().relative_to(ROOT)))
    return patterns


def catalogues() -> list[Path]:
    return sorted(ROOT.glob("covidhub/**/locale/*/LC_MESSAGES/*.po"))


def ensure_locale_dirs() -> None:
    # One catalogue per app (so that work on one app never conflicts with another), and
    # covidhub/locale (LOCALE_PATHS) for the shared templates and settings.
    homes = [app for app in sorted((ROOT / "covidhub").iterdir()) if (app / "apps.py").exists()]
    for home in [*homes, ROOT / "covidhub"]:
        for language in LANGUAGES:
            (home / "locale" / language / "LC_MESSAGES").mkdir(parents=True, exist_ok=True)


def makemessages() -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    for domain in ("django", "djangojs"):
        args = [
            sys.executable,
            "manage.py",
            "makemessages",
            "--no-obsolete",
            "--no-location",
            "-d",
            domain,
        ]
        for pattern in generated_ignores():
            args += ["--ignore", pattern]
        for language in LANGUAGES:
            args += ["-l", language]
        if domain == "djangojs":
            args += ["-e", "js", "--ignore", "covidhub/core/templates/core/sw.js"]
        subprocess.run(args, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def mirror_english(po: polib.POFile) -> None:
    # English is the source language: its catalogue is the msgid itself, always (a fuzzy
    # guess of makemessages once left "Booking confirmed" shown as "Booking code").
    for entry in po:
        if entry.msgid_plural:
            entry.msgstr_plural = {0: entry.msgid, 1: entry.msgid_plural}
        else:
            entry.msgstr = entry.msgid
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")


def english_mismatches(path: Path) -> list[str]:
    problems = []
    for entry in polib.pofile(str(path)):
        if entry.obsolete:
            continue
        expected = {0: entry.msgid, 1: entry.msgid_plural} if entry.msgid_plural else entry.msgid
        actual = entry.msgstr_plural if entry.msgid_plural else entry.msgstr
        if actual != expected:
            problems.append(
                f"{path.relative_to(ROOT)}: English differs from the source {entry.msgid!r}"
            )
    return problems


def merged_conflicts(paths: list[Path]) -> list[str]:
    """Django merges every app's catalogue of a language into one, and for a message in
    two of them only one translation wins: "Person" translated "Người được xét nghiệm" by
    testing labelled the check-in history too. One message, one translation; a word with
    two meanings gets a context (pgettext, `translate "Site" context "vaccination"`)."""
    seen: dict[tuple[str, str], dict[str, Path]] = {}
    for path in paths:
        for entry in polib.pofile(str(path)):
            if entry.obsolete or entry.msgid_plural or not entry.msgstr:
                continue
            seen.setdefault((entry.msgctxt or "", entry.msgid), {}).setdefault(entry.msgstr, path)
    problems = []
    for (context, msgid), translations in sorted(seen.items()):
        if len(translations) > 1:
            where = ", ".join(
                f"{str(p.relative_to(ROOT)).split('/locale/')[0]}: {t!r}"
                for t, p in translations.items()
            )
            label = f"{context}|{msgid}" if context else msgid
            problems.append(f"{label!r} is translated differently ({where})")
    return problems


def compile_all() -> None:
    for path in catalogues():
        po = polib.pofile(str(path))
        if path.parts[-3] == "en":
            mirror_english(po)
            po.save(str(path))
        po.save_as_mofile(str(path.with_suffix(".mo")))


def snapshot() -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in ROOT.glob("covidhub/**/locale/*/LC_MESSAGES/*.po")}


def msgids(path: Path) -> set[tuple[str, str]]:
    return {(e.msgctxt or "", e.msgid) for e in polib.pofile(str(path)) if not e.obsolete}


def check() -> int:
    problems: list[str] = []
    before = snapshot()
    try:
        makemessages()
        after = snapshot()
        for path in after:
            old = before.get(path)
            if old is None:
                problems.append(
                    f"{path.relative_to(ROOT)}: not committed (run scripts/i18n.py update)"
                )
                continue
            path_old = path.with_suffix(".po.orig")
            path_old.write_bytes(old)
            try:
                missing = msgids(path) - msgids(path_old)
            finally:
                path_old.unlink()
            for _ctxt, msgid in sorted(missing)[:20]:
                problems.append(f"{path.relative_to(ROOT)}: missing {msgid!r}")
    finally:
        for path in snapshot():
            if path not in before:
                path.unlink()
        for path, content in before.items():
            path.write_bytes(content)
    for path in catalogues():
        if path.parts[-3] == "en":
            problems.extend(english_mismatches(path))
    for language in LANGUAGES:
        problems.extend(merged_conflicts([p for p in catalogues() if p.parts[-3] == language]))
    for path in catalogues():
        po = polib.pofile(str(path))
        for entry in po:
            if entry.obsolete:
                continue
            untranslated = not (entry.msgstr or any(entry.msgstr_plural.values()))
            if untranslated or "fuzzy" in entry.flags:
                problems.append(f"{path.relative_to(ROOT)}: untranslated or fuzzy {entry.msgid!r}")
        mo = path.with_suffix(".mo")
        if not mo.exists():
            problems.append(f"{mo.relative_to(ROOT)}: not compiled")
            continue
        compiled = {
            (e.msgctxt or "", e.msgid): (e.msgstr, tuple(sorted(e.msgstr_plural.items())))
            for e in polib.mofile(str(mo))
        }
        for entry in po.translated_entries():
            key = (entry.msgctxt or "", entry.msgid)
            if compiled.get(key) != (entry.msgstr, tuple(sorted(entry.msgstr_plural.items()))):
                problems.append(f"{mo.relative_to(ROOT)}: stale (run scripts/i18n.py update)")
                break
    for problem in problems:
        print(problem)
    if problems:
        print(f"translations: {len(problems)} problem(s)")
        return 1
    print(f"translations: {len(catalogues())} catalogues complete")
    return 0


def fill(mapping_path: Path, *, force: bool = False) -> int:
    """Fill untranslated Vietnamese msgstr from a JSON {msgid: msgstr} (plurals: msgid →
    [one, other]); with --force also replace existing translations."""
    import json

    mapping = json.loads(mapping_path.read_text(encoding="utf-8"))
    filled = 0
    for path in catalogues():
        if path.parts[-3] != "vi":
            continue
        po = polib.pofile(str(path))
        for entry in po:
            value = mapping.get(entry.msgid)
            translated = entry.msgstr or any(entry.msgstr_plural.values())
            if value is None or (translated and "fuzzy" not in entry.flags and not force):
                continue  # never overwrite another catalogue's translation unasked
            if entry.msgid_plural:
                forms = value if isinstance(value, list) else [value]
                entry.msgstr_plural = {0: forms[-1]}  # Vietnamese has one plural form
            else:
                entry.msgstr = value
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
            filled += 1
        po.save(str(path))
    compile_all()
    print(f"filled {filled} entries")
    return 0


def main() -> int:
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "fill" and len(sys.argv) > 2:
        return fill(Path(sys.argv[2]), force="--force" in sys.argv[3:])
    if command == "update":
        ensure_locale_dirs()
        makemessages()
        compile_all()
        return 0
    if command == "compile":
        compile_all()
        return 0
    if command == "check":
        return check()
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
