"""Entry point: ``python3 main.py meta-train|predict <arguments from the icl suite>``."""

from __future__ import annotations

import json
import sys

import torch

from icl_harness import parse


def setup(args) -> None:
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device here: using the CPU", file=sys.stderr)
        args.device = "cpu"
    torch.set_num_threads(max(1, args.threads))
    if args.device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    torch.use_deterministic_algorithms(True, warn_only=True)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("meta-train", "predict"):
        print("usage: main.py meta-train|predict [arguments]", file=sys.stderr)
        return 2
    args = parse(argv[0], argv[1:])
    setup(args)
    if argv[0] == "meta-train":
        from train import meta_train
        print(json.dumps(meta_train(args)))
    else:
        from predict import predict
        predict(args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
