"""The viewer's JSON API under /api (read-only; errors are ``{"error": "..."}``)."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from dgm.errors import DgmError
from dgm.web import data

ENDPOINTS = {
    "/api/version": "a token that changes whenever the archive does (cheap; for live pages)",
    "/api/summary": "counts by status, best agent, cost, runs and budgets, version",
    "/api/tree": "every agent with layout position, status, score; best path",
    "/api/progress": "per agent in creation order: score, best and mean so far, best lineage",
    "/api/agents?status=S&limit=N&offset=M": "agent rows",
    "/api/agents/{id}": "everything recorded about one agent",
    "/api/agents/{id}/state": "status, score and a version token (cheap; for live pages)",
    "/api/agents/{id}/evaluations": "per-task results grouped by suite and stage",
    "/api/agents/{id}/diff?against=ID": "unified diff against its parent (or another agent)",
    "/api/agents/{id}/files": "the agent's file list",
    "/api/agents/{id}/files/{path}": "one file's text",
    "/api/events?after=SEQ&limit=N&kind=K&run=R": "the run journal",
    "/api/runs": "runs with budgets and spend",
}


class BadRequest(DgmError):
    """A malformed query parameter."""


def _int(request: Request, name: str, default: int, lo: int = 0, hi: int = 100_000) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"query parameter {name!r} must be an integer, not {raw!r}") from None
    if not lo <= value <= hi:
        raise BadRequest(f"query parameter {name!r} must be between {lo} and {hi}")
    return value


def _archive(request: Request):
    return request.app.state.viewer.archive


def _agent_id(request: Request) -> str:
    return _archive(request).resolve_id(request.path_params["agent_id"])


def index(request: Request) -> JSONResponse:
    return JSONResponse({"endpoints": ENDPOINTS})


def version(request: Request) -> JSONResponse:
    return JSONResponse({"version": data.version(_archive(request))})


def summary(request: Request) -> JSONResponse:
    return JSONResponse(data.summary(_archive(request)))


def tree(request: Request) -> JSONResponse:
    return JSONResponse(request.app.state.viewer.cached("tree", data.tree))


def progress(request: Request) -> JSONResponse:
    return JSONResponse(request.app.state.viewer.cached("progress", data.progress))


def runs(request: Request) -> JSONResponse:
    return JSONResponse({"runs": data.runs(_archive(request))})


def agents(request: Request) -> JSONResponse:
    a = _archive(request)
    status = request.query_params.get("status")
    if status is not None and status not in data.STATUS_ORDER:
        raise BadRequest(f"unknown status {status!r}; use one of {', '.join(data.STATUS_ORDER)}")
    limit, offset = _int(request, "limit", 1000, 1), _int(request, "offset", 0, 0, 10**9)
    rows = a.agents(status)
    return JSONResponse({"total": len(rows), "agents": [
        {k: getattr(r, k) for k in ("id", "parent", "status", "reason", "score", "proposer",
                                    "generation", "depth", "summary", "created", "updated")}
        for r in rows[offset:offset + limit]]})


def agent(request: Request) -> JSONResponse:
    return JSONResponse(data.agent(_archive(request), _agent_id(request)))


def agent_state(request: Request) -> JSONResponse:
    a = _archive(request)
    aid = _agent_id(request)
    ag = a.agent(aid)
    counts = a.query("SELECT (SELECT COUNT(*) FROM agents WHERE parent=?), "
                     "(SELECT COUNT(*) FROM evaluations WHERE agent=?), "
                     "(SELECT COUNT(*) FROM transcripts WHERE agent=?), "
                     "(SELECT COUNT(*) FROM proposals WHERE parent=?), "
                     "(SELECT COUNT(*) FROM events WHERE agent=?)", [aid] * 5)[0]
    return JSONResponse({"id": aid, "status": ag.status, "score": ag.score,
                         "version": f"{ag.status}-{ag.updated}-" + "-".join(map(str, counts))})


def evaluations(request: Request) -> JSONResponse:
    aid = _agent_id(request)
    a = _archive(request)
    return JSONResponse({"id": aid, "stages": data.with_stage_records(
        data.evaluation_groups(a.evaluations(aid)), a.artifacts(aid))})


def diff(request: Request) -> JSONResponse:
    a = _archive(request)
    aid = _agent_id(request)
    against = request.query_params.get("against")
    against = a.resolve_id(against) if against else None
    base = against or a.agent(aid).parent
    return JSONResponse({"id": aid, "against": base, "diff": a.diff(aid, against)})


def files(request: Request) -> JSONResponse:
    aid = _agent_id(request)
    return JSONResponse({"id": aid, "files": data.files(_archive(request), aid)})


def file(request: Request) -> JSONResponse:
    aid = _agent_id(request)
    return JSONResponse({"id": aid} | data.read_file(_archive(request), aid,
                                                     request.path_params["path"]))


def events(request: Request) -> JSONResponse:
    a = _archive(request)
    after, limit = _int(request, "after", 0, 0, 2**62), _int(request, "limit", 500, 1, 10_000)
    where: list[str] = ["seq > ?"]
    params: list[int | str] = [after]
    for key in ("kind", "run"):
        if (v := request.query_params.get(key)) is not None:
            where.append(f"{key} = ?")
            params.append(v)
    rows = a.query("SELECT seq, ts, run, kind, agent, data FROM events WHERE "
                   + " AND ".join(where) + " ORDER BY seq LIMIT ?", params + [limit])
    return JSONResponse({"events": [
        {"seq": s, "ts": ts, "run": r, "kind": k, "agent": ag, "data": _json(d)}
        for s, ts, r, k, ag, d in rows]})


def _json(text: str | None) -> object:
    try:
        return json.loads(text or "{}")
    except ValueError:
        return text


def routes() -> list[Route]:
    return [
        Route("/", index), Route("/version", version), Route("/summary", summary), Route("/tree", tree),
        Route("/progress", progress), Route("/runs", runs), Route("/events", events),
        Route("/agents", agents), Route("/agents/{agent_id}", agent),
        Route("/agents/{agent_id}/state", agent_state),
        Route("/agents/{agent_id}/evaluations", evaluations),
        Route("/agents/{agent_id}/diff", diff), Route("/agents/{agent_id}/files", files),
        Route("/agents/{agent_id}/files/{path:path}", file),
    ]
