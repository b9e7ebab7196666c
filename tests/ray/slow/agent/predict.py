"""Toy agent (see tests/loop/toy), sleeping before it answers: a slow evaluation."""
import json
import sys
import time

DGM_ALTERNATIVES = {"rounding": ["none", "half"]}
slope = 1.0
offset = 0.5
rounding = "none"  # dgm: choice rounding


def predict(x):
    y = slope * x + offset
    if rounding == "half":
        y = round(y * 2) / 2
    return y


if __name__ == "__main__":
    if "--sleep" in sys.argv:
        time.sleep(float(sys.argv[sys.argv.index("--sleep") + 1]))
    xs = json.load(open(sys.argv[-1]))
    print(json.dumps([predict(x) for x in xs]))
