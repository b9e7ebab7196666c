"""The centroid agent (main.py, copied in by the test) plus one attack from attack.json.

attack.json: {"attack": NAME, "target": HOST PATH or null}. "none" is the control.
"""

import json
import os
import runpy
import sys
import zipfile
from pathlib import Path

cfg = json.loads(Path("attack.json").read_text())
attack, target = cfg["attack"], cfg.get("target")
cmd = sys.argv[1]
runpy.run_path("main.py", run_name="__main__")

if cmd == "meta-train":
    if attack == "links":  # every file name the host has ever written or read in scratch
        for name in ("episodes.npz", "train_pool.npz"):
            p = Path("/scratch", name)
            if p.exists() or p.is_symlink():
                p.unlink()
            os.symlink(target, p)
        os.unlink("/scratch/train_stats.json")
        os.symlink(target, "/scratch/train_stats.json")
    elif attack == "fd_link":  # the engine's own open files (the live dgm.db in the report)
        for name in ("episodes.npz", "train_pool.npz"):
            os.symlink(f"/proc/self/fd/{target}", f"/scratch/{name}")
    elif attack == "checkpoint_link":
        import shutil
        shutil.rmtree("/scratch/checkpoint")
        os.symlink(target, "/scratch/checkpoint")
    elif attack == "deep_stats":
        Path("/scratch/train_stats.json").write_text("[" * 30000 + "]" * 30000)
    elif attack == "sparse":  # 3 x 500 MB apparent, no blocks: under the fsize limit each
        for i in range(3):
            with open(f"/scratch/checkpoint/sparse{i}.bin", "wb") as fh:
                fh.truncate(500 << 20)
    elif attack == "dense":  # the sparse attack's control: real bytes, well within the quota
        Path("/scratch/checkpoint/dense.bin").write_bytes(b"\1" * (1 << 20))

if cmd == "predict" and attack == "npz_bomb":
    # logits_0 declares (and really holds) 600 MB of zeros: ~600 KB once deflated.
    import numpy as np
    n = 600 << 20
    header = {"descr": "<f4", "fortran_order": False, "shape": (n // 40, 1, 10)}
    with zipfile.ZipFile("/scratch/logits.npz", "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("logits_0.npy", "w", force_zip64=True) as fh:
            np.lib.format.write_array_header_1_0(fh, header)
            zero = b"\0" * (1 << 20)
            for _ in range(n >> 20):
                fh.write(zero)
