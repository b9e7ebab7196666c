"""The llama.cpp server process (``python -m dgm.models.local.serve_proc``).

It loads the GGUF with xllamacpp, listens on 127.0.0.1 (port 0: the kernel picks
a free one), prints one JSON line ``{"url": ...}`` on stdout once listening, and
then lives exactly as long as its parent: it exits when its stdin reaches EOF,
which happens when the parent closes the pipe or dies, so no server outlives
the run that started it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="dgm.models.local.serve_proc")
    ap.add_argument("--model", required=True)
    ap.add_argument("--alias", required=True)
    ap.add_argument("--ctx", type=int, default=4096)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--parallel", type=int, default=1)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--gpu-layers", type=int, default=0)
    ap.add_argument("--poll", type=int, default=0)
    a = ap.parse_args(argv)
    try:
        import xllamacpp as xlc
    except ImportError:
        print(json.dumps({"error": "the llama.cpp server package is not installed: "
                          "pip install 'dgm[model]' (or run make setup)"}), flush=True)
        return 2
    p = xlc.CommonParams()
    p.model.path = a.model
    p.model_alias = {a.alias}  # answers name the model as the registry does
    p.hostnames = ["127.0.0.1"]
    p.port = a.port
    p.n_ctx = a.ctx * a.parallel  # llama.cpp splits the context among the slots
    p.n_parallel = a.parallel
    p.cpuparams.n_threads = a.threads
    p.cpuparams_batch.n_threads = a.threads
    # Sleep, never spin, between work items: with other processes on the cores (a run's
    # evaluations), spinning threads wait on each other (measured 0.2 vs 13 tokens/s).
    p.cpuparams.poll = a.poll
    p.cpuparams_batch.poll = a.poll
    p.n_gpu_layers = a.gpu_layers
    p.use_jinja = True  # the GGUF's own chat template (tools where it has them)
    p.warmup = False
    try:
        server = xlc.Server(p)
    except Exception as exc:  # llama.cpp reports load failures as exceptions
        print(json.dumps({"error": f"llama.cpp could not load {a.model}: {exc}"}), flush=True)
        return 1
    print(json.dumps({"url": server.listening_address, "pid": os.getpid()}), flush=True)
    try:
        while sys.stdin.buffer.read(4096):
            pass  # the parent never writes; EOF is the signal to stop
    except (OSError, KeyboardInterrupt):
        pass
    os._exit(0)  # skip C++ destructors of the server's threads: the process just ends


if __name__ == "__main__":
    sys.exit(main())
