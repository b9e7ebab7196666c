"""Command line: print the most common words of some text files."""

import argparse
import re
import sys
from collections import Counter

WORD = re.compile(r"[A-Za-z']+")


def count_words(text, ignore_case=False, min_length=1):
    words = WORD.findall(text.lower() if ignore_case else text)
    return Counter(w for w in words if len(w) >= min_length)


def build_parser():
    parser = argparse.ArgumentParser(prog="wordfreq", description=__doc__)
    parser.add_argument("files", nargs="+", help="text files to read")
    parser.add_argument("--top", default=10, help="how many words to show (default 10)")
    parser.add_argument("--ignore-case", action="store_true", help="count Word and word together")
    parser.add_argument("--min-length", type=int, default=1, help="ignore shorter words")
    return parser


def main(argv=None, stdin=None, stdout=None):
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    args = build_parser().parse_args(argv)
    counts = Counter()
    for name in args.files:
        with open(name, encoding="utf-8") as fh:
            counts.update(count_words(fh.read(), args.ignore_case, args.min_length))
    for word, n in counts.most_common(args.top):
        stdout.write(f"{n:>6} {word}\n")
    return 0
