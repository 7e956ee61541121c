"""Every attribute and span name lk_otel reads or writes, in one place.

Names written by lk_otel live under ``lk_otel.``; seconds are floats. Nothing is ever
written under ``gen_ai.usage.*`` on a parent span: Langfuse and others sum that key over
every span of a trace, so a roll-up there would double-count.
"""

from __future__ import annotations

# --- livekit span names -------------------------------------------------------------
SPAN_AGENT_SESSION = "agent_session"
SPAN_AGENT_TURN = "agent_turn"  # livekit-agents >= 1.3
SPAN_ASSISTANT_TURN = "assistant_turn"  # livekit-agents 1.2
TURN_SPAN_NAMES = frozenset({SPAN_AGENT_TURN, SPAN_ASSISTANT_TURN})
SPAN_USER_TURN = "user_turn"
SPAN_USER_SPEAKING = "user_speaking"
SPAN_AGENT_SPEAKING = "agent_speaking"
SPAN_LLM_NODE = "llm_node"
SPAN_LLM_REQUEST = "llm_request"
SPAN_TTS_NODE = "tts_node"
SPAN_TTS_REQUEST = "tts_request"
SPAN_FUNCTION_TOOL = "function_tool"
SPAN_JOB_ENTRYPOINT = "job_entrypoint"

# --- spans lk_otel creates (the latency waterfall) -----------------------------------
SPAN_RESPONSE_LATENCY = "response_latency"
SPAN_STAGE_END_OF_TURN = "end_of_turn_delay"
SPAN_STAGE_TRANSCRIPTION = "transcription_delay"
SPAN_STAGE_ON_USER_TURN_COMPLETED = "on_user_turn_completed_delay"
SPAN_STAGE_LLM_TTFT = "llm_ttft"
SPAN_STAGE_TTS_TTFB = "tts_ttfb"

# --- livekit attributes lk_otel reads ------------------------------------------------
LK_SPEECH_ID = "lk.speech_id"
LK_INTERRUPTED = "lk.interrupted"
LK_E2E_LATENCY = "lk.e2e_latency"
LK_END_OF_TURN_DELAY = "lk.end_of_turn_delay"
LK_END_OF_UTTERANCE_DELAY = "lk.end_of_utterance_delay"  # 1.2 user_turn
LK_TRANSCRIPTION_DELAY = "lk.transcription_delay"
LK_ON_USER_TURN_COMPLETED_DELAY = "lk.on_user_turn_completed_delay"
LK_RESPONSE_TTFT = "lk.response.ttft"
LK_RESPONSE_TTFB = "lk.response.ttfb"
LK_LLM_METRICS = "lk.llm_metrics"
LK_TTS_METRICS = "lk.tts_metrics"
LK_TTS_STREAMING = "lk.tts.streaming"
LK_AGENT_LABEL = "lk.agent_label"
LK_USER_INPUT_KEYS = ("lk.pii.user_input", "lk.user_input")  # 1.8, 1.2; only with PII allowed
GEN_AI_AGENT_NAME = "gen_ai.agent.name"
GEN_AI_PROVIDER_NAME = "gen_ai.provider.name"
GEN_AI_REQUEST_MODEL = "gen_ai.request.model"
GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ = "gen_ai.usage.cache_read.input_tokens"

# --- lk_otel: agent turn (agent_turn / assistant_turn) --------------------------------
TURN_INDEX = "lk_otel.turn.index"  # 1-based, every agent turn of the session
TURN_KIND = "lk_otel.turn.kind"  # "reply" (answers a user turn) or "greeting" / "say"
TURN_E2E_LATENCY = "lk_otel.turn.e2e_latency"
TURN_END_OF_TURN_DELAY = "lk_otel.turn.end_of_turn_delay"
TURN_TRANSCRIPTION_DELAY = "lk_otel.turn.transcription_delay"
TURN_ON_USER_TURN_COMPLETED_DELAY = "lk_otel.turn.on_user_turn_completed_delay"
TURN_LLM_TTFT = "lk_otel.turn.llm_ttft"
TURN_TTS_TTFB = "lk_otel.turn.tts_ttfb"
TURN_LATENCY_SUM = "lk_otel.turn.latency_sum"
TURN_LLM_CALLS = "lk_otel.turn.llm_calls"
TURN_TOOL_CALLS = "lk_otel.turn.tool_calls"
TURN_INPUT_TOKENS = "lk_otel.turn.input_tokens"
TURN_OUTPUT_TOKENS = "lk_otel.turn.output_tokens"
TURN_CACHED_INPUT_TOKENS = "lk_otel.turn.cached_input_tokens"
TURN_TTS_CHARACTERS = "lk_otel.turn.tts_characters"
TURN_TTS_AUDIO_DURATION = "lk_otel.turn.tts_audio_duration"
TURN_INTERRUPTED = "lk_otel.turn.interrupted"
TURN_COST = "lk_otel.turn.cost"  # in the currency of the prices= given
TURN_SESSION_ID = "lk_otel.session.id"  # also on every turn, so live calls group by session

# --- lk_otel: llm_node -----------------------------------------------------------------
LLM_TTFT = "lk_otel.llm.ttft"
LLM_DURATION = "lk_otel.llm.duration"
LLM_INPUT_TOKENS = "lk_otel.llm.input_tokens"
LLM_OUTPUT_TOKENS = "lk_otel.llm.output_tokens"
LLM_CACHED_INPUT_TOKENS = "lk_otel.llm.cached_input_tokens"
LLM_TOKENS_PER_SECOND = "lk_otel.llm.tokens_per_second"
LLM_MODEL = "lk_otel.llm.model"
LLM_PROVIDER = "lk_otel.llm.provider"

