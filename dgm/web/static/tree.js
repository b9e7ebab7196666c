// dgm viewer: the lineage tree. Positions come from the server (/api/tree);
// this draws them as SVG with pan, zoom, status filters, colour by score and
// the best path, and redraws in place when the archive changes.
"use strict";

(() => {
  const wrap = document.getElementById("tree-wrap");
  const svgEl = document.getElementById("tree");
  if (!wrap || !svgEl) return;
  const tip = DGM.tooltip(wrap, document.getElementById("tooltip"));
  const info = document.getElementById("tree-info");
  const DX = 24, DY = 64;
  const vp = DGM.svg("g", {id: "viewport"});
  svgEl.appendChild(vp);
  let data = null, byId = new Map(), marks = [], edgePaths = [], bestPath = null, extraPath = null;
  // Each axis has its own scale: a wide, shallow archive still fills the height.
  // zoom s drives both; an axis never shrinks below its fitted scale.
  let s = 1, fitX = 1, fitY = 1, tx = 0, ty = 0, fitted = false, colourBy = "score";
  let placedX = 1, placedY = 1;
  const kx = () => Math.max(s, fitX), ky = () => Math.max(s, fitY);
  const X = n => n.x * DX * kx(), Y = n => n.y * DY * ky();
  const elbow = (p, c) => `M${X(p)} ${Y(p)}V${(Y(p) + Y(c)) / 2}H${X(c)}V${Y(c)}`;

  function colour(n) {
    if (colourBy === "status") return DGM.STATUS_COLOURS[n.status] || DGM.NO_SCORE;
    return DGM.scoreColour(n.score, data.score_range[0], data.score_range[1]);
  }

  function render() {
    vp.replaceChildren();
    byId = new Map(data.nodes.map(n => [n.id, n]));
    const best = new Set(data.best_path);
    const statuses = [...new Set(data.nodes.map(n => n.status))];
    const edges = DGM.svg("g", {class: "edges"});
    edgePaths = statuses.map(st => {
      const p = DGM.svg("path", {class: `edge st-${st}`});
      edges.appendChild(p);
      return [st, p];
    });
    extraPath = DGM.svg("path", {class: "extra-edge"});
    bestPath = DGM.svg("path", {class: "best-path"});
    edges.append(extraPath, bestPath);
    const nodes = DGM.svg("g", {class: "nodes"});
    marks = [];
    for (const n of data.nodes) {
      const a = DGM.svg("a", {href: `/agent/${encodeURIComponent(n.id)}`,
                              class: `node st-${n.status}${best.has(n.id) ? " on-best" : ""}`,
                              "data-id": n.id});
      const c = DGM.svg("circle", {fill: colour(n)});
      const t = DGM.svg("text", {class: "label"}, n.id.replace(/^0+(?=.)/, ""));
      a.append(c, t);
      nodes.appendChild(a);
      marks.push([c, t, n]);
    }
    vp.append(edges, nodes);
    for (const st of Object.keys(DGM.STATUS_COLOURS)) {
      const span = document.querySelector(`[data-count="${st}"]`);
      if (span) span.textContent = data.statuses[st] || 0;
    }
    const last = byId.get(data.best_path[data.best_path.length - 1]);
    info.textContent = `${data.nodes.length} agents · depth ${data.levels - 1}` +
      (last ? ` · best ${last.id} (${DGM.fmtScore(last.score)})` : " · no admitted score yet");
    legend();
    if (!fitted) { fit(); fitted = true; } else { place(); pan(); }
  }

  // Positions depend on the zoom, so zooming re-places; panning only translates.
  function place() {
    const started = performance.now();
    placedX = kx();
    placedY = ky();
    const gap = DX * kx(), r = Math.min(7, Math.max(2.5, gap * 0.3)), labels = gap >= 26;
    for (const [c, t, n] of marks) {
      const x = X(n), y = Y(n);
      c.setAttribute("cx", x); c.setAttribute("cy", y); c.setAttribute("r", r);
      if (labels) { t.setAttribute("x", x + r + 2); t.setAttribute("y", y + r + 9); }
    }
    const parts = new Map(edgePaths.map(([st]) => [st, []]));
    for (const n of data.nodes) {
      const p = n.parent !== null ? byId.get(n.parent) : undefined;
      if (p) parts.get(n.status).push(elbow(p, n));
    }
    for (const [st, path] of edgePaths) path.setAttribute("d", parts.get(st).join(""));
    extraPath.setAttribute("d", data.extra_edges.map(e => [byId.get(e.src), byId.get(e.dst)])
      .filter(([a, b]) => a && b)
      .map(([a, b]) => `M${X(a)} ${Y(a)}Q${(X(a) + X(b)) / 2} ${Math.min(Y(a), Y(b)) - DY * ky() / 2} ${X(b)} ${Y(b)}`)
      .join(""));
    const path = data.best_path.map(id => byId.get(id)).filter(Boolean);
    bestPath.setAttribute("d", path.slice(1).map((n, i) => elbow(path[i], n)).join(""));
    svgEl.classList.toggle("show-labels", labels);  // hidden labels are not even placed
    svgEl.dataset.placeMs = (performance.now() - started).toFixed(1);
  }

  // Until the next place(), a zoom is shown by scaling what was placed last.
  function pan() {
    const sx = kx() / placedX, sy = ky() / placedY;
    vp.setAttribute("transform", `translate(${tx},${ty})` +
      (Math.abs(sx - 1) > 1e-9 || Math.abs(sy - 1) > 1e-9 ? ` scale(${sx},${sy})` : ""));
  }

  // Wheel zoom: scale at once (cheap at any size), re-place when the wheel rests.
  let settle = null;
  function zoomTo(ns, mx, my) {
    const ox = kx(), oy = ky();
    s = Math.min(12, Math.max(Math.min(fitX, fitY) / 4, ns));
    tx = mx - (mx - tx) * kx() / ox;
    ty = my - (my - ty) * ky() / oy;
    pan();
    clearTimeout(settle);
    settle = setTimeout(() => { place(); pan(); }, 90);
  }

  function legend() {
    const box = document.getElementById("legend");
    box.replaceChildren();
    if (colourBy === "status") {
      for (const [st, c] of Object.entries(DGM.STATUS_COLOURS)) {
        const sw = DGM.svg("svg", {width: 12, height: 12, class: "swatch"});
        sw.appendChild(DGM.svg("circle", {cx: 6, cy: 6, r: 5, fill: c}));
        box.append(sw, DGM.el("span", {class: "legend-label"}, st));
      }
      return;
    }
    const [lo, hi] = data.score_range;
    const bar = DGM.svg("svg", {width: 120, height: 12, class: "gradient"});
    for (let i = 0; i < 24; i++) {
      bar.appendChild(DGM.svg("rect", {x: i * 5, y: 0, width: 5.5, height: 12,
                                       fill: DGM.scoreColour(lo + (hi - lo) * i / 23, lo, hi)}));
    }
    box.append(DGM.el("span", {class: "legend-label"}, DGM.fmtScore(lo)), bar,
               DGM.el("span", {class: "legend-label"}, DGM.fmtScore(hi)));
    const none = DGM.svg("svg", {width: 12, height: 12, class: "swatch"});
    none.appendChild(DGM.svg("circle", {cx: 6, cy: 6, r: 5, fill: DGM.NO_SCORE}));
    box.append(none, DGM.el("span", {class: "legend-label"}, "no score"));
  }

  function fit() {
    const w = svgEl.clientWidth, h = svgEl.clientHeight, pad = 40;
    const width = Math.max(1, (data.width - 1) * DX), height = Math.max(1, (data.levels - 1) * DY);
    fitX = Math.min(4, (w - 2 * pad) / width);
    fitY = Math.min(2, (h - 2 * pad) / height);
    s = Math.min(fitX, fitY);
    tx = (w - width * kx()) / 2;
    ty = (h - height * ky()) / 2;
    place();
    pan();
  }

  function centreOn(n, zoom) {
    s = Math.max(s, zoom);
    place();
    tx = svgEl.clientWidth / 2 - X(n);
    ty = svgEl.clientHeight / 2 - Y(n);
    pan();
    const a = vp.querySelector(`a[data-id="${CSS.escape(n.id)}"]`);
    if (a) { a.classList.remove("found"); void a.getBBox(); a.classList.add("found"); }
  }

  svgEl.addEventListener("wheel", e => {
    e.preventDefault();
    if (!data) return;
    const r = svgEl.getBoundingClientRect();
    zoomTo(s * Math.exp(-e.deltaY * 0.0015), e.clientX - r.left, e.clientY - r.top);
  }, {passive: false});

  let drag = null, dragged = false;
  svgEl.addEventListener("pointerdown", e => {
    if (e.button !== 0) return;
    drag = {x: e.clientX, y: e.clientY, tx, ty};
    dragged = false;
  });
  window.addEventListener("pointermove", e => {
    if (!drag) return;
    const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (!dragged && Math.hypot(dx, dy) < 4) return;
    dragged = true;
    svgEl.classList.add("dragging");
    tx = drag.tx + dx;
    ty = drag.ty + dy;
    pan();
  });
  window.addEventListener("pointerup", () => { drag = null; svgEl.classList.remove("dragging"); });
  svgEl.addEventListener("click", e => {  // a drag that ends on a node is not a click
    if (dragged) { e.preventDefault(); e.stopPropagation(); dragged = false; }
  }, true);

  vp.addEventListener("mouseover", e => {
    const a = e.target.closest("a.node");
    if (!a) return;
    const n = byId.get(a.dataset.id);
    tip.show(e, `${n.id} · ${n.status}`, [["score", DGM.fmtScore(n.score)],
      ["proposer", n.proposer || "–"], ["children", String(n.children)], ["tasks", String(n.tasks)],
      ["summary", n.summary || ""]]);
  });
  vp.addEventListener("mouseout", e => { if (e.target.closest("a.node")) tip.hide(); });

  document.querySelectorAll("#status-filter input").forEach(box => box.addEventListener("change", () => {
    svgEl.classList.toggle(`hide-${box.value}`, !box.checked);
  }));
  document.getElementById("show-extra").addEventListener("change", e => {
    svgEl.classList.toggle("hide-extra", !e.target.checked);
  });
  document.getElementById("colour-by").addEventListener("change", e => {
    colourBy = e.target.value;
    for (const [c, , n] of marks) c.setAttribute("fill", colour(n));
    legend();
  });
  document.getElementById("fit").addEventListener("click", () => data && fit());
  document.getElementById("zoom-best").addEventListener("click", () => {
    const id = data && data.best_path[data.best_path.length - 1];
    if (id) centreOn(byId.get(id), 1.2);
  });
  document.getElementById("find").addEventListener("submit", e => {
    e.preventDefault();
    const q = document.getElementById("find-id").value.trim();
    const n = byId.get(q) || byId.get(q.padStart(6, "0"));
    if (n) centreOn(n, 1.2);
    else info.textContent = `no agent ${q}`;
  });

  async function load() {
    try {
      const resp = await fetch(wrap.dataset.src, {cache: "no-store"});
      const body = await resp.json();
      if (!resp.ok) throw new Error(body.error || `HTTP ${resp.status}`);
      data = body;
      render();
      svgEl.dataset.rendered = String(data.nodes.length);
    } catch (err) {
      info.textContent = `could not load the tree: ${err.message}`;
    }
  }
  document.addEventListener("dgm:changed", load);
  load();
})();
