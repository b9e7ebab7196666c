"""Per-task baselines fitted on each task's context only, cached on disk.

chance (a uniform guess among the context's labels), majority (the context's
most frequent label), 1-NN, distance-weighted 5-NN, nearest centroid,
linear discriminant analysis (shrinkage, lsqr) and logistic regression (C=1,
lbfgs). ``REFERENCES`` are the rows every agent is shown beside, scored with
the agent's own formula (scoring.task_score). Accuracies are per task, so every agent's
task can be compared with the baselines on the very same episode.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import numpy as np

from icl_harness.taskgen import N_SLOTS, Tasks

from .episodes import Group

BASELINES = ("chance", "majority", "nn1", "knn5", "centroid", "lda", "logreg")
REFERENCES = ("chance", "nn1", "centroid", "lda", "logreg")  # shown beside every agent
LABELS = {"chance": "chance", "majority": "majority", "nn1": "1-NN", "knn5": "5-NN (dist.)",
          "centroid": "centroid", "lda": "LDA", "logreg": "logreg"}
VERSION = "2"  # bump when a baseline or the task generator changes


def present_mask(cy: np.ndarray) -> np.ndarray:
    """[B, 10] True where a label occurs in the task's context."""
    mask = np.zeros((len(cy), N_SLOTS), dtype=bool)
    np.put_along_axis(mask, cy, True, axis=1)
    return mask


def ceiling(t: Tasks) -> np.ndarray:
    """The best accuracy any learner can reach: the share of queries whose label is in the context
    (predictions are masked to the context's labels)."""
    return np.take_along_axis(present_mask(t.cy), t.qy, axis=1).mean(axis=1)


def chance(t: Tasks) -> np.ndarray:
    present = present_mask(t.cy)
    hit = np.take_along_axis(present, t.qy, axis=1)
    return (hit / present.sum(axis=1, keepdims=True)).mean(axis=1)


def _accuracy(pred: np.ndarray, qy: np.ndarray) -> np.ndarray:
    return (pred == qy).mean(axis=1)


def _sqdist(t: Tasks) -> np.ndarray:
    q2 = (t.qx ** 2).sum(-1)[:, :, None]
    c2 = (t.cx ** 2).sum(-1)[:, None, :]
    return np.maximum(q2 + c2 - 2 * np.einsum("bqd,bcd->bqc", t.qx, t.cx), 0.0)


def majority(t: Tasks) -> np.ndarray:
    counts = np.stack([np.bincount(row, minlength=N_SLOTS) for row in t.cy])
    return _accuracy(np.repeat(counts.argmax(1)[:, None], t.qy.shape[1], axis=1), t.qy)


def nearest_neighbour(t: Tasks) -> np.ndarray:
    d = _sqdist(t)
    return _accuracy(np.take_along_axis(t.cy, d.argmin(-1), axis=1), t.qy)


def knn_weighted(t: Tasks, k: int = 5) -> np.ndarray:
    d = np.sqrt(_sqdist(t))
    k = min(k, d.shape[-1])
    idx = np.argsort(d, axis=-1, kind="stable")[..., :k]        # [B, m, k]
    w = 1.0 / (np.take_along_axis(d, idx, axis=-1) + 1e-9)
    lab = np.take_along_axis(t.cy[:, None, :].repeat(d.shape[1], 1), idx, axis=-1)
    votes = np.zeros(d.shape[:2] + (N_SLOTS,))
    bi, qi = np.indices(d.shape[:2])
    for j in range(k):
        np.add.at(votes, (bi, qi, lab[..., j]), w[..., j])
    return _accuracy(votes.argmax(-1), t.qy)


def centroid(t: Tasks) -> np.ndarray:
    onehot = np.eye(N_SLOTS)[t.cy]                             # [B, n, 10]
    counts = onehot.sum(1)                                     # [B, 10]
    means = np.einsum("bnc,bnd->bcd", onehot, t.cx) / np.maximum(counts, 1)[..., None]
    d = ((t.qx[:, :, None, :] - means[:, None]) ** 2).sum(-1)  # [B, m, 10]
    d = np.where(counts[:, None, :] > 0, d, np.inf)
    return _accuracy(d.argmin(-1), t.qy)


def logreg(t: Tasks) -> np.ndarray:
    """Per-task logistic regression; $DGM_ICL_WORKERS > 1 spreads the tasks over processes."""
    return _per_task(t, _logreg_serial)


def lda(t: Tasks) -> np.ndarray:
    """Per-task LDA with Ledoit-Wolf shrinkage (a context of 10 in 64 dims is singular)."""
    return _per_task(t, _lda_serial)


def _per_task(t: Tasks, serial) -> np.ndarray:
    workers = int(os.environ.get("DGM_ICL_WORKERS") or 1)
    if workers > 1 and len(t.cy) >= 4 * workers:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        chunks = np.array_split(np.arange(len(t.cy)), workers)
        parts = [Tasks(t.cx[c], t.cy[c], t.qx[c], t.qy[c]) for c in chunks]
        # fork: the children find this module without the suite's sys.path set-up
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            return np.concatenate(list(pool.map(serial, parts)))
    return serial(t)


def _lda_serial(t: Tasks) -> np.ndarray:
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    out = np.empty(len(t.cy))
    for b in range(len(t.cy)):
        labels, counts = np.unique(t.cy[b], return_counts=True)
        if len(labels) == 1:
            out[b] = (t.qy[b] == labels[0]).mean()
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto").fit(t.cx[b], t.cy[b])
        out[b] = (clf.predict(t.qx[b]) == t.qy[b]).mean()
    return out


def _logreg_serial(t: Tasks) -> np.ndarray:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    out = np.empty(len(t.cy))
    for b in range(len(t.cy)):
        labels = np.unique(t.cy[b])
        if len(labels) == 1:
            out[b] = (t.qy[b] == labels[0]).mean()
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf = LogisticRegression(C=1.0, max_iter=500).fit(t.cx[b], t.cy[b])
        out[b] = (clf.predict(t.qx[b]) == t.qy[b]).mean()
    return out


FUNCS = {"chance": chance, "majority": majority, "nn1": nearest_neighbour, "knn5": knn_weighted,
         "centroid": centroid, "lda": lda, "logreg": logreg}


def compute(t: Tasks) -> dict[str, np.ndarray]:
    """Every baseline's accuracy per task."""
    return {name: FUNCS[name](t).astype(np.float64) for name in BASELINES}


def cache_dir() -> Path:
    """Where the suite keeps baselines and checkpoints: $DGM_ICL_CACHE or ~/.cache/dgm/icl."""
    env = os.environ.get("DGM_ICL_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "dgm" / "icl"


def _key(group: Group) -> str:
    t = group.tasks
    h = hashlib.sha256(VERSION.encode())
    for a in (t.cx, t.cy, t.qx, t.qy):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:24]


def for_group(group: Group, cache: Path | None) -> dict[str, np.ndarray]:
    """Baselines for a group's episodes, keyed by their content (so never stale)."""
    path = (cache / "baselines" / f"{group.name.replace('/', '_')}-{_key(group)}.npz") if cache else None
    if path is not None and path.is_file():
        try:
            with np.load(path, allow_pickle=False) as f:
                return {**{k: f[k] for k in BASELINES}, "ceiling": ceiling(group.tasks)}
        except (OSError, ValueError, KeyError):
            pass  # a torn or old file: recompute it
    res = compute(group.tasks)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, **res)
        os.replace(tmp, path)
    return {**res, "ceiling": ceiling(group.tasks)}