# --- lk_otel: tts_node -----------------------------------------------------------------
TTS_TTFB = "lk_otel.tts.ttfb"
TTS_DURATION = "lk_otel.tts.duration"
TTS_CHARACTERS = "lk_otel.tts.characters"
TTS_AUDIO_DURATION = "lk_otel.tts.audio_duration"
TTS_STREAMED = "lk_otel.tts.streamed"

# --- lk_otel: user_turn ----------------------------------------------------------------
USER_TRANSCRIPTION_DELAY = "lk_otel.user.transcription_delay"
USER_END_OF_TURN_DELAY = "lk_otel.user.end_of_turn_delay"
USER_SPEECH_DURATION = "lk_otel.user.speech_duration"
USER_STT_AUDIO_DURATION = "lk_otel.user.stt_audio_duration"

# --- lk_otel: agent_session ------------------------------------------------------------
SESSION_ID = "lk_otel.session.id"
SESSION_TURNS = "lk_otel.session.turns"
SESSION_DURATION = "lk_otel.session.duration"
SESSION_INPUT_TOKENS = "lk_otel.session.input_tokens"
SESSION_OUTPUT_TOKENS = "lk_otel.session.output_tokens"
SESSION_CACHED_INPUT_TOKENS = "lk_otel.session.cached_input_tokens"
SESSION_TTS_CHARACTERS = "lk_otel.session.tts_characters"
SESSION_TTS_AUDIO_DURATION = "lk_otel.session.tts_audio_duration"
SESSION_STT_AUDIO_DURATION = "lk_otel.session.stt_audio_duration"
SESSION_INTERRUPTIONS = "lk_otel.session.interruptions"
SESSION_TOOL_CALLS = "lk_otel.session.tool_calls"
SESSION_USAGE = "lk_otel.session.usage"  # JSON list, one object per (provider, model)
SESSION_E2E_P50 = "lk_otel.session.e2e_latency.p50"
SESSION_E2E_P95 = "lk_otel.session.e2e_latency.p95"
SESSION_E2E_MAX = "lk_otel.session.e2e_latency.max"
SESSION_LLM_TTFT_P50 = "lk_otel.session.llm_ttft.p50"
SESSION_LLM_TTFT_P95 = "lk_otel.session.llm_ttft.p95"
SESSION_TTS_TTFB_P50 = "lk_otel.session.tts_ttfb.p50"
SESSION_TTS_TTFB_P95 = "lk_otel.session.tts_ttfb.p95"
SESSION_COST = "lk_otel.session.cost"

# --- lk_otel: waterfall stage spans ------------------------------------------------------
STAGE_NAME = "lk_otel.stage"
STAGE_DURATION = "lk_otel.stage.duration"

# --- backend mappings --------------------------------------------------------------------
LANGFUSE_SESSION_ID = "langfuse.session.id"
LANGFUSE_TRACE_NAME = "langfuse.trace.name"
LANGFUSE_USER_ID = "langfuse.user.id"
LANGFUSE_TRACE_TAGS = "langfuse.trace.tags"
LANGFUSE_ENVIRONMENT = "langfuse.environment"
LANGFUSE_RELEASE = "langfuse.release"
LANGFUSE_OBSERVATION_TYPE = "langfuse.observation.type"
LANGFUSE_COST_DETAILS = "langfuse.observation.cost_details"
OPENINFERENCE_SPAN_KIND = "openinference.span.kind"
OPENINFERENCE_PROJECT = "openinference.project.name"
OI_SESSION_ID = "session.id"
OI_USER_ID = "user.id"
OI_LLM_MODEL_NAME = "llm.model_name"
OI_LLM_PROVIDER = "llm.provider"
OI_TOKEN_PROMPT = "llm.token_count.prompt"
OI_TOKEN_COMPLETION = "llm.token_count.completion"
OI_TOKEN_TOTAL = "llm.token_count.total"

# --- resource --------------------------------------------------------------------------
SERVICE_NAME = "service.name"
SERVICE_VERSION = "service.version"
DEPLOYMENT_ENVIRONMENT = "deployment.environment.name"

# --- metric instruments (lk_otel.metrics) -------------------------------------------------
METRIC_TURN_E2E = "lk_otel.turn.e2e_latency"
METRIC_TURN_EOT = "lk_otel.turn.end_of_turn_delay"
METRIC_TURN_LLM_TTFT = "lk_otel.turn.llm_ttft"
METRIC_TURN_TTS_TTFB = "lk_otel.turn.tts_ttfb"
METRIC_TOKENS = "lk_otel.llm.tokens"
METRIC_TTS_CHARACTERS = "lk_otel.tts.characters"
METRIC_TTS_AUDIO = "lk_otel.tts.audio_duration"
METRIC_STT_AUDIO = "lk_otel.stt.audio_duration"
METRIC_INTERRUPTIONS = "lk_otel.turn.interruptions"
METRIC_GENAI_DURATION = "gen_ai.client.operation.duration"
METRIC_GENAI_TOKENS = "gen_ai.client.token.usage"
METRIC_GENAI_TTFC = "gen_ai.client.operation.time_to_first_chunk"
GEN_AI_OPERATION_NAME = "gen_ai.operation.name"
GEN_AI_TOKEN_TYPE = "gen_ai.token.type"
AGENT_NAME = "lk_otel.agent.name"

# --- issue 14: livekit keys that differ between releases (see lk_otel._compat.RELEASES) ---
LK_GENERATION_ID = "lk.generation_id"  # agent_turn, 1.3+: "<speech_id>_<n>"
LK_PARENT_GENERATION_ID = "lk.parent_generation_id"  # a 1.3-1.7 tool follow-up agent_turn
LK_TRANSCRIPT_CONFIDENCE = "lk.transcript_confidence"  # user_turn that heard the user
