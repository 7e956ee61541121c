"""Which scripted entry a fake plugin plays next, for one simulated call.

The LLM finds its entry from the chat context it is given (how many user turns, how many
tool results since the last one), so preemptive or repeated requests get the same entry.
A TTS stream cannot see the conversation: it takes the TTS entry that the LLM (or the
runner, for a greeting said with ``say``) offered when its text started to flow.
"""

from __future__ import annotations

from typing import Any

from .scenario import LLMCall, Scenario, TTSCall


class ScriptCues:
    """Hands the fake LLM and TTS their scripted entries, and records anything unscripted."""

    def __init__(self, script: Scenario) -> None:
        self.script = script
        self.anomalies: list[str] = []
        self._offered_tts: TTSCall | None = None
        self._tool_results: dict[str, str] = {}

    def llm_call(self, chat_ctx: Any) -> tuple[LLMCall, TTSCall | None] | None:
        """The scripted LLM call answering ``chat_ctx`` and its TTS entry (None: unscripted)."""
        user_turns = 0
        calls_since_user = 0
        last_user_text = ""
        for item in chat_ctx.items:
            kind = getattr(item, "type", None)
            if kind == "message" and item.role == "user":
                user_turns += 1
                calls_since_user = 0
                last_user_text = item.text_content or ""
            elif kind == "function_call_output":
                calls_since_user += 1

        if user_turns == 0:
            greeting = self.script.greeting
            if greeting is None or greeting.llm is None or calls_since_user > 0:
                self.anomalies.append(
                    "LLM called before any user turn, with no greeting to generate"
                )
                return None
            return greeting.llm, greeting.tts

        if user_turns > len(self.script.turns):
            self.anomalies.append(f"LLM called for user turn {user_turns}, beyond the script")
            return None
        turn = self.script.turns[user_turns - 1]
        if last_user_text.strip() != turn.user.text.strip():
            self.anomalies.append(
                f"user turn {user_turns - 1}: transcript {last_user_text!r} "
                f"differs from the script {turn.user.text!r}"
            )
        if calls_since_user >= len(turn.llm):
            self.anomalies.append(
                f"turn {user_turns - 1}: LLM call {calls_since_user} beyond the "
                f"{len(turn.llm)} scripted"
            )
            return None
        call = turn.llm[calls_since_user]
        if call.tool_call is not None:
            self._tool_results[call.tool_call.name] = call.tool_call.result
        if not call.text:
            return call, None
        spoken_index = sum(1 for earlier in turn.llm[:calls_since_user] if earlier.text)
        return call, turn.tts[spoken_index]

    def offer_tts(self, entry: TTSCall) -> None:
        """Make ``entry`` the timing of the next TTS stream that receives text."""
        self._offered_tts = entry

    def take_tts(self, text: str) -> TTSCall | None:
        """The offered TTS entry for a synthesis starting with ``text`` (None: unscripted)."""
        entry, self._offered_tts = self._offered_tts, None
        if entry is None:
            self.anomalies.append(f"TTS asked to speak {text!r} with no scripted entry")
        return entry

    def tool_result(self, name: str) -> str:
        """The scripted result of the last call to tool ``name`` the LLM was given."""
        if name not in self._tool_results:
            self.anomalies.append(f"tool {name!r} called without a scripted call")
            return ""
        return self._tool_results[name]
