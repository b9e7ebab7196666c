"""The worst case of one model call, computed before it is forwarded (for the reservation).

A reservation must be an upper bound, or concurrent calls could still overspend
together. The bound used:

- **prompt tokens** <= the UTF-8 size of the whole request body in bytes, plus
  ``PROMPT_SLACK``: a byte-level BPE token covers at least one byte of text, and
  the JSON framing (keys, quotes, role names) is larger than the few tokens a
  provider adds per message. Each image part adds ``media_part_tokens``.
- **completion tokens** <= the output cap times the number of answers: the cap is
  the request's own ``max_tokens`` / ``max_completion_tokens`` /
  ``max_output_tokens`` lowered to ``max_output_tokens`` of the config, and
  *inserted* when the request has none, so the upstream itself enforces it.

What cannot be bounded from the body is refused with 400 when a budget is set:
server-side state (``previous_response_id``, ``conversation``, stored ``prompt``),
hosted tools (web search, file search, code interpreter, ...), audio and file
inputs or outputs, predicted outputs, background responses, and ``n`` /
``best_of`` above ``max_choices``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from dgm.models.gateway_routes import Route
from dgm.models.pricing import Price, cost_pico

PROMPT_SLACK = 16
IMAGE_TYPES = {"image_url", "input_image", "image"}
UNBOUNDED_TYPES = {"input_audio", "audio", "file", "input_file"}
RESPONSES_STATEFUL = ("previous_response_id", "conversation", "prompt", "background")
CHAT_UNBOUNDED = ("web_search_options", "prediction", "audio")
FUNCTION_TOOLS = {"function", "custom"}


class Unbounded(ValueError):
    """The call's cost cannot be bounded before it is made (answered with 400)."""


@dataclass(frozen=True)
class Limits:
    max_output_tokens: int
    max_choices: int
    media_part_tokens: int
    chat_max_tokens_field: str = "max_tokens"


@dataclass(frozen=True)
class Estimate:
    prompt_tokens: int
    completion_tokens: int
    pico: int

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def _parts(obj: Any, out: list[str]) -> None:
    """Collect the ``type`` of every content part (dicts anywhere in the request)."""
    stack = [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, dict):
            t = o.get("type")
            if isinstance(t, str):
                out.append(t)
            stack.extend(o.values())
        elif isinstance(o, list):
            stack.extend(o)


def _positive_int(request: dict, key: str) -> int | None:
    v = request.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise Unbounded(f"{key} must be a positive integer")
    return v


def _cap_output(request: dict, keys: tuple[str, ...], insert: str, cap: int) -> int:
    """Lower every given output limit to ``cap`` (inserting ``insert`` when none); the bound."""
    present = [k for k in keys if request.get(k) is not None]
    for k in present:
        request[k] = min(_positive_int(request, k) or cap, cap)
    if not present:
        request[insert] = cap
    return max(request[k] for k in (present or [insert]))  # whichever the upstream honours


def _choices(request: dict, limits: Limits) -> int:
    n = max(_positive_int(request, "n") or 1, _positive_int(request, "best_of") or 1)
    if n > limits.max_choices:
        raise Unbounded(f"n/best_of of {n} is above the gateway's max_choices of "
                        f"{limits.max_choices}")
    return n


def _prompts(request: dict) -> int:
    """How many prompts a legacy completions call carries (each gets its own answers)."""
    p = request.get("prompt")
    if isinstance(p, list) and p and not all(isinstance(x, int) for x in p):
        return len(p)
    return 1


def prepare(route: Route, request: dict, price: Price | None, limits: Limits) -> Estimate:
    """Cap the request's output in place and return its worst case; raises Unbounded."""
    kinds: list[str] = []
    _parts(request, kinds)
    bad = sorted(set(kinds) & UNBOUNDED_TYPES)
    if bad:
        raise Unbounded(f"content of type {', '.join(bad)} cannot be priced before the call")
    images = sum(k in IMAGE_TYPES for k in kinds)
    cap = limits.max_output_tokens
    path = route.path
    if path.endswith("/embeddings"):
        completion = 0
    elif path.endswith("/responses"):
        for key in RESPONSES_STATEFUL:
            if request.get(key):
                raise Unbounded(f"{key} makes the call's cost depend on state the gateway "
                                "cannot see")
        tools = request.get("tools") or []
        hosted = sorted({str(t.get("type")) for t in tools if isinstance(t, dict)} - FUNCTION_TOOLS)
        if hosted or not isinstance(tools, list):
            raise Unbounded(f"hosted tools ({', '.join(hosted) or 'malformed tools'}) are "
                            "billed outside the token count")
        completion = _cap_output(request, ("max_output_tokens",), "max_output_tokens", cap)
    elif path.endswith("/chat/completions"):
        for key in CHAT_UNBOUNDED:
            if request.get(key):
                raise Unbounded(f"{key} is billed outside the capped output")
        modalities = request.get("modalities") or ["text"]
        if not isinstance(modalities, list) or set(modalities) - {"text"}:
            raise Unbounded("only text output can be priced before the call")
        completion = _choices(request, limits) * _cap_output(
            request, ("max_tokens", "max_completion_tokens"), limits.chat_max_tokens_field, cap)
    else:  # the legacy completions endpoint, or any other configured POST route
        completion = _choices(request, limits) * _prompts(request) * _cap_output(
            request, ("max_tokens",), "max_tokens", cap)
    # measured after the caps went in: the body exactly as it will be forwarded
    prompt = len(json.dumps(request).encode()) + PROMPT_SLACK + limits.media_part_tokens * images
    return Estimate(prompt, completion, cost_pico(price, prompt, completion))
