"""Docker specifics: the warm pool, timeouts, GPU requests, internal networks, the image."""

from __future__ import annotations

import os
import re
import socket
import threading

import pytest

from dgm.errors import ConfigError
from dgm.sandbox import DockerSandbox, Limits, Mount
from dgm.sandbox.containers import Spec, create_box
from dgm.sandbox.docker import leftover_containers
from dgm.sandbox.docker_engine import docker_client

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("leaves_no_trace")]


def mine(status: str | None = None) -> list:
    return [c for c in leftover_containers(mine_only=True) if status is None or c.status == status]


def test_cold_run_removes_its_container(docker_sb):
    r = docker_sb.run(None, ["sh", "-c", "sleep 30 & echo started"], limits=Limits(seconds=20))
    assert r.exit_code == 0 and "started" in r.stdout
    assert mine() == []


def test_timeout_kills_and_removes_at_once(docker_image):
    with DockerSandbox(docker_image, pool_size=1) as sb:
        sb.prewarm(limits=Limits(seconds=1))
        r = sb.run(None, ["sleep", "60"], limits=Limits(seconds=1))
        assert r.timed_out and r.reason == "timed out after 1 s"
        assert mine("exited") == [] and mine("dead") == []  # not merely killed: removed
    assert mine() == []


def test_warm_pool_recycles_fresh_containers(docker_image, tmp_path):
    scratch = tmp_path / "s"
    scratch.mkdir()
    mounts = [Mount(scratch, "/scratch", writable=True)]
    with DockerSandbox(docker_image, pool_size=2) as sb:
        assert sb.prewarm(mounts=mounts) == 2
        first = sb.run(None, ["sh", "-c", "echo left > /tmp/trace; hostname; echo hi > /scratch/f"], mounts=mounts)
        second = sb.run(None, ["sh", "-c", "cat /tmp/trace 2>&1; hostname"], mounts=mounts)
        assert first.exit_code == 0 and (scratch / "f").read_text() == "hi\n"
        assert "No such file" in second.stdout  # nothing carries over between calls
        sb.settle()
        assert sb.idle_count() == 2 and len(mine()) == 2  # used boxes removed, replacements idle
    assert mine() == []


def test_pool_evicts_other_layouts(docker_image, tmp_path):
    with DockerSandbox(docker_image, pool_size=1) as sb:
        sb.prewarm(limits=Limits(memory_mb=256))
        sb.prewarm(limits=Limits(memory_mb=512))
        sb.settle()
        assert sb.idle_count() == 1 and len(mine()) == 1


def test_container_hardening(docker_sb):
    client = docker_client()
    spec = Spec.make(docker_sb.image, [], Limits(memory_mb=300, cpus=1, pids=50, file_size_mb=10), "none")
    from dgm.sandbox.containers import remove_box

    box = create_box(client, spec)
    try:
        hc = client.api.inspect_container(box.id)["HostConfig"]
        cfg = client.api.inspect_container(box.id)["Config"]
    finally:
        remove_box(client, box)
    assert hc["NetworkMode"] == "none" and hc["ReadonlyRootfs"] and hc["Init"]
    assert hc["CapDrop"] == ["ALL"] and "no-new-privileges" in hc["SecurityOpt"]
    assert hc["Memory"] == hc["MemorySwap"] == 300 << 20 and hc["PidsLimit"] == 50
    assert hc["NanoCpus"] == 1_000_000_000 and "/tmp" in hc["Tmpfs"]
    assert {u["Name"]: u["Hard"] for u in hc["Ulimits"]}["fsize"] == 10 << 20
    uid = int(cfg["User"].split(":")[0])  # a root engine leases a pool uid per box (uids.py)
    assert cfg["User"] == f"{uid}:{uid}" and (uid == 1000 or 100000 <= uid < 101000)
    assert any(o.startswith("seccomp=") for o in hc["SecurityOpt"])
    assert cfg["Env"] and not any("KEY" in e for e in cfg["Env"])


