"""Two runs in one process through the public API: each is stopped mid-way, then resumed
to its budget. With the old module-level stop flag the second run stopped at once."""

import threading
from pathlib import Path

import dgm
from dgm.engine.progress import Reporter

TOY = Path(__file__).resolve().parents[1] / "loop" / "toy"


class StopAfter(Reporter):
    """Calls ``run.stop()`` once the first child is committed."""

    def __init__(self, run_ref: list, total: int):
        super().__init__(total)
        self.run_ref = run_ref

    def update(self, done, running, best):
        if done >= 1:
            self.run_ref[0].stop()


def test_two_runs_stop_and_resume_in_one_process(tmp_path):
    for name in ("a", "b"):
        cfg = dgm.RunConfig(suites=[str(TOY / "suite")], seed_agent=TOY / "agent", children=4,
                            workers=1, sandbox="unsafe", seed=7)
        ref: list = []
        run = dgm.Run(cfg, archive=tmp_path / name, unsafe=True,
                      reporter=lambda c: StopAfter(ref, c.children))
        ref.append(run)
        first = run.start()
        assert first.status == "stopped" and 1 <= first.children < 4, first
        if name == "a":  # the same Run object resumes: its stop flag starts clear again
            run.reporter = None
            again = run.resume()
        else:
            again = dgm.Run(archive=tmp_path / name, unsafe=True).resume()
        assert again.status == "finished" and again.children == 4, again
        with dgm.open_archive(tmp_path / name) as a:
            assert a.check() == [] and len([g for g in a.agents() if g.status != "duplicate"]) == 5  # the seed + 4 children (duplicates cost no budget)
            assert a.best() is not None and a.runs()[0]["status"] == "finished"
    assert threading.active_count() < 10  # each run let its pools go
