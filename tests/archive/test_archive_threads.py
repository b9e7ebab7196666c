"""One Archive object shared by threads: 4 writers add 200 agents at once."""

from __future__ import annotations

import random
import threading

import pytest

from dgm.archive.store import format_id
from dgm.archive.lineage import Lineage

from archive_helpers import SEED_FILES, TaskResult, read_tree


def new_file_diff(path: str, text: str) -> str:
    return (f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
            f"@@ -0,0 +1 @@\n+{text}\n")


@pytest.mark.timeout(120)
def test_four_threads_add_200_agents(seeded, tmp_path):
    a, seed = seeded
    expected = {seed: dict(SEED_FILES)}
    guard = threading.Lock()
    errors: list[BaseException] = []
    stop_reading = threading.Event()

    def writer(t: int) -> None:
        rng = random.Random(t)
        try:
            for i in range(50):
                with guard:
                    parent = rng.choice(sorted(expected))
                    files = expected[parent]
                path = f"gen/t{t}_{i}.py"
                r = a.add_child(parent, new_file_diff(path, f"V = {t * 1000 + i}"),
                                summary=f"t{t} #{i}", proposer=f"thread{t}")
                assert r.ok, r.reason
                with guard:
                    expected[r.agent_id] = {**files, path: f"V = {t * 1000 + i}\n"}
                # interleave the other writes a run makes
                if i % 5 == 0:
                    bad = a.add_child(parent, "not a diff", summary="bad", proposer=f"thread{t}")
                    assert not bad.ok
                a.set_status(r.agent_id, "evaluating")
                a.record_evaluation(r.agent_id, "toy", 1, [TaskResult("a", rng.random(), True)])
                a.set_status(r.agent_id, "admitted" if i % 2 else "rejected")
                a.record_event("job_done", agent=r.agent_id, thread=t)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            errors.append(exc)

    def reader() -> None:
        try:
            while not stop_reading.is_set():
                lin = Lineage.load(a)
                for n in list(lin.g)[-3:]:
                    assert a.agent(n).id == n
                a.best(3)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
    rt = threading.Thread(target=reader)
    rt.start()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    stop_reading.set()
    rt.join()
    assert not errors, errors[0]

    assert a.count() == 201
    ids = [x.id for x in a.agents()]
    assert ids == [format_id(i) for i in range(1, 202)] and set(ids) == set(expected)
    assert len(a.git.refs()) == 201
    assert a.check() == []
    assert a.query("SELECT COUNT(*) FROM proposals WHERE status='rejected'")[0][0] == 40
    assert a.query("SELECT COUNT(*) FROM evaluations")[0][0] == 200
    assert len(a.events(kind="job_done")) == 200
    assert {x.status for x in a.agents()} == {"proposed", "admitted", "rejected"}
    # lineage in SQLite and git agree, and every agent's files are its chain of additions
    for x in a.agents():
        if x.parent:
            assert x.depth == a.agent(x.parent).depth + 1
    for agent_id in random.Random(0).sample(ids, 12):
        assert read_tree(a.materialize(agent_id, tmp_path / agent_id)) == expected[agent_id]
