"""In-sandbox: the candidate process. It runs the answer and nothing else.

    python3 -I he_candidate.py SOLUTION ENTRY_POINT

Reads one request per line on stdin (``[args...]`` in he_wire's encoding),
calls the answer's ENTRY_POINT with them and writes one line back:
``{"ok": value}`` or ``{"err": type name, "msg": text}``. The answer's own
prints go to stderr. The checker (the test, HumanEval's ``check``) runs in a
different process, so nothing of it shares this process's memory.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import he_wire  # noqa: E402

del sys.path[0]


def main() -> None:
    src_path, entry = sys.argv[1], sys.argv[2]
    proto_in = os.fdopen(os.dup(0), "rb", buffering=0)
    proto_out = os.fdopen(os.dup(1), "wb", buffering=0)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)  # the answer's prints go to stderr, never onto the protocol
    with open(src_path, encoding="utf-8") as fh:
        src = fh.read()
    ns = {"__name__": "__main__"}
    exec(compile(src, "solution.py", "exec"), ns)
    fn = ns.get(entry)
    while True:
        line = proto_in.readline()
        if not line:
            return
        try:
            args = he_wire.loads(line)
            if not callable(fn):
                raise NameError(f"solution.py defines no function {entry!r}")
            reply = json.dumps({"ok": he_wire.encode(fn(*args))}, separators=(",", ":"))
        except BaseException as exc:  # noqa: BLE001 - the checker decides what an error means
            if isinstance(exc, (SystemExit, KeyboardInterrupt)):
                os._exit(3)
            reply = json.dumps({"err": type(exc).__name__, "msg": str(exc)[:500]})
        proto_out.write(reply.encode() + b"\n")


main()
