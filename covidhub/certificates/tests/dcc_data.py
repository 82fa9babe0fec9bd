"""Where the certificate tests find the public EU DCC reference data.

The files are copied into the repository (tests/data/dcc, each folder with its upstream
licence and notice) so that the suite passes from a lone clone, with nothing read from
outside the repository."""

from pathlib import Path

DCC_DATA = Path(__file__).resolve().parent / "data" / "dcc"
TESTDATA = DCC_DATA / "testdata"
SCHEMA_REPOSITORY = DCC_DATA / "schema"
