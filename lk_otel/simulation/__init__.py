"""A real livekit AgentSession, offline, driven by a script with chosen latencies.

Scripted VAD, STT, LLM and TTS plugins (subclasses of livekit's own base classes) and a
fake microphone and speaker replay a :class:`Scenario`, so livekit produces its real
spans and metrics for a call whose every latency is known in advance::

    from lk_otel.simulation import load_scenario, run_scenario

    result = await run_scenario(load_scenario(), speed=4.0)
    result.metrics   # the LLM/TTS/STT/EOU/VAD metrics livekit emitted
"""

from __future__ import annotations

from .runner import SimulationError, SimulationResult, run_scenario
from .scenario import (
    Greeting,
    LLMCall,
    ModelRef,
    Models,
    Scenario,
    ScenarioError,
    ToolCall,
    TTSCall,
    Turn,
    UserSpeech,
    load_scenario,
)

__all__ = [
    "Greeting",
    "LLMCall",
    "ModelRef",
    "Models",
    "Scenario",
    "ScenarioError",
    "SimulationError",
    "SimulationResult",
    "TTSCall",
    "ToolCall",
    "Turn",
    "UserSpeech",
    "load_scenario",
    "run_scenario",
]
