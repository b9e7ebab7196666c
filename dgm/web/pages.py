"""HTML pages: run overview, lineage tree, agent page, code browser.

Templates are rendered with Jinja2 autoescaping: every piece of agent-provided
text (summaries, diffs, files, logs, transcripts, diagnoses) reaches the page
as text, never as markup.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from dgm.suites import tampering
from dgm.web import data


def _viewer(request: Request):
    return request.app.state.viewer


def _canonical(request: Request) -> tuple[str, Response | None]:
    """Resolve ``/agent/42`` or a prefix to the full id, redirecting to its canonical URL."""
    raw = request.path_params["agent_id"]
    aid = _viewer(request).archive.resolve_id(raw)
    if aid == raw:
        return aid, None
    url = request.url.path.replace(f"/agent/{quote(raw)}", f"/agent/{aid}", 1)
    if request.url.query:
        url += "?" + request.url.query
    return aid, RedirectResponse(url, status_code=302)


def overview(request: Request) -> Response:
    v = _viewer(request)
    a = v.archive
    recent = a.query("SELECT seq, ts, run, kind, agent, data FROM events ORDER BY seq DESC LIMIT 12")
    return v.render("overview.html", s=data.summary(a), statuses=data.STATUS_ORDER,
                    events=[dict(zip(("seq", "ts", "run", "kind", "agent", "data"), r))
                            for r in recent])


def tree(request: Request) -> Response:
    return _viewer(request).render("tree.html", statuses=data.STATUS_ORDER)


def agent(request: Request) -> Response:
    aid, redirect = _canonical(request)
    if redirect:
        return redirect
    v = _viewer(request)
    a = v.archive
    info = data.agent(a, aid)
    against = request.query_params.get("against") or None
    if against:
        against = a.resolve_id(against)
    diff_text = a.diff(aid, against)
    lines, cut = data.diff_lines(diff_text)
    for t in info["transcripts"]:
        t["text"], t["clipped"] = data.clip(t["text"])
    artifacts = [(name, *data.clip(text)) for name, text in info["artifacts"].items()]
    for g in info["stages"]:
        for task in g["tasks"]:
            task["tampering"] = tampering(task["log"])
            task["log"], task["log_clipped"] = data.clip(task["log"], 20_000)
    return v.render("agent.html", a=info["agent"], info=info, diff=lines, diff_cut=cut,
                    diff_base=against or info["agent"]["parent"], diff_size=len(diff_text),
                    artifacts=artifacts, live_url=f"/api/agents/{aid}/state")


def code(request: Request) -> Response:
    aid, redirect = _canonical(request)
    if redirect:
        return redirect
    v = _viewer(request)
    a = v.archive
    ag = a.agent(aid)
    names = data.files(a, aid)
    path = request.query_params.get("path")
    if path is None and names:
        path = next((n for n in names if n == "agent.toml"), names[0])
    current = data.read_file(a, aid, path) if path is not None else None
    lines = current["text"].splitlines() if current and current["text"] is not None else []
    return v.render("code.html", a=ag, files=names, current=current, lines=lines,
                    live_url=f"/api/agents/{aid}/state")


def raw(request: Request) -> Response:
    """One file as bytes, sandboxed: text/plain, nosniff, CSP sandbox."""
    aid, redirect = _canonical(request)
    if redirect:
        return redirect
    a = _viewer(request).archive
    path = request.path_params["path"]
    commit = a.agent(aid).commit
    if path not in set(a.git.files(commit)):
        raise data.NotFound(f"agent {aid} has no file {path!r}")
    body = a.git.read_file(commit, path)
    media = "application/octet-stream" if b"\0" in body[:8192] else "text/plain; charset=utf-8"
    return Response(body, media_type=media, headers={
        "content-security-policy": "sandbox; default-src 'none'"})


def routes() -> list[Route]:
    return [
        Route("/", overview), Route("/tree", tree), Route("/agent/{agent_id}", agent),
        Route("/agent/{agent_id}/code", code), Route("/agent/{agent_id}/raw/{path:path}", raw),
    ]