def test_gpu_request_reaches_the_engine(docker_sb):
    client = docker_client()
    spec = Spec.make(docker_sb.image, [], Limits(gpus=1), "none")
    if os.path.exists("/dev/nvidia0"):
        from dgm.sandbox.containers import remove_box

        box = create_box(client, spec)
        try:
            reqs = client.api.inspect_container(box.id)["HostConfig"]["DeviceRequests"]
            assert reqs and reqs[0]["Count"] == 1 and reqs[0]["Capabilities"] == [["gpu"]]
        finally:
            remove_box(client, box)
    else:  # no GPU runtime here: the engine refuses the request, and nothing is left behind
        with pytest.raises(Exception, match="(?i)gpu|device"):
            create_box(client, spec)
    assert mine() == []


def test_internal_network_reaches_only_the_gateway(docker_sb):
    client = docker_client()
    net = client.networks.create(f"dgm-test-{os.getpid()}", internal=True)
    srv = socket.socket()
    srv.bind(("0.0.0.0", 0))
    srv.listen(4)
    srv.settimeout(10)
    got = []
    t = threading.Thread(target=lambda: got.append(srv.accept()), daemon=True)
    t.start()
    try:
        gateway = client.api.inspect_network(net.id)["IPAM"]["Config"][0]["Gateway"]
        code = ("import socket,sys\nsocket.create_connection((sys.argv[1], int(sys.argv[2])), 5).close()\n"
                "try:\n socket.create_connection(('192.0.2.1', 80), 2); print('ESCAPED')\nexcept OSError as e: print('outside', e)")
        r = docker_sb.run(None, ["python3", "-c", code, gateway, str(srv.getsockname()[1])], network=net.name,
                          limits=Limits(seconds=30))
        t.join(5)
        assert r.exit_code == 0 and got and "ESCAPED" not in r.stdout, r
        with pytest.raises(ConfigError, match="not internal"):
            docker_sb.run(None, ["true"], network="bridge")
    finally:
        srv.close()
        net.remove()


def test_image_is_content_tagged_and_idempotent(docker_image):
    from dgm.sandbox.image import ensure_image

    assert re.fullmatch(r"dgm-sandbox:[0-9a-f]{12}", docker_image)
    before = docker_client().images.get(docker_image).id
    said: list[str] = []
    assert ensure_image(echo=said.append) == docker_image
    assert docker_client().images.get(docker_image).id == before and said == []  # reused, not rebuilt
    attrs = docker_client().images.get(docker_image).attrs["Config"]
    assert attrs["User"] == "1000:1000" and attrs["WorkingDir"] == "/scratch"


def test_runner_trailer_is_stripped_and_cannot_be_forged(docker_sb):
    r = docker_sb.run(None, ["sh", "-c", "echo 'deadbeef 0' >&2; printf 'no newline' >&2; exit 5"],
                      limits=Limits(seconds=30))
    assert r.exit_code == 5 and r.stderr == "deadbeef 0\nno newline"


def test_killing_the_runner_is_reported_not_hidden(docker_sb):
    r = docker_sb.run(None, ["sh", "-c", "kill -9 $PPID; sleep 30"], limits=Limits(seconds=20))
    assert not r.timed_out and r.exit_code == 137 and "SIGKILL" in r.reason
    assert mine() == []


def test_trailer_split_across_frames():
    from dgm.sandbox.containers import _Stream
    from dgm.sandbox.output import TailBuffer

    nonce = "ab" * 16
    data = b"some error output\n" + f"{nonce} 3\n".encode() + b"late"
    for cut in range(1, len(data)):
        sink = TailBuffer(1000)
        s = _Stream(sink, nonce)
        done = s.write(data[:cut]) or s.write(data[cut:])
        assert done and s.code == 3 and sink.text() == "some error output\n"


def test_no_output_is_lost_when_the_command_ends(docker_image):
    with DockerSandbox(docker_image, pool_size=2) as sb:
        sb.prewarm()
        for i in range(20):
            r = sb.run(None, ["sh", "-c", f"echo out{i}; echo err{i} >&2"], limits=Limits(seconds=30))
            assert (r.exit_code, r.stdout, r.stderr) == (0, f"out{i}\n", f"err{i}\n")
