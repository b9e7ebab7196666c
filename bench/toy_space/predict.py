"""Toy agent with a declared search space: a line, optionally rounded, optionally damped."""
import json
import sys

CFG = {
    "slope": 1.0,
    "offset": 0.5,
    "rounding": "none",
    "step": 0.5,  # the rounding grid: read only when rounding is on
    "damping": 0.0,
}


def predict(x):
    y = CFG["slope"] * x + CFG["offset"]
    y = y / (1.0 + CFG["damping"] * abs(x))
    if CFG["rounding"] == "grid":
        y = round(y / CFG["step"]) * CFG["step"]
    return y


if __name__ == "__main__":
    xs = json.load(open(sys.argv[-1]))
    print(json.dumps([predict(x) for x in xs]))
