"""Export records (dicts) as CSV or as a fixed-width text table."""


def _cell(value):
    return str(value)


def to_csv(rows, headers):
    """CSV text with a header line; missing keys become empty fields."""
    lines = [",".join(headers)]
    for row in rows:
        lines.append(",".join(_cell(row.get(h, "")) for h in headers))
    return "\n".join(lines) + "\n"


def to_text(rows, headers):
    """An aligned plain-text table for terminals."""
    cells = [[str(h) for h in headers]] + [[str(r.get(h, "")) for h in headers] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
                     for row in cells) + "\n"
