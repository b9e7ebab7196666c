"""Model access for the coding agent: the openai client, native tool calls or a text protocol.

The agent never holds a real API key. It talks to the run's gateway:
``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` (a per-agent key the gateway made)
come from the environment, and when ``DGM_GATEWAY_SOCKET`` is set the HTTP
connection goes over that Unix socket (sandboxes have no network).

Two ways to use tools:
* ``native``: the chat-completions ``tools`` parameter and ``tool_calls``;
* ``text``: for models without tool calling, the tools are described in the
  system prompt and the model writes ``<tool_use>{"name": ..., "input": {...}}</tool_use>``;
  results come back as ``<tool_result>`` user messages.
``auto`` starts native and switches to text if the endpoint rejects tools.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

import openai

try:  # the openai package brings one of these; use the one it uses
    import httpx2 as _httpx
except ImportError:  # pragma: no cover - older openai releases
    import httpx as _httpx  # type: ignore[no-redef]


class BudgetExhausted(Exception):
    """The gateway refused the call: the run's budget is spent."""


class ToolsUnsupported(Exception):
    """The endpoint rejected the tools parameter."""


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: dict
    error: str = ""  # set when the arguments were not valid JSON


@dataclass
class Reply:
    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = ""


def make_client(timeout: float = 600.0) -> openai.OpenAI:
    base_url = os.environ.get("OPENAI_BASE_URL") or None
    key = os.environ.get("OPENAI_API_KEY") or "none"
    sock = os.environ.get("DGM_GATEWAY_SOCKET")
    http_client = None
    if sock:
        http_client = _httpx.Client(transport=_httpx.HTTPTransport(uds=sock), timeout=timeout)
        base_url = base_url or "http://dgm-gateway/v1"
    return openai.OpenAI(base_url=base_url, api_key=key, http_client=http_client,
                         timeout=timeout, max_retries=2)


_TOOL_USE = re.compile(r"<tool_use>\s*(.*?)\s*</tool_use>", re.S)


def text_protocol_prompt(tools: list[dict]) -> str:
    specs = json.dumps([{"name": t["name"], "description": t["description"],
                         "input_schema": t["input_schema"]} for t in tools], indent=1)
    return ("\n\n# Tools\nYou can use these tools:\n" + specs + "\n\nTo use a tool, write "
            "exactly one block per message and then stop writing:\n<tool_use>\n"
            '{"name": "bash", "input": {"command": "ls"}}\n</tool_use>\n'
            "The result comes back in a <tool_result> message. When you are done, answer "
            "without any <tool_use> block.")


def parse_text_tool_calls(text: str) -> list[ToolCall]:
    calls = []
    for i, m in enumerate(_TOOL_USE.finditer(text or "")):
        try:
            obj = json.loads(m.group(1))
            if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
                raise ValueError("expected an object with a 'name' and an 'input'")
            args = obj.get("input", obj.get("arguments", {}))
            if not isinstance(args, dict):
                raise ValueError("'input' must be an object")
            calls.append(ToolCall(f"text_{i}", obj["name"], args))
        except ValueError as exc:
            calls.append(ToolCall(f"text_{i}", "?", {}, f"unreadable <tool_use> block: {exc}"))
    return calls


class Model:
    """One chat model behind the gateway, with the chosen tool protocol."""

    def __init__(self, name: str, tools: list[dict], protocol: str = "auto",
                 client: openai.OpenAI | None = None, max_tokens: int = 4096):
        self.name = name
        self.tools = tools
        self.protocol = "native" if protocol == "auto" else protocol
        self.auto = protocol == "auto"
        self.client = client or make_client()
        self.max_tokens = max_tokens

    def _native_tools(self) -> list[dict]:
        return [{"type": "function", "function": {"name": t["name"], "description": t["description"],
                                                  "parameters": t["input_schema"]}}
                for t in self.tools]

    def chat(self, messages: list[dict]) -> Reply:
        """One model call; raises BudgetExhausted, or openai errors for anything else."""
        kwargs: dict[str, Any] = {"model": self.name, "messages": messages,
                                  "max_tokens": self.max_tokens}
        if self.protocol == "native":
            kwargs["tools"] = self._native_tools()
        try:
            resp = self.client.chat.completions.create(**kwargs)
        except openai.APIStatusError as exc:
            if exc.status_code == 402:
                raise BudgetExhausted(str(exc)) from None
            text = str(exc).lower()
            if (exc.status_code == 400 and self.protocol == "native" and self.auto
                    and ("tool" in text or "function" in text)):
                raise ToolsUnsupported(str(exc)) from None
            raise
        choice = resp.choices[0]
        msg = choice.message
        usage = resp.usage
        reply = Reply(msg.content or "", finish_reason=choice.finish_reason or "",
                      prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
                      completion_tokens=getattr(usage, "completion_tokens", 0) or 0)
        if self.protocol == "native":
            for tc in msg.tool_calls or []:
                fn = getattr(tc, "function", None)
                if fn is None:
                    continue
                try:
                    args = json.loads(fn.arguments or "{}")
                    err = "" if isinstance(args, dict) else "arguments must be a JSON object"
                except ValueError as exc:
                    args, err = {}, f"arguments are not valid JSON: {exc}"
                reply.tool_calls.append(ToolCall(tc.id, fn.name, args if isinstance(args, dict)
                                                 else {}, err))
        else:
            reply.tool_calls = parse_text_tool_calls(reply.text)
        return reply

    def assistant_message(self, reply: Reply) -> dict:
        """The assistant turn to append to the history, in this protocol's shape."""
        if self.protocol == "native" and reply.tool_calls:
            return {"role": "assistant", "content": reply.text or None, "tool_calls": [
                {"id": c.id, "type": "function",
                 "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
                for c in reply.tool_calls]}
        return {"role": "assistant", "content": reply.text}

    def result_messages(self, results: list[tuple[ToolCall, str]]) -> list[dict]:
        if self.protocol == "native":
            return [{"role": "tool", "tool_call_id": c.id, "content": out} for c, out in results]
        body = "\n".join(f'<tool_result name="{c.name}">\n{out}\n</tool_result>' for c, out in results)
        return [{"role": "user", "content": body}]
