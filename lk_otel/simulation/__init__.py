"""A real livekit AgentSession, offline, driven by a script with chosen latencies.

Scripted VAD, STT, LLM and TTS plugins (subclasses of livekit's own base classes) and a
fake microphone and speaker replay a :class:`Scenario`, so livekit produces its real
spans and metrics for a call whose every latency is known in advance::

    from lk_otel.simulation import load_scenario, run_scenario

    result = await run_scenario(load_scenario(), speed=4.0)
    result.metrics   # the LLM/TTS/STT/EOU/VAD metrics livekit emitted
    result.truth     # what the script injected, with wall-clock times

``run_scenario(..., agent=MyAgent)`` runs your own Agent instead of the built-in one.
"""

from __future__ import annotations

from .own_agent import AgentLoadError, load_agent
from .runner import SimulationError, SimulationResult, run_scenario
from .scenario import (
    Blip,
    Failure,
    Greeting,
    Interim,
    LLMCall,
    ModelRef,
    Models,
    Scenario,
    ScenarioError,
    SpeechStart,
    ToolCall,
    TTSCall,
    Turn,
    UserSpeech,
)
from .scenario_load import builtin_scenarios, load_scenario
from .truth import GroundTruth, TruthEvent

__all__ = [
    "AgentLoadError",
    "Blip",
    "Failure",
    "Greeting",
    "GroundTruth",
    "Interim",
    "LLMCall",
    "ModelRef",
    "Models",
    "Scenario",
    "ScenarioError",
    "SimulationError",
    "SimulationResult",
    "SpeechStart",
    "TTSCall",
    "ToolCall",
    "TruthEvent",
    "Turn",
    "UserSpeech",
    "builtin_scenarios",
    "load_agent",
    "load_scenario",
    "run_scenario",
]
