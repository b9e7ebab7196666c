"""The Docker engine's own races, injected through the SDK's transport against the real engine.

A requests adapter wraps the docker client's own one: chosen calls (remove, kill,
wait, inspect) get the engine's transient answers first - 500 "is not running",
500 "removal in progress", 409, a reset connection - then reach the real engine.
``run`` must return what the command did, and nothing of this test may be left.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
import requests
from requests.adapters import BaseAdapter

from dgm.sandbox import DockerSandbox, Limits
from dgm.sandbox.docker import leftover_containers
from dgm.sandbox.docker_calls import REAPER

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("leaves_no_trace")]


@dataclass
class Rule:
    method: str
    path: str  # regex on the URL path
    times: int
    status: int = 500
    message: str = ""
    reset: bool = False
    skip: int = 0  # let this many matching requests through first
    hits: int = 0
    seen: int = 0


class FlakyEngine(BaseAdapter):
    """Answers matching requests with a scripted failure ``times`` times, then passes them on."""

    def __init__(self, inner: BaseAdapter, rules: list[Rule]):
        super().__init__()
        self.inner, self.rules = inner, rules

    def send(self, request, **kwargs):
        path = request.path_url.split("?", 1)[0]
        for rule in self.rules:
            if rule.method == request.method and re.search(rule.path, path) and rule.hits < rule.times:
                rule.seen += 1
                if rule.seen <= rule.skip:
                    continue
                rule.hits += 1
                if rule.reset:
                    raise requests.exceptions.ConnectionError("('Connection aborted.', "
                                                              "ConnectionResetError(104, 'Connection reset by peer'))")
                r = requests.models.Response()
                r.status_code, r.reason, r.url, r.request = rule.status, "injected", request.url, request
                r.headers["Content-Type"] = "application/json"
                r._content = json.dumps({"message": rule.message}).encode()
                return r
        return self.inner.send(request, **kwargs)

    def close(self):
        self.inner.close()


def flaky_client(rules: list[Rule]):
    import docker

    client = docker.from_env(timeout=120)
    inner = client.api.get_adapter(client.api.base_url + "/")
    client.api.mount("http+docker://", FlakyEngine(inner, rules))
    return client


CID = r"/containers/[0-9a-f]{64}"


def test_removal_races_never_lose_the_result(docker_image):
    rules = [Rule("DELETE", CID + "$", 2, 500, "Could not kill running container x, cannot "
                  "remove - container x is not running"),
             Rule("DELETE", CID + "$", 3, 409, "removal of container x is already in progress"),
             Rule("GET", CID + "/json$", 1, reset=True, skip=1)]  # the inspect after start
    client = flaky_client(rules)
    with DockerSandbox(docker_image, client=client) as sb:
        r = sb.run(None, ["sh", "-c", "echo hi; exit 3"], limits=Limits(seconds=30))
        assert (r.exit_code, r.stdout) == (3, "hi\n"), r
        sb.settle()
        assert leftover_containers(mine_only=True) == []
    assert [rule.hits for rule in rules] == [2, 3, 1]  # every injected answer was given


def test_a_removal_that_keeps_failing_is_finished_by_the_reaper(docker_image):
    rule = Rule("DELETE", CID + "$", 9, 500, "removal of container x is already in progress")
    client = flaky_client([rule])
    with DockerSandbox(docker_image, client=client) as sb:
        r = sb.run(None, ["echo", "kept"], limits=Limits(seconds=30))
        assert r.exit_code == 0 and r.stdout == "kept\n", r  # the result came back first
        assert REAPER.drain(60)
        assert rule.hits == 9
        assert leftover_containers(mine_only=True) == []


def test_a_kill_answered_is_not_running_and_a_wait_reset_are_done(docker_image):
    rules = [Rule("POST", CID + "/kill$", 3, 500, "Cannot kill container x: container x is not running"),
             Rule("POST", CID + "/wait$", 2, reset=True)]
    client = flaky_client(rules)
    with DockerSandbox(docker_image, client=client) as sb:
        r = sb.run(None, ["sleep", "30"], limits=Limits(seconds=1))
        assert r.timed_out, r
        sb.settle()
        assert leftover_containers(mine_only=True) == []


def test_an_answer_lost_at_creation_leaves_no_container(docker_image):
    """The engine creates the container but the reply is lost: the call fails as an engine
    fault (the loop retries it), and the container it never heard of is removed."""
    from dgm.faults import classify

    client = flaky_client([])
    made: list[str] = []
    real_create = client.api.create_container

    def create_then_lose(*a, **kw):  # the engine did it; the answer never arrives
        made.append(real_create(*a, **kw)["Id"])
        raise requests.exceptions.ConnectionError("Connection reset by peer")

    client.api.create_container = create_then_lose
    with DockerSandbox(docker_image, client=client) as sb:
        with pytest.raises(requests.exceptions.ConnectionError) as info:
            sb.run(None, ["true"])
        assert classify(info.value).cause == "engine" and len(made) == 1
        sb.settle()
        assert leftover_containers(mine_only=True) == []


def test_a_foreign_container_on_the_same_engine_is_neither_counted_nor_touched(docker_image):
    import docker

    client = docker.from_env()
    foreign = client.containers.run(docker_image, ["sleep", "60"], detach=True,
                                    labels={"dgm.sandbox": "1", "dgm.sandbox.owner": "1-foreign"})
    try:
        with DockerSandbox(docker_image) as sb:
            assert sb.run(None, ["true"]).exit_code == 0
            sb.settle()
            assert leftover_containers(mine_only=True) == []
        foreign.reload()
        assert foreign.status == "running"
    finally:
        foreign.remove(force=True)
