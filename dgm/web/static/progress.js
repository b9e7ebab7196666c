// dgm viewer: the progress chart on the overview (score per agent in creation
// order, best and mean of the archive so far, the best agent's lineage).
"use strict";

(() => {
  const box = document.getElementById("progress");
  if (!box) return;
  const W = 1100, H = 360, M = {l: 52, r: 18, t: 34, b: 40};

  function ticks(lo, hi, count) {
    const span = hi - lo || 1, raw = span / count;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map(m => m * mag).find(s => s >= raw) || raw;
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(+v.toFixed(10));
    return out;
  }

  function line(pts) {
    return pts.map(([x, y], i) => `${i ? "L" : "M"}${x.toFixed(1)} ${y.toFixed(1)}`).join("");
  }

  function draw(d) {
    const pts = d.points;
    box.replaceChildren();
    if (!pts.length) { box.appendChild(DGM.el("p", {class: "muted"}, "No agents yet.")); return; }
    const scores = pts.filter(p => p.score !== null).map(p => p.score);
    // the data's range with some air, kept inside [0, 1] when the scores are (as dgm plot)
    const lo = scores.length ? scores.reduce((m, v) => Math.min(m, v)) : 0;
    const hi = scores.length ? scores.reduce((m, v) => Math.max(m, v)) : 1;
    const pad = Math.max(0.05, 0.12 * (hi - lo));
    const ylo = lo >= 0 ? Math.max(0, lo - pad) : lo - pad, yhi = hi <= 1 ? Math.min(1, hi + pad) : hi + pad;
    const xhi = Math.max(1, pts.length - 1);
    const x = i => M.l + (W - M.l - M.r) * i / xhi;
    const y = s => M.t + (H - M.t - M.b) * (1 - (s - ylo) / (yhi - ylo));
    const s = DGM.svg("svg", {viewBox: `0 0 ${W} ${H}`, class: "progress-svg", role: "img",
                              "aria-label": "Score per agent"});
    const axes = DGM.svg("g", {class: "axes"});
    for (const v of ticks(ylo, yhi, 5)) {
      axes.appendChild(DGM.svg("line", {x1: M.l, x2: W - M.r, y1: y(v), y2: y(v), class: "grid"}));
      axes.appendChild(DGM.svg("text", {x: M.l - 8, y: y(v) + 4, class: "tick y"}, v.toFixed(2)));
    }
    for (const v of ticks(0, xhi, 10).filter(v => Number.isInteger(v))) {
      axes.appendChild(DGM.svg("line", {x1: x(v), x2: x(v), y1: H - M.b, y2: H - M.b + 5, class: "axis"}));
      axes.appendChild(DGM.svg("text", {x: x(v), y: H - M.b + 18, class: "tick x"}, String(v)));
    }
    axes.appendChild(DGM.svg("line", {x1: M.l, x2: W - M.r, y1: H - M.b, y2: H - M.b, class: "axis"}));
    axes.appendChild(DGM.svg("text", {x: (M.l + W - M.r) / 2, y: H - 4, class: "axis-label"},
                             "agent, in creation order"));
    axes.appendChild(DGM.svg("text", {x: 14, y: (M.t + H - M.b) / 2, class: "axis-label",
                                      transform: `rotate(-90 14 ${(M.t + H - M.b) / 2})`}, "score"));
    s.appendChild(axes);

    const mean = pts.filter(p => p.mean !== null).map(p => [x(p.i), y(p.mean)]);
    const best = [];
    for (const p of pts.filter(p => p.best !== null)) {
      if (best.length) best.push([x(p.i), best[best.length - 1][1]]);
      best.push([x(p.i), y(p.best)]);
    }
    if (best.length) best.push([x(xhi), best[best.length - 1][1]]);
    const lineage = pts.filter(p => p.on_best && p.score !== null).map(p => [x(p.i), y(p.score)]);
    s.appendChild(DGM.svg("path", {class: "mean-line", d: line(mean)}));
    s.appendChild(DGM.svg("path", {class: "best-line", d: line(best)}));
    s.appendChild(DGM.svg("path", {class: "lineage-line", d: line(lineage)}));

    const dots = DGM.svg("g", {class: "points"});
    const byId = new Map();
    for (const p of pts) {
      byId.set(p.id, p);
      const a = DGM.svg("a", {href: `/agent/${encodeURIComponent(p.id)}`, "data-id": p.id,
                              class: `pt st-${p.status}${p.on_best ? " on-best" : ""}`});
      if (p.score === null) {
        const cx = x(p.i), cy = y(ylo) - 4;
        a.appendChild(DGM.svg("path", {d: `M${cx - 3} ${cy - 3}L${cx + 3} ${cy + 3}M${cx - 3} ${cy + 3}L${cx + 3} ${cy - 3}`,
                                       class: "no-score"}));
      } else {
        a.appendChild(DGM.svg("circle", {cx: x(p.i), cy: y(p.score), r: p.on_best ? 5 : pts.length > 400 ? 2.4 : 3.5}));
      }
      dots.appendChild(a);
    }
    s.appendChild(dots);

    const legend = DGM.svg("g", {class: "chart-legend", transform: `translate(${M.l},12)`});
    [["best-line", "best so far"], ["mean-line", "archive mean"], ["lineage-line", "best agent's lineage"]]
      .forEach(([cls, label], i) => {
        legend.appendChild(DGM.svg("line", {x1: i * 190, x2: i * 190 + 22, y1: 0, y2: 0, class: cls}));
        legend.appendChild(DGM.svg("text", {x: i * 190 + 28, y: 4}, label));
      });
    legend.appendChild(DGM.svg("circle", {cx: 3 * 190 + 6, cy: 0, r: 3.5, class: "legend-dot"}));
    legend.appendChild(DGM.svg("text", {x: 3 * 190 + 16, y: 4}, "agent (grey: rejected or failed, ×: no score)"));
    s.appendChild(legend);
    box.appendChild(s);
    const tipEl = DGM.el("div", {class: "tooltip", hidden: ""});
    box.appendChild(tipEl);
    const tip = DGM.tooltip(box, tipEl);
    dots.addEventListener("mouseover", e => {
      const a = e.target.closest("a.pt");
      if (!a) return;
      const p = byId.get(a.dataset.id);
      tip.show(e, `${p.id} · ${p.status}`, [["score", DGM.fmtScore(p.score)],
        ["best so far", DGM.fmtScore(p.best)], ["parent", p.parent || "–"], ["summary", p.summary || ""]]);
    });
    dots.addEventListener("mouseout", () => tip.hide());
    box.dataset.rendered = String(pts.length);
  }

  async function load() {
    try {
      const resp = await fetch(box.dataset.src, {cache: "no-store"});
      const body = await resp.json();
      if (!resp.ok) throw new Error(body.error || `HTTP ${resp.status}`);
      draw(body);
    } catch (err) {
      box.replaceChildren(DGM.el("p", {class: "muted"}, `could not load progress: ${err.message}`));
    }
  }
  document.addEventListener("dgm:changed", load);
  load();
})();
