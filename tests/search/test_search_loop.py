"""The search machinery inside real runs on the toy suite: duplicates, pre-check, the
operator bandit across a resume, oversubscription, and confirmation of a best claim."""

import random
import statistics
from pathlib import Path

from dgm.archive.store import Archive
from dgm.proposers.bandit import operator_stats, thompson
from dgm.proposers.mutation import MutationProposer

from search_helpers import Scripted, Slow, run_toy

TOY_SPACE = Path(__file__).resolve().parents[2] / "bench" / "toy_space"
QUOTE = ('rounding = "none"', "rounding = 'none'")  # the same program
SAME_VALUE = ("offset = 0.5", "offset = 0.50")  # the same program too
REAL = ("offset = 0.5", "offset = 1.5")


def test_duplicates_are_recorded_with_the_originals_results_and_not_evaluated(tmp_path):
    s = run_toy(tmp_path / "a", 1, Scripted([QUOTE, SAME_VALUE, REAL]), selection="greedy",
                **{"search.confirm_seeds": 0})
    assert s.children == 1
    with Archive.open(tmp_path / "a", readonly=True) as a:
        seed = a.query("SELECT id, score FROM agents WHERE parent IS NULL")[0]
        dups = a.query("SELECT id, score, reason FROM agents WHERE status='duplicate' ORDER BY seq")
        assert len(dups) == 2
        for aid, score, reason in dups:
            assert score == seed[1] and f"same program as {seed[0]}" in reason
            assert a.query("SELECT COUNT(*) FROM evaluations WHERE agent=?", [aid]) == [(0,)]
            assert a.query("SELECT src FROM edges WHERE dst=? AND kind='duplicate'", [aid]) == [(seed[0],)]
            assert a.query("SELECT outcome, success FROM operator_outcomes WHERE agent=?",
                           [aid]) == [("duplicate", 0)]
        real = a.query("SELECT id FROM agents WHERE parent IS NOT NULL AND status != 'duplicate'")
        assert a.query("SELECT COUNT(*) FROM evaluations WHERE agent=?", [real[0][0]])[0][0] > 0
        assert a.check() == []
    # without dedup the same two programs cost two full evaluations
    run_toy(tmp_path / "b", 3, Scripted([QUOTE, SAME_VALUE, REAL]), selection="greedy",
            **{"search.dedup": False, "search.confirm_seeds": 0})
    with Archive.open(tmp_path / "b", readonly=True) as a:
        assert a.query("SELECT COUNT(*) FROM agents WHERE status='duplicate'") == [(0,)]
        assert a.query("SELECT COUNT(DISTINCT agent) FROM evaluations")[0][0] == 4


def test_a_proposer_that_only_repeats_itself_stalls_the_run_instead_of_looping(tmp_path):
    # duplicates cost no budget: without a limit this run would never end
    s = run_toy(tmp_path / "a", 1, Scripted([QUOTE]), selection="greedy", workers=1,
                **{"search.confirm_seeds": 0})
    assert s.children == 0 and s.status == "stalled" and "(duplicate)" in s.reason
    with Archive.open(tmp_path / "a", readonly=True) as a:
        n = a.query("SELECT COUNT(*) FROM agents WHERE status='duplicate'")[0][0]
        assert n == 4 * 1 + 10  # the run's limit of consecutive failures of one cause
        assert a.query("SELECT COUNT(DISTINCT agent) FROM evaluations") == [(1,)]  # the seed only
        assert a.check() == []


def test_the_precheck_turns_broken_children_away_before_any_stage(tmp_path):
    edits = [("import json", "import json\nimport no_such_module_xyz"),
             ("print(json.dumps([predict(x) for x in xs]))", "print('not json')"), REAL]
    s = run_toy(tmp_path / "a", 1, Scripted(edits), selection="greedy", **{"search.confirm_seeds": 0})
    assert s.children == 1
    with Archive.open(tmp_path / "a", readonly=True) as a:
        reasons = [r[0] for r in a.query("SELECT reason FROM proposals WHERE status='rejected' ORDER BY id")]
        assert any("pre-check failed: imports no_such_module_xyz" in r for r in reasons)
        assert any("pre-check failed: predict on one x gave no number list" in r for r in reasons)
        # no agent, hence no evaluation, for either; their operator counts a failure
        assert a.query("SELECT COUNT(*) FROM agents") == [(2,)]
        assert a.query("SELECT COUNT(DISTINCT agent) FROM evaluations") == [(2,)]
        fails = a.query("SELECT COUNT(*) FROM operator_outcomes WHERE outcome='precheck' AND success=0")
        assert fails[0][0] == 2


