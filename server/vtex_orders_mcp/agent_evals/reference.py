"""The reference agent: Inspect's mock model replaying a ticket's scripted turns.

``mockllm/model`` takes ``custom_outputs``, a function of the conversation so far; this one answers
turn N of the current ticket's script (its reference, or a script a test gives) with a tool call
or, at a ``reply`` step, the final message. An argument ``{"$ref": "approval.id"}`` stands for the
newest approval id the server gave in a tool result (the ids are random, so no script can hold
them). Which script to play comes from the sample's store, where the solver puts the sample id
(a ticket's id in the task; a test may run one ticket under several sample ids and scripts).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from inspect_ai.model import ChatMessage, ChatMessageAssistant, ChatMessageTool, ModelOutput
from inspect_ai.util import store

from .human import approval_ids
from .tickets import Ticket

__all__ = ["MOCK_MODEL", "SAMPLE_KEY", "reference_agent"]

MOCK_MODEL = "mockllm/model"
SAMPLE_KEY = "vtex_orders:sample"


def _newest_approval(messages: Sequence[ChatMessage]) -> str | None:
    for message in reversed(messages):
        if isinstance(message, ChatMessageTool):
            ids = approval_ids(message.text)
            if ids:
                return ids[-1]
    return None


def _expand(value: Any, messages: Sequence[ChatMessage]) -> Any:
    if isinstance(value, dict):
        if value == {"$ref": "approval.id"}:
            found = _newest_approval(messages)
            if found is None:
                raise ValueError("the script refers to an approval, and no tool result gave one")
            return found
        return {k: _expand(v, messages) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, messages) for v in value]
    return value


def reference_agent(tickets: Iterable[Ticket], scripts: Mapping[str, Sequence[dict[str, Any]]] | None = None) -> Any:
    """``custom_outputs`` for ``mockllm/model``: each ticket's reference, or ``scripts[sample_id]``."""
    scripted = {t.id: list(t.reference) for t in tickets}
    scripted.update({k: list(v) for k, v in (scripts or {}).items()})

    def respond(messages: list[ChatMessage], tools: Any, tool_choice: Any, config: Any) -> ModelOutput:
        script = scripted.get(store().get(SAMPLE_KEY), [])
        turn = sum(isinstance(m, ChatMessageAssistant) for m in messages)
        if turn >= len(script):
            return ModelOutput.from_content(model=MOCK_MODEL, content="")
        step = script[turn]
        if "reply" in step:
            return ModelOutput.from_content(model=MOCK_MODEL, content=step["reply"])
        arguments = _expand(step.get("arguments") or {}, messages)
        return ModelOutput.for_tool_call(model=MOCK_MODEL, tool_name=step["call"], tool_arguments=arguments)

    return respond
