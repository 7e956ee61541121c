"""An LLM that replays scripted responses with scripted timing.

The first chunk (text, or the tool calls of a call without text) comes ``ttft`` after the
request starts, the rest of the text is spread until ``duration``, then the tool calls (if
any, all in one chunk: parallel calls) and the usage chunk, as real providers stream them.
livekit's LLMMetrics therefore report the scripted ttft, duration and token counts. A
scripted ``error`` raises a non-retryable APIError ``error.at`` into the request.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

from livekit.agents import APIConnectOptions, APIError, llm
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, NotGivenOr

from .. import _compat
from .cues import CALL_ID_SEPARATOR, ScriptCues
from .scenario import LLMCall, ModelRef, ReportsModel, TTSCall


class ScriptedLLM(ReportsModel, llm.LLM):
    """LLM plugin answering each request with the scenario's entry for it."""

    def __init__(self, *, cues: ScriptCues, model: ModelRef) -> None:
        super().__init__()
        self.cues = cues
        self._model = model
        self._request_count = 0

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[Any] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[Any] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> ScriptedLLMStream:
        self._request_count += 1
        return ScriptedLLMStream(
            self,
            chat_ctx=chat_ctx,
            tools=tools or [],
            conn_options=conn_options,
            request_id=f"sim-llm-{self._request_count}",
        )


class ScriptedLLMStream(llm.LLMStream):
    def __init__(
        self,
        owner: ScriptedLLM,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[Any],
        conn_options: APIConnectOptions,
        request_id: str,
    ) -> None:
        super().__init__(owner, chat_ctx=chat_ctx, tools=tools, conn_options=conn_options)
        # livekit's clock starts with its metrics task, created just above
        self._t0 = time.perf_counter()
        self._t0_wall = time.time()
        self._owner = owner
        self._request_id = request_id

    def _chunk(self, **kwargs: Any) -> llm.ChatChunk:
        return llm.ChatChunk(id=self._request_id, **kwargs)

    async def _sleep_until(self, offset: float) -> None:
        delay = self._t0 + offset - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)

    async def _run(self) -> None:
        cue = self._owner.cues.llm_call(self.chat_ctx)
        if cue is None:
            raise APIError("lk_otel simulation: no scripted LLM response", retryable=False)
        truth = self._owner.cues.truth
        event = truth.begin("llm_request", cue.turn, index=cue.index, request_id=self._request_id)
        event.start = self._t0_wall
        try:
            await self._play(cue.call, cue.tts, cue.turn, event.detail)
        except asyncio.CancelledError:
            truth.finish(event, "cancelled")
            raise
        except APIError:
            truth.finish(event, "error")
            raise
        truth.finish(event)

    async def _play(
        self, call: LLMCall, tts_entry: TTSCall | None, turn: int | None, detail: dict[str, Any]
    ) -> None:
        """Send the scripted chunks at their offsets; ``detail["first_chunk_at"]`` is when the
        first one really went (``time.time()``: a late wake-up shows in it)."""
        if call.error is not None:
            await self._sleep_until(call.error.at)
            raise APIError(f"lk_otel simulation: {call.error.message}", retryable=False)
        pieces = _split_text(call.text)
        if tts_entry is not None:
            self._owner.cues.offer_tts(tts_entry, turn)

        n = len(pieces)
        for i, piece in enumerate(pieces):
            # first piece at ttft, the last one at duration
            at = call.ttft if n == 1 else call.ttft + (call.duration - call.ttft) * i / (n - 1)
            await self._sleep_until(at)
            delta = llm.ChoiceDelta(role="assistant", content=piece)
            detail.setdefault("first_chunk_at", time.time())
            _compat.send_event(self, self._chunk(delta=delta))

        if call.tools:
            await self._sleep_until(call.ttft if n == 0 else call.duration)
            delta = llm.ChoiceDelta(
                role="assistant",
                tool_calls=[
                    llm.FunctionToolCall(
                        name=tool.name,
                        arguments=json.dumps(dict(tool.arguments)),
                        call_id=f"{self._request_id}{CALL_ID_SEPARATOR}{k}",
                    )
                    for k, tool in enumerate(call.tools)
                ],
            )
            detail.setdefault("first_chunk_at", time.time())
            _compat.send_event(self, self._chunk(delta=delta))

        await self._sleep_until(call.duration)
        _compat.send_event(self, self._chunk(usage=_usage(call)))


def _usage(call: LLMCall) -> llm.CompletionUsage:
    return llm.CompletionUsage(
        completion_tokens=call.output_tokens,
        prompt_tokens=call.input_tokens,
        prompt_cached_tokens=call.cached_input_tokens,
        total_tokens=call.input_tokens + call.output_tokens,
    )


def _split_text(text: str) -> list[str]:
    """Word-sized chunks, each with its leading whitespace, as providers stream tokens."""
    return re.findall(r"\s*\S+", text)
