"""CSV files an operator opens in a spreadsheet: no cell can run as a formula (OWASP's CSV injection rule)."""
import csv

# A spreadsheet reads a cell starting with one of these as a formula (=HYPERLINK(...), +cmd|..., @SUM(...)).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> str:
    """The value as text; one that a spreadsheet would run is prefixed with ' and stays readable."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


class Writer:
    """csv.writer whose every cell goes through cell() (quoted wherever a separator, quote or line break needs it)."""

    def __init__(self, out):
        self._writer = csv.writer(out)

    def writerow(self, row) -> None:
        self._writer.writerow([cell(v) for v in row])
