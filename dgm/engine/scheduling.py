"""Concurrency limits: proposals and evaluations in separate slots (oversubscription).

By default (no ``max_proposals``) proposals and evaluations share ``workers``
slots, as before: a run with one worker is fully reproducible. With
``max_proposals`` set, proposals get slots of their own and run ahead while
evaluations run; committed children wait in ``ready`` (at most
``max_proposals`` of them, so proposals never race far past the evaluators)
for one of the ``max_evaluations`` evaluation slots. Evaluators then never
wait for a proposal to be made.
"""

from __future__ import annotations

from collections import deque
from typing import Any


class Slots:
    def __init__(self, workers: int, max_proposals: int | None, max_evaluations: int | None):
        self.limited = max_proposals is not None
        self.workers = workers
        self.proposals = max_proposals or workers
        self.evaluations = max_evaluations or workers
        self.ready: deque[Any] = deque()  # jobs whose next stage waits for an evaluation slot

    def may_propose(self, proposing: int, evaluating: int) -> bool:
        if not self.limited:
            return proposing + evaluating < self.workers
        return proposing < self.proposals and proposing + len(self.ready) < self.proposals + self.evaluations

    def may_evaluate(self, evaluating: int) -> bool:
        return not self.limited or evaluating < self.evaluations
