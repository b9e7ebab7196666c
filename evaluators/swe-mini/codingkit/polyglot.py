"""The Polyglot benchmark's exercises (Aider-AI/polyglot-benchmark layout) as tasks.

``<root>/<language>/exercises/practice/<slug>/`` holds ``.docs/instructions.md``
(plus ``introduction.md`` / ``instructions.append.md``), ``.meta/config.json``
whose ``files`` lists ``solution``, ``test`` and ``example`` paths, the stubs,
the tests and the build files. The task id is ``<language>__<slug>`` (DGM's).

What the agent gets: the exercise without ``.meta/`` (the reference solution
lives there), without ``.docs/`` (it is the problem statement) and without the
test files (hidden, as in DGM's conversion; Aider shows only their output).
Grading puts the pristine tests *and* every other non-solution file back
(build files included) after applying the answer, and runs the language's
own test command; the per-language table is ``LANGUAGES``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path, PurePosixPath

from dgm.errors import ConfigError

from . import gitrepo
from .patches import file_diff, split_diff
from .pytestlog import parse_pytest_log

PYTEST = ["python3", "-I", "-m", "pytest", "-rA", "-p", "no:cacheprovider", "-c", "/dev/null",
          "--rootdir", ".", "-o", "pythonpath=."]
JAVA_CP = ":".join(f"/usr/share/java/{j}.jar" for j in ("assertj-core", "junit-jupiter-api",
                                                        "junit-jupiter-params", "apiguardian-api",
                                                        "opentest4j", "junit-platform-commons"))
JEST_CONFIG = json.dumps({"transform": {r"\.[jt]sx?$": ["babel-jest", {
    "presets": [["@babel/preset-env", {"targets": {"node": "current"}}]], "configFile": False,
    "babelrc": False}]}})


@dataclass(frozen=True)
class Language:
    argv: list[str]                 # the test command, run in the testbed (test files appended: python)
    test_marker: str                # regex counting the tests in the hidden test files
    passed: str                     # regex over the output: one match per passing test (or a count group)
    failed: str                     # regex: any match means a failure
    counted: bool = False           # ``passed`` captures a number of tests instead of one per match
    rewrite: tuple[tuple[str, str], ...] = ()   # applied to test files (Aider: enable skipped tests)


LANGUAGES: dict[str, Language] = {
    "python": Language(PYTEST, r"^\s*def test_\w+\(", r"^PASSED ", r"^(FAILED|ERROR) "),
    "go": Language(["go", "test", "-v", "./..."], r"^func Test\w*\(", r"^--- PASS: ", r"^\s*--- FAIL: |^FAIL"),
    "rust": Language(["cargo", "test", "--offline", "--", "--include-ignored"], r"#\[test\]",
                     r"^test result: ok\. (\d+) passed", r"^test result: FAILED|^error(\[|:)", counted=True),
    "cpp": Language(["bash", "-c", "cmake -DEXERCISM_RUN_ALL_TESTS=1 -S . -B \"$BUILD_DIR\" >/dev/null"
                     " && make -C \"$BUILD_DIR\""], r"\bTEST_CASE\s*\(",
                    r"^All tests passed \(\d+ assertions? in (\d+) test cases?\)", r"FAILED|Error \d",
                    counted=True),
    # The exercise's own babel config is ignored (its package.json may make it an ES module,
    # which Debian's babel cannot load synchronously): one inline config for every exercise.
    "javascript": Language(["jest", "--ci", "--rootDir", ".", "--config", JEST_CONFIG], r"^\s*(x?test|it)\(",
                           r"^Tests:\s+(\d+) passed", r"^Tests:.*failed", counted=True,
                           rewrite=((r"\bxtest\(", "test("),)),
    "java": Language(["bash", "-c", f"javac -d \"$BUILD_DIR\" -cp {JAVA_CP} $(find src -name '*.java') && "
                      "java -jar /usr/share/java/junit-platform-console-standalone.jar --disable-banner "
                      "--disable-ansi-colors "
                      f"-cp \"$BUILD_DIR\":{JAVA_CP} --scan-classpath"], r"@Test\b",
                     r"\[\s+(\d+) tests successful\s+\]", r"\[\s+[1-9]\d* tests failed\s+\]", counted=True,
                     rewrite=((r"(?m)^\s*@Disabled(\(.*\))?\s*$", ""),)),
}
ADDENDUM = """
####

Use the above instructions to modify the supplied files: {files}
Don't change the names of existing functions or classes, as they may be referenced from other code
like unit tests, etc. Only use standard libraries, don't suggest installing any packages.
"""
RETRY = """
####

The tests of your previous attempt failed; their output (tail):

```
{output}
```

