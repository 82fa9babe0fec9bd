"""The suite passes from a lone clone: the DCC reference data it reads lives in the
repository, with its licence, and no test reaches outside the checkout for it."""

import re
from pathlib import Path

from covidhub.certificates.tests.dcc_data import DCC_DATA, SCHEMA_REPOSITORY, TESTDATA

ROOT = Path(__file__).resolve().parents[3]


def test_reference_data_is_inside_the_repository_with_its_licence():
    for folder in (TESTDATA, SCHEMA_REPOSITORY):
        assert folder.resolve().is_relative_to(ROOT)
        assert (folder / "LICENSE").read_text().lstrip().startswith("Apache License")
    assert (TESTDATA / "NOTICE").exists()
    assert (TESTDATA / "dcc-quality-assurance" / "LICENSE").exists()
    assert len(list(TESTDATA.rglob("*.json"))) >= 60
    assert (DCC_DATA / "README.md").exists()


def test_no_test_reads_a_folder_beside_the_checkout():
    # `parents[3].parent` or "../shared" from a test module is the repository's parent.
    outside = re.compile(r"parents\[3\]\.parent|[\"'/]shared[\"'/]|\.\./shared")
    offenders = [
        str(path.relative_to(ROOT))
        for path in ROOT.glob("covidhub/**/tests/*.py")
        if outside.search(path.read_text(encoding="utf-8")) and path.name != Path(__file__).name
    ]
    assert offenders == []
