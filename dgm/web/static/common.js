// dgm viewer: helpers shared by every page, and live following of the archive.
// Agent-provided text only ever reaches the page through textContent.
"use strict";

const DGM = (() => {
  const NS = "http://www.w3.org/2000/svg";
  // viridis, sampled at ten stops (matplotlib's map, so the PNG plots agree).
  const VIRIDIS = ["#440154", "#482878", "#3e4989", "#31688e", "#26828e",
                   "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725"];
  const STATUS_COLOURS = {admitted: "#2e7d32", evaluating: "#f9a825", proposed: "#78909c",
                          rejected: "#c62828", failed: "#6d4c41"};
  const NO_SCORE = "#c3c8cf";

  function rgb(hex) {
    const v = parseInt(hex.slice(1), 16);
    return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
  }

  function scoreColour(score, lo, hi) {
    if (score === null || score === undefined) return NO_SCORE;
    let t = hi > lo ? (score - lo) / (hi - lo) : 1;
    t = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
    const i = Math.min(VIRIDIS.length - 2, Math.floor(t));
    const a = rgb(VIRIDIS[i]), b = rgb(VIRIDIS[i + 1]), f = t - i;
    const c = a.map((v, j) => Math.round(v + (b[j] - v) * f));
    return `rgb(${c[0]},${c[1]},${c[2]})`;
  }

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function svg(tag, attrs, text) {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function fmtScore(s) {
    return s === null || s === undefined ? "–" : s.toFixed(3);
  }

  // A tooltip div inside `box` (positioned relative to it); lines are [label, text] pairs.
  function tooltip(box, tip) {
    return {
      show(evt, title, lines) {
        tip.replaceChildren(el("div", {class: "tt-title"}, title));
        for (const [k, v] of lines) {
          const row = el("div", {class: "tt-row"});
          row.append(el("span", {class: "tt-key"}, k), el("span", {}, v));
          tip.appendChild(row);
        }
        tip.hidden = false;
        const r = box.getBoundingClientRect();
        let x = evt.clientX - r.left + 14, y = evt.clientY - r.top + 14;
        if (x + tip.offsetWidth > r.width) x = Math.max(0, evt.clientX - r.left - tip.offsetWidth - 14);
        if (y + tip.offsetHeight > r.height) y = Math.max(0, evt.clientY - r.top - tip.offsetHeight - 14);
        tip.style.left = `${x}px`;
        tip.style.top = `${y}px`;
      },
      hide() { tip.hidden = true; },
    };
  }

  // Replace every [data-live][id] region with its fresh server rendering,
  // keeping which <details> the reader opened or closed.
  async function refreshRegions() {
    const regions = document.querySelectorAll("[data-live][id]");
    if (!regions.length) return;
    const resp = await fetch(location.href, {headers: {Accept: "text/html"}, cache: "no-store"});
    if (!resp.ok) return;
    const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
    for (const old of regions) {
      const fresh = doc.getElementById(old.id);
      if (!fresh) continue;
      const was = [...old.querySelectorAll("details")].map(d => d.open);
      const now = [...fresh.querySelectorAll("details")];
      if (was.length === now.length) now.forEach((d, i) => { d.open = was[i]; });
      old.replaceWith(document.importNode(fresh, true));
    }
  }

  // Poll the page's live URL; on a new version, refresh regions and tell the page.
  function follow() {
    const url = document.body.dataset.liveUrl;
    const period = 1000 * parseFloat(document.body.dataset.poll || "3");
    const badge = document.getElementById("live");
    if (!url || !(period > 0)) {
      if (badge) { badge.textContent = "live updates off"; badge.title = "dgm serve --poll 0"; }
      return;
    }
    let version = null;
    async function tick() {
      try {
        const resp = await fetch(url, {cache: "no-store"});
        if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
        const v = (await resp.json()).version;
        if (badge) { badge.className = "live on"; badge.title = `checked ${new Date().toLocaleTimeString()}`; }
        if (version !== null && v !== version) {
          await refreshRegions();
          document.dispatchEvent(new CustomEvent("dgm:changed", {detail: {version: v}}));
        }
        version = v;
      } catch (err) {
        if (badge) { badge.className = "live off"; badge.title = `archive unreachable: ${err.message}`; }
      }
      setTimeout(tick, period);
    }
    tick();
  }

  document.addEventListener("DOMContentLoaded", follow);
  return {NS, VIRIDIS, STATUS_COLOURS, NO_SCORE, scoreColour, el, svg, fmtScore, tooltip};
})();
