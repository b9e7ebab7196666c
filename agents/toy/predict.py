"""Toy agent: a line with two constants the mutation proposer can move."""
import json
import sys

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
    xs = json.load(open(sys.argv[-1]))
    print(json.dumps([predict(x) for x in xs]))
