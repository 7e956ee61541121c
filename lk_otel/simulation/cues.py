"""Which scripted entry a fake plugin plays next, for one simulated call.

The LLM finds its entry from the chat context it is given (which user turn, how many tool
rounds since it), so preemptive or repeated requests get the same entry. An agent that
was handed over without the conversation (a handoff) sees no user turn: its request is
the next unserved call of the turn the user spoke last. A TTS stream cannot see the
conversation: it takes the TTS entry that the LLM (or the runner, for a greeting said
with ``say``) offered when its text started to flow.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from .scenario import Handoff, LLMCall, Scenario, TTSCall
from .truth import GroundTruth

CALL_ID_SEPARATOR = "-call-"  # tool call ids are "<request id>-call-<n>"
IMPROVISED_GREETING = "Hello! How can I help you today?"


@dataclass(frozen=True)
class LLMCue:
    """The scripted call answering a request, where it sits, and its TTS entry."""

    call: LLMCall
    turn: int | None  # 0-based user turn; None: the greeting
    index: int  # position in the turn's llm list
    tts: TTSCall | None


@dataclass(frozen=True)
class TTSCue:
    entry: TTSCall
    turn: int | None


class ScriptCues:
    """Hands the fake LLM and TTS their scripted entries, and records anything unscripted."""

    def __init__(
        self,
        script: Scenario,
        truth: GroundTruth | None = None,
        *,
        improvise_greeting: bool = False,
    ) -> None:
        self.script = script
        # a user's agent may greet from on_enter though the script has no greeting
        self._improvised = (
            LLMCall(text=IMPROVISED_GREETING)
            if improvise_greeting and not script.greeting
            else None
        )
        self.truth = truth or GroundTruth()
        self.anomalies: list[str] = []
        self.spoken_turns = 0  # user turns whose speech has ended (set by the runner)
        self._offered_tts: TTSCue | None = None
        self._tool_results: dict[str, deque[str | None]] = {}
        self._served: dict[int | None, set[int]] = {}
        self._handoffs: dict[str, deque[Handoff | None]] = {}
        self._handed_over: set[int] = set()  # turns whose next request is the new agent's
        self._handoffs_done: list[str] = []

    @property
    def improvises_greeting(self) -> bool:
        """Whether an unscripted greeting request gets a default answer (user agents)."""
        return self._improvised is not None

    def llm_call(self, chat_ctx: Any) -> LLMCue | None:
        """The scripted LLM call answering ``chat_ctx`` (None: unscripted)."""
        user_turns = 0
        rounds: set[str] = set()
        last_user_text = ""
        for item in chat_ctx.items:
            kind = getattr(item, "type", None)
            if kind == "message" and item.role == "user":
                user_turns += 1
                rounds = set()
                last_user_text = item.text_content or ""
            elif kind == "function_call":
                rounds.add(str(item.call_id).rsplit(CALL_ID_SEPARATOR, 1)[0])

        current = self.spoken_turns - 1
        if current in self._handed_over or (user_turns == 0 and self.spoken_turns > 0):
            # a handed-over agent (its own history, maybe none): the next call of the turn
            self._handed_over.discard(current)
            served = self._served.get(current, set())
            return self._cue(current, max(served) + 1 if served else 0)
        if user_turns == 0:
            greeting = self.script.greeting
            if self._improvised is not None and not rounds:
                tts = TTSCall().for_text(IMPROVISED_GREETING)
                return LLMCue(call=self._improvised, turn=None, index=0, tts=tts)
            if greeting is None or greeting.llm is None or rounds:
                self.anomalies.append(
                    "LLM called before any user turn, with no greeting to generate"
                )
                return None
            return LLMCue(call=greeting.llm, turn=None, index=0, tts=greeting.tts)

        if self.spoken_turns > 0 and any(self._handoffs_done):
            # after a handoff the new agent's history may start anywhere: find the turn by
            # its text, the latest one spoken first
            for index in range(self.spoken_turns - 1, -1, -1):
                if self.script.turns[index].user.text.strip() in last_user_text:
                    user_turns = index + 1
                    break
        if user_turns > len(self.script.turns):
            self.anomalies.append(f"LLM called for user turn {user_turns}, beyond the script")
            return None
        turn = self.script.turns[user_turns - 1]
        if turn.user.text.strip() not in last_user_text:
            self.anomalies.append(
                f"user turn {user_turns - 1}: transcript {last_user_text!r} "
                f"differs from the script {turn.user.text!r}"
            )
        return self._cue(user_turns - 1, len(rounds))

    def _cue(self, turn_index: int, index: int) -> LLMCue | None:
        turn = self.script.turns[turn_index]
        if index >= len(turn.llm):
            self.anomalies.append(
                f"turn {turn_index}: LLM call {index} beyond the {len(turn.llm)} scripted"
            )
            return None
        served = self._served.setdefault(turn_index, set())
        call = turn.llm[index]
        if index not in served:  # a repeated (preemptive) request reuses the same results
            for tool in call.tools:
                self._tool_results.setdefault(tool.name, deque()).append(tool.result)
                self._handoffs.setdefault(tool.name, deque()).append(tool.handoff)
        served.add(index)
        if not call.text:
            return LLMCue(call=call, turn=turn_index, index=index, tts=None)
        spoken_index = sum(1 for earlier in turn.llm[:index] if earlier.text)
        return LLMCue(call=call, turn=turn_index, index=index, tts=turn.tts[spoken_index])

    def offer_tts(self, entry: TTSCall, turn: int | None) -> None:
        """Make ``entry`` the timing of the next TTS stream that receives text."""
        self._offered_tts = TTSCue(entry, turn)

    def take_tts(self, text: str) -> TTSCue | None:
        """The offered TTS entry for a synthesis starting with ``text`` (None: unscripted)."""
        cue, self._offered_tts = self._offered_tts, None
        if cue is None:
            self.anomalies.append(f"TTS asked to speak {text!r} with no scripted entry")
        return cue

    def take_handoff(self, name: str) -> Handoff | None:
        """The handoff of the call to tool ``name`` just made (None: none)."""
        handoffs = self._handoffs.get(name)
        handoff = handoffs.popleft() if handoffs else None
        if handoff is not None:
            self._handoffs_done.append(handoff.agent)
            self._handed_over.add(self.spoken_turns - 1)
        return handoff

    def tool_result(self, name: str) -> str | None:
        """The scripted result of the next call to tool ``name`` the LLM made."""
        results = self._tool_results.get(name)
        if not results:
            self.anomalies.append(f"tool {name!r} called without a scripted call")
            return ""
        return results.popleft()