def test_operator_statistics_persist_across_a_resume(tmp_path):
    run_toy(tmp_path / "a", 4, **{"search.confirm_seeds": 0})
    with Archive.open(tmp_path / "a", readonly=True) as a:
        first = a.query("SELECT * FROM operator_outcomes ORDER BY agent")
        finished = a.query("SELECT COUNT(*) FROM agents WHERE parent IS NOT NULL AND status IN "
                           "('admitted', 'rejected', 'failed', 'duplicate')")[0][0]
        assert len(first) == finished >= 4
        ops = {r[0] for r in a.query("SELECT operator FROM proposal_meta WHERE agent IS NOT NULL")}
        assert ops and ops <= {"numeric", "choice", "region", "transplant", "crossover"}
        before = operator_stats(a)
    s = run_toy(tmp_path / "a", 8, **{"search.confirm_seeds": 0})  # resume: 4 more children
    assert s.children == 8
    with Archive.open(tmp_path / "a", readonly=True) as a:
        rows = a.query("SELECT * FROM operator_outcomes ORDER BY agent")
        assert set(first) <= set(rows) and len(rows) > len(first)  # kept, and extended
        after = operator_stats(a)
        assert sum(n for _, n in after.values()) == len(rows)
        assert all(after[op][1] >= n for op, (_, n) in before.items())
        # the resumed run's proposals were chosen by the bandit (recorded with the proposal)
        assert a.query("SELECT COUNT(*) FROM proposal_meta WHERE params LIKE '%\"bandit\": true%'")[0][0] >= 8


def test_the_bandit_prefers_the_operator_that_succeeds():
    stats = {"numeric": (12, 20), "choice": (1, 20), "multi": (0, 0)}
    picks = [thompson(["numeric", "choice", "multi"], stats, random.Random(i)) for i in range(2000)]
    assert picks.count("numeric") > 0.5 * 2000 > 10 * picks.count("choice")
    assert picks.count("multi") > 0  # an untried operator still gets tried
    assert picks == [thompson(["numeric", "choice", "multi"], stats, random.Random(i)) for i in range(2000)]


def _eval_gaps(path):
    with Archive.open(path, readonly=True) as a:
        ev = a.query("SELECT ts, kind, agent FROM events WHERE kind IN ('stage_started', 'stage_done') "
                     "AND agent IN (SELECT id FROM agents WHERE parent IS NOT NULL) ORDER BY seq")
    gaps, last_done, last_agent = [], None, None
    for ts, kind, agent in ev:  # the evaluator's idle time from one child to the next
        if kind == "stage_started" and last_done is not None and agent != last_agent:
            gaps.append(max(0.0, ts - last_done))
        if kind == "stage_done":
            last_done, last_agent = ts, agent
    return gaps


def test_oversubscribed_proposals_keep_the_evaluator_busy(tmp_path):
    slow = lambda: Slow(MutationProposer(), 0.5)  # noqa: E731  (like a model call)
    run_toy(tmp_path / "shared", 5, slow(), workers=1, **{"search.confirm_seeds": 0})
    run_toy(tmp_path / "over", 5, slow(), workers=1,
            **{"search.max_proposals": 4, "search.max_evaluations": 1, "search.confirm_seeds": 0})
    shared, over = _eval_gaps(tmp_path / "shared"), _eval_gaps(tmp_path / "over")
    assert len(shared) >= 3 and len(over) >= 3
    # shared slots: each evaluation waits for the next proposal (~0.5 s); oversubscribed: none
    assert statistics.median(shared) > 0.4
    assert statistics.median(over) < 0.1, over


