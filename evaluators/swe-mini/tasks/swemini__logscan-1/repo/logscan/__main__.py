import argparse
import sys

from .filters import by_level, since
from .records import parse_line, parse_time


def main(argv=None):
    ap = argparse.ArgumentParser(prog="logscan")
    ap.add_argument("file")
    ap.add_argument("--level", default="DEBUG")
    ap.add_argument("--since", type=parse_time)
    args = ap.parse_args(argv)
    with open(args.file, encoding="utf-8") as fh:
        records = [r for r in map(parse_line, fh) if r]
    records = by_level(records, args.level)
    if args.since:
        records = since(records, args.since)
    for r in records:
        print(r.time.isoformat(), r.level, r.message)
    return 0


if __name__ == "__main__":
    sys.exit(main())
