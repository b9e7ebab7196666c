"""Search-space moves for small models: the menu, the schema, the checks, the focused proposer.

The model is the only stand-in here (a scripted ``access`` answering in turn); the
menu, the writes and the diff are the real ones, on a copy of the meta-learner seed.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

from dgm.proposers import spacemoves
from dgm.proposers.base import ProposalRejected, ProposeContext, Usage
from dgm.proposers.edits import EditError
from dgm.proposers.focused import choose_question
from dgm.proposers.llm import LLMProposer, LLMProposerConfig
from dgm.proposers.searchspace import load_space

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def seed(tmp_path) -> Path:
    dest = tmp_path / "parent"
    shutil.copytree(ROOT / "agents" / "metalearner", dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def test_every_offered_value_is_a_valid_point_and_inactive_parameters_are_not_offered(seed):
    m = spacemoves.menu(seed)
    assert m is not None and m.offers
    for name, vals in m.offers.items():
        assert m.values[name] not in vals.values()
        for v in vals.values():
            assert m.space.violation({**m.values, name: v}) is None, (name, v)
    assert "weight_decay" in m.offers and "adam_eps" in m.offers
    cfg = seed / "config.py"
    cfg.write_text(cfg.read_text().replace('optimizer = "adamw"', 'optimizer = "sgd"'))
    m = spacemoves.menu(seed)
    assert "weight_decay" not in m.offers and "adam_eps" not in m.offers  # `when` is false
    assert all(f"- {n} = " in m.listing() for n in m.offers)


def test_a_listed_move_writes_only_that_literal(seed):
    m = spacemoves.menu(seed)
    new_lr = next(iter(m.offers["lr"]))
    new, applied, errors = spacemoves.apply(m, [("lr", new_lr)])
    assert errors == [] and applied == [f"lr = {new_lr}"] and set(new) == {"config.py"}
    old_lines, new_lines = m.files["config.py"].splitlines(), new["config.py"].splitlines()
    changed = [(a, b) for a, b in zip(old_lines, new_lines) if a != b]
    assert len(old_lines) == len(new_lines) and len(changed) == 1
    assert changed[0][1] == changed[0][0].replace("1e-3", new_lr)
    space = load_space(seed)
    assert space.read(new)["lr"] == m.offers["lr"][new_lr]
    assert (seed / "config.py").read_text() == m.files["config.py"]  # nothing written


def test_bad_answers_are_errors_the_model_sees(seed):
    m = spacemoves.menu(seed)
    for changes, why in (([("lr", "0.5")], "not a listed new value"),
                         ([("nope", "1")], "not a parameter on the list"),
                         ([("lr", "0.002"), ("lr", "0.0005")], "changed twice"),
                         # each valid alone, together d_ff < d_model // 2
                         ([("d_model", "256"), ("d_ff", "64")], "constraint `d_ff >= d_model // 2`")):
        new, _, errors = spacemoves.apply(m, changes)
        assert new == {} and len(errors) == 1 and why in errors[0], (changes, errors)
    for text, why in (("not json", "not valid JSON"), ('{"changes": []}', "non-empty"),
                      ('{"changes": [{"parameter": "lr", "value": 0.002}]}', "string fields")):
        with pytest.raises(EditError, match=why):
            spacemoves.parse_answer(text)


def test_the_order_is_shuffled_so_a_small_model_does_not_always_pick_the_first_entry(seed):
    firsts = {next(iter(spacemoves.menu(seed, random.Random(i)).offers)) for i in range(20)}
    assert len(firsts) > 5
    a, b = spacemoves.menu(seed, random.Random(1)), spacemoves.menu(seed)
    assert a.offers == b.offers  # the same moves, in another order


def test_the_schema_admits_exactly_the_menu(seed):
    m = spacemoves.menu(seed)
    schema = spacemoves.answer_schema(m, 2)
    alts = schema["properties"]["changes"]["items"]["anyOf"]
    assert {a["properties"]["parameter"]["const"]: a["properties"]["value"]["enum"] for a in alts} \
        == {n: list(v) for n, v in m.offers.items()}
    assert schema["properties"]["changes"]["maxItems"] == 2
    json.dumps(spacemoves.response_format(m))  # serialisable as the request's response_format


def test_no_menu_without_a_usable_space(seed, tmp_path):
    (seed / "search.toml").write_text("not = [valid toml")
    assert spacemoves.menu(seed) is None
    other = tmp_path / "linked"
    shutil.copytree(ROOT / "agents" / "metalearner", other, ignore=shutil.ignore_patterns("__pycache__"))
    outside = tmp_path / "outside.py"
    outside.write_text((other / "config.py").read_text())
    (other / "config.py").unlink()
    (other / "config.py").symlink_to(outside)  # the host never reads or writes through a link
    assert spacemoves.menu(other) is None
    assert spacemoves.menu(tmp_path / "missing") is None
    bad = tmp_path / "bad-constraint"
    shutil.copytree(ROOT / "agents" / "metalearner", bad, ignore=shutil.ignore_patterns("__pycache__"))
    toml = bad / "search.toml"
    toml.write_text(toml.read_text().replace('"d_model % n_heads == 0",', '"len(d_model) > 0",'))
    assert spacemoves.menu(bad) is None  # an expression constraints cannot hold: no menu, no crash
    big = tmp_path / "big"
    shutil.copytree(ROOT / "agents" / "metalearner", big, ignore=shutil.ignore_patterns("__pycache__"))
    with (big / "config.py").open("a") as f:
        f.write("#" * spacemoves.MAX_FILE_BYTES + "\n")
    assert spacemoves.menu(big) is None  # not read at all


class _ScriptedModel:
    """Stands in for the model behind the gateway: answers in turn, records the requests."""

    def __init__(self, answers: list[str]):
        self.answers = list(answers)
        self.requests: list[dict] = []

    def chat(self, label, purpose, messages, **params):
        self.requests.append({"messages": messages, **params})
        from types import SimpleNamespace
        return SimpleNamespace(text=self.answers.pop(0), finish_reason="stop")

    def usage(self, label):
        return Usage(model="scripted", prompt_tokens=10, completion_tokens=5)

    def model(self, purpose):
        return "scripted"


def _ctx(seed: Path, tmp_path: Path, rng_seed: int = 0) -> ProposeContext:
    (tmp_path / "work").mkdir(exist_ok=True)
    return ProposeContext(parent_id="000000", parent_dir=seed, rng=random.Random(rng_seed),
                          archive=None, work_dir=tmp_path / "work")


def test_the_focused_proposer_asks_a_space_move_retries_once_and_commits_the_diff(seed, tmp_path):
    bad = json.dumps({"changes": [{"parameter": "lr", "value": "9"}], "summary": "a bad value"})
    good = json.dumps({"changes": [{"parameter": "activation", "value": "'silu'"}],
                       "summary": "try silu activation"})
    model = _ScriptedModel([bad, good])
    proposer = LLMProposer(model, LLMProposerConfig(focused=True, space_share=1.0, max_edits=1))
    prop = proposer.propose(_ctx(seed, tmp_path))
    assert prop.meta["question"] == "space" and prop.meta["attempts"] == 2
    assert prop.summary == "activation = 'silu': try silu activation"
    assert '-activation = "gelu"' in prop.diff and '+activation = "silu"' in prop.diff
    assert prop.diff.count("\n+") == 1 + 1  # the +++ header and the one changed line
    first, retry = model.requests
    assert first["response_format"]["json_schema"]["name"] == "moves"
    assert "activation = 'gelu'" in first["messages"][1]["content"]
    assert "'9' is not a listed new value of lr" in retry["messages"][-1]["content"]


def test_a_second_bad_answer_is_a_rejection_with_the_answer(seed, tmp_path):
    bad = json.dumps({"changes": [{"parameter": "lr", "value": "9"}], "summary": "a bad value"})
    proposer = LLMProposer(_ScriptedModel([bad, bad]),
                           LLMProposerConfig(focused=True, space_share=1.0, max_edits=1))
    with pytest.raises(ProposalRejected) as exc:
        proposer.propose(_ctx(seed, tmp_path))
    assert "edits rejected after one retry" in exc.value.reason and "last answer:" in exc.value.reason


def test_space_share_splits_the_questions_and_falls_back_to_code_edits(seed, tmp_path):
    cfg = LLMProposerConfig(focused=True, space_share=0.75)
    kinds = [choose_question(_ctx(seed, tmp_path, i), cfg).kind for i in range(200)]
    assert 0.6 < kinds.count("space") / len(kinds) < 0.9
    cfg0 = LLMProposerConfig(focused=True, space_share=0.0)
    assert {choose_question(_ctx(seed, tmp_path, i), cfg0).kind for i in range(20)} == {"code"}
    (seed / "search.toml").unlink()  # no space: every question is a code edit
    assert {choose_question(_ctx(seed, tmp_path, i), cfg).kind for i in range(20)} == {"code"}