def test_a_possible_best_is_confirmed_on_more_seeds_and_claimed_with_an_interval(tmp_path):
    run_toy(tmp_path / "a", 4, Scripted([REAL, ("slope = 1.0", "slope = 2.0")]), selection="greedy",
            **{"search.confirm_seeds": 2})
    with Archive.open(tmp_path / "a", readonly=True) as a:
        seed = a.query("SELECT id FROM agents WHERE parent IS NULL")[0][0]
        conf = a.query("SELECT agent, seed, COUNT(*) FROM confirmations GROUP BY agent, seed")
        assert {(seed, 1), (seed, 2)} <= {(r[0], r[1]) for r in conf}
        claim = a.events(kind="best_claim")
        assert len(claim) == 1
        best = claim[0]["data"]
        assert best["seeds"] == 3 and claim[0]["agent"] != seed
        lo_mean_hi = best["gain"]
        assert lo_mean_hi[1] <= lo_mean_hi[0] <= lo_mean_hi[2] and lo_mean_hi[0] > 0
        # every confirmed child was, when admitted, at least as good as the best before it
        assert all(r[1] in (1, 2) for r in conf)


def test_a_confirmation_is_evaluated_as_its_stage_was_with_the_archives_task_secret(tmp_path, monkeypatch):
    # the icl tasks follow from the archive's secret salt: a confirmation made without it
    # would score the agent on other tasks (the machine's) than its stage and its seed
    import dgm.engine.loop
    import dgm.engine.search_hooks
    seen = []
    real = dgm.engine.loop.evaluate_stage

    def recording(task):
        seen.append(task)
        return real(task)

    monkeypatch.setattr(dgm.engine.loop, "evaluate_stage", recording)
    monkeypatch.setattr(dgm.engine.search_hooks, "evaluate_stage", recording)
    run_toy(tmp_path / "a", 2, Scripted([REAL, ("slope = 1.0", "slope = 2.0")]), selection="greedy",
            **{"search.confirm_seeds": 2})
    with Archive.open(tmp_path / "a", readonly=True) as a:
        secret = a.eval_secret()
    confirms = [t for t in seen if t.seed in (1, 2)]
    assert confirms and len(seen) > len(confirms)
    assert secret and {t.secret for t in seen} == {secret}


def test_parameter_choice_learns_from_outcomes_too(tmp_path):
    from dgm.proposers.bandit import parameter_stats, thompson_top
    run_toy(tmp_path / "a", 6, seed_agent=TOY_SPACE, **{"search.confirm_seeds": 0})
    with Archive.open(tmp_path / "a", readonly=True) as a:
        stats = parameter_stats(a)
        moved = a.query("SELECT COUNT(*) FROM proposal_meta m JOIN operator_outcomes o "
                        "ON o.agent = m.agent WHERE m.operator IN ('numeric', 'choice', 'multi')")[0][0]
        assert stats and sum(n for _, n in stats.values()) >= moved > 0
    picks = [tuple(thompson_top(["slope", "offset", "damping"], {"slope": (9, 10), "damping": (0, 10)},
                                1, random.Random(i))) for i in range(1000)]
    assert picks.count(("slope",)) > 600 and picks.count(("damping",)) < 50


def test_a_duplicate_committed_just_before_a_crash_is_not_evaluated_on_resume(tmp_path):
    from dgm.archive import searchlog
    run_toy(tmp_path / "a", 1, Scripted([REAL]), selection="greedy", **{"search.confirm_seeds": 0})
    with Archive.open(tmp_path / "a") as a:  # as a crash leaves it: committed, fingerprinted
        seed = a.query("SELECT id FROM agents WHERE parent IS NULL")[0][0]
        code = a.git.read_file(a.agent(seed).commit_sha, "predict.py").decode()
        from dgm.proposers.textdiff import file_diff
        r = a.add_child(seed, file_diff("predict.py", code, code.replace(*QUOTE)), summary="quote",
                        proposer="mutation", run=a.run_info()["id"], job=99)
        fp = a.query("SELECT hash FROM fingerprints WHERE agent=?", [seed])[0][0]
        searchlog.set_fingerprint(a, r.agent_id, fp)
    s = run_toy(tmp_path / "a", 1, Scripted([REAL]), selection="greedy", **{"search.confirm_seeds": 0})
    assert s.children == 1
    with Archive.open(tmp_path / "a", readonly=True) as a:
        assert a.agent(r.agent_id).status == "duplicate"
        assert a.query("SELECT COUNT(*) FROM evaluations WHERE agent=?", [r.agent_id]) == [(0,)]
