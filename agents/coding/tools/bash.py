"""The bash tool: one persistent shell session (cd, variables and functions persist).

Each call gets a time limit; a command that overruns is killed together with
the whole shell (its process group), and a fresh shell starts for the next
call, which the output says. A syntax error is reported without running
anything. stdin is /dev/null, so a command waiting for input fails instead
of hanging.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
import uuid

MAX_OUTPUT = 12_000


def tool_info() -> dict:
    return {
        "name": "bash",
        "description": (
            "Run a command in a persistent bash shell (state such as the working directory "
            "and environment variables is kept between calls). Use it to explore the "
            "repository (ls, grep, cat), run tests and scripts. Output is truncated to "
            f"{MAX_OUTPUT} characters; each call has a time limit (default 120 s). Do not "
            "start interactive programs or servers that never exit."),
        "input_schema": {
            "type": "object",
            "properties": {
                "command": {"type": "string", "description": "The bash command to run."},
                "timeout": {"type": "number",
                            "description": "Seconds before the command is killed (max 600)."},
            },
            "required": ["command"],
        },
    }


def truncate(text: str, limit: int = MAX_OUTPUT) -> str:
    if len(text) <= limit:
        return text
    head = limit // 2
    return (f"{text[:head]}\n[... {len(text) - limit} characters truncated ...]\n"
            f"{text[-(limit - head):]}")


class BashSession:
    def __init__(self, cwd: str | None = None, default_timeout: float = 120.0):
        self.cwd = cwd
        self.default_timeout = default_timeout
        self.proc: subprocess.Popen | None = None
        self.lines: queue.Queue = queue.Queue()

    def _start(self) -> None:
        env = dict(os.environ)
        env.setdefault("TERM", "dumb")
        env["PAGER"] = "cat"
        env["GIT_PAGER"] = "cat"
        self.proc = subprocess.Popen(
            ["/bin/bash", "--noprofile", "--norc"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, cwd=self.cwd, env=env, start_new_session=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._pump, args=(self.proc, self.lines), daemon=True).start()

    @staticmethod
    def _pump(proc: subprocess.Popen, lines: queue.Queue) -> None:
        assert proc.stdout is not None
        for raw in iter(proc.stdout.readline, b""):
            lines.put(raw.decode("utf-8", "replace"))
        lines.put(None)  # EOF: the shell exited

    def close(self) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        self.proc = None

    def run(self, command: str, timeout: float | None = None) -> str:
        if not command.strip():
            return "Error: empty command."
        check = subprocess.run(["/bin/bash", "-n"], input=command.encode(), capture_output=True)
        if check.returncode != 0:
            return "Syntax error, nothing was run:\n" + check.stderr.decode("utf-8", "replace")
        limit = min(float(timeout or self.default_timeout), 600.0)
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        assert self.proc is not None and self.proc.stdin is not None
        marker = f"__DGM_DONE_{uuid.uuid4().hex}__"
        script = f"{{\n{command}\n}} < /dev/null 2>&1\nprintf '\\n{marker} %s\\n' \"$?\"\n"
        try:
            self.proc.stdin.write(script.encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            self.close()
            return "Error: the shell had exited; a new one will start on the next call."
        out: list[str] = []
        deadline = time.monotonic() + limit
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.close()
                return (truncate("".join(out)) + f"\n[timed out after {limit:g} s: the command "
                        "was killed and the shell restarted; its state (cwd, variables) is lost]")
            if line is None:
                code = self.proc.wait() if self.proc else "?"
                self.proc = None
                return truncate("".join(out)) + (f"\n[the shell exited with code {code}; a new "
                                                 "shell starts on the next call]")
            if marker in line:
                before, _, rest = line.partition(marker)
                out.append(before)
                text = "".join(out)
                for _ in range(2):  # printf's newline, then the command's own final one
                    if text.endswith("\n"):
                        text = text[:-1]
                code = rest.strip()
                return truncate(text) + ("" if code == "0" else f"\n[exit code {code}]")
            out.append(line)


_SESSION: BashSession | None = None


def configure(cwd: str, default_timeout: float = 120.0) -> None:
    global _SESSION
    if _SESSION:
        _SESSION.close()
    _SESSION = BashSession(cwd, default_timeout)


def tool_function(command: str, timeout: float | None = None) -> str:
    global _SESSION
    if _SESSION is None:
        _SESSION = BashSession()
    return _SESSION.run(command, timeout)


def shutdown() -> None:
    if _SESSION:
        _SESSION.close()