The tests are correct, don't try and change them. Fix the code in {files} to resolve the errors.
"""


class ExerciseError(ConfigError):
    """An exercise folder that does not follow the layout (one clear line)."""


@dataclass
class Exercise:
    language: str
    slug: str
    dir: Path
    solution: list[str]
    tests: list[str]
    example: list[str]
    stub_files: dict[str, bytes] = field(repr=False, default_factory=dict)   # what the agent sees
    hidden_files: dict[str, bytes] = field(repr=False, default_factory=dict)  # tests, restored at grading

    @property
    def instance_id(self) -> str:
        return f"{self.language}__{self.slug}"

    @property
    def lang(self) -> Language:
        return LANGUAGES[self.language]

    @cached_property
    def problem_statement(self) -> str:
        docs = self.dir / ".docs"
        parts = [(docs / n).read_text() for n in ("introduction.md", "instructions.md", "instructions.append.md")
                 if (docs / n).is_file()]
        return "\n\n".join(parts) + ADDENDUM.format(files=" ".join(self.solution))

    def retry_statement(self, output: str) -> str:
        return self.problem_statement + RETRY.format(output=output[-3000:], files=" ".join(self.solution))

    def build_testbed(self, dest: Path) -> str:
        return gitrepo.make_repo(self.stub_files, dest)

    def protected(self) -> dict[str, bytes]:
        """Every file the answer may not change, as graded: the tests and the non-solution stubs."""
        keep = {p: b for p, b in self.stub_files.items() if p not in self.solution}
        return {**keep, **self.hidden_files}

    def strip_answer(self, patch: str) -> tuple[str, list[str]]:
        """Keep only diff blocks that change solution files; return (kept, dropped paths).

        As Aider asks ("modify the supplied files"), nothing else counts: not the
        tests or build files, and no new file (a ``conftest.py`` hooking pytest,
        a module shadowing one the tests import).
        """
        allowed = set(self.solution)
        kept, dropped = [], []
        for b in split_diff(patch)[1]:
            if not b.paths or any(p not in allowed for p in b.paths):
                dropped.extend(p for p in b.paths if p not in dropped)
            else:
                kept.append(b.text)
        return "".join(kept), dropped

    def reference_patch(self) -> str:
        """The exercise's example solution as a diff over the stubs (pairs files by suffix)."""
        out = []
        for ex in self.example:
            target = _pair(ex, self.solution)
            new = (self.dir / ex).read_text()
            old = self.stub_files.get(target)
            out.append(file_diff(target, old.decode() if old is not None else None, new))
        return "".join(out)

    def verdict(self, exit_code: int | None, output: str) -> tuple[bool, str]:
        """Passed iff exit 0, no failure line, and at least as many passing tests as the tests hold."""
        expected = sum(len(re.findall(self.lang.test_marker, b.decode("utf-8", "replace"), re.M))
                       for p, b in self.hidden_files.items() if p in self.tests)
        if self.language == "python":
            status = parse_pytest_log(output)
            passed = sum(s == "PASSED" for s in status.values())
            failed = any(s in ("FAILED", "ERROR") for s in status.values())
        else:
            hits = re.findall(self.lang.passed, output, re.M)
            passed = sum(int(h) for h in hits) if self.lang.counted else len(hits)
            failed = re.search(self.lang.failed, output, re.M) is not None
        if exit_code != 0:
            return False, f"tests failed (exit code {exit_code}; {passed} of {expected} tests passed)"
        if failed:
            return False, "the test output reports a failure"
        if passed < max(expected, 1):
            return False, f"only {passed} of {expected} tests reported passing"
        return True, f"passed: {passed} tests (of {expected} in the test files)"


def _pair(example: str, solution: list[str]) -> str:
    suffix = PurePosixPath(example).suffix
    same = [s for s in solution if PurePosixPath(s).suffix == suffix]
    if len(same) == 1:
        return same[0]
    stem = PurePosixPath(example).name
    named = [s for s in same if PurePosixPath(s).name == stem]
    if len(named) == 1:
        return named[0]
    raise ExerciseError(f"cannot tell which solution file {example} belongs to ({solution})")


def _rewrite(lang: Language, data: bytes) -> bytes:
    text = data.decode("utf-8", "replace")
    for pattern, repl in lang.rewrite:
        text = re.sub(pattern, repl, text)
    return text.encode()


def load_exercise(lang: str, d: Path) -> Exercise:
    where = f"{lang}/exercises/practice/{d.name}"
    try:
        cfg = json.loads((d / ".meta" / "config.json").read_text())
        files = cfg["files"]
        solution, tests, example = (list(files[k]) for k in ("solution", "test", "example"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ExerciseError(f"{where}: .meta/config.json needs files.solution/test/example ({exc})") from None
    if not (d / ".docs" / "instructions.md").is_file():
        raise ExerciseError(f"{where}: no .docs/instructions.md")
    for rel in solution + tests + example:
        if not (d / rel).is_file():
            raise ExerciseError(f"{where}: {rel} (named in .meta/config.json) does not exist")
    allf = gitrepo.snapshot_files(d)
    ex = Exercise(lang, d.name, d, solution, tests, example)
    for rel, data in allf.items():
        top = rel.split("/", 1)[0]
        if top in (".meta", ".docs", "node_modules"):
            continue
        if rel in tests:
            ex.hidden_files[rel] = _rewrite(LANGUAGES[lang], data)
        else:
            ex.stub_files[rel] = data
    return ex


def load_exercises(root: Path, languages: list[str] | None = None) -> dict[str, Exercise]:
    """Every exercise under ``root`` for the known (or given) languages, by task id, sorted."""
    if not root.is_dir():
        raise ExerciseError(f"polyglot root {root} is not a directory")
    wanted = languages or [lang for lang in LANGUAGES if (root / lang).is_dir()]
    bad = [lang for lang in wanted if lang not in LANGUAGES]
    if bad:
        raise ExerciseError(f"unknown languages {', '.join(bad)}; known: {', '.join(LANGUAGES)}")
    out: dict[str, Exercise] = {}
    for lang in wanted:
        practice = root / lang / "exercises" / "practice"
        if not practice.is_dir():
            raise ExerciseError(f"{root}: no {lang}/exercises/practice/")
        for d in sorted(practice.iterdir()):
            if (d / ".meta" / "config.json").is_file():
                ex = load_exercise(lang, d)
                out[ex.instance_id] = ex
    if not out:
        raise ExerciseError(f"{root}: no exercises found")
    return out
