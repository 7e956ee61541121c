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

# --- issue 12: what Langfuse, Phoenix and MLflow show -------------------------------------
SPAN_LLM_REQUEST_RUN = "llm_request_run"
SPAN_TTS_REQUEST_RUN = "tts_request_run"
SPAN_START_AGENT_ACTIVITY = "start_agent_activity"
GEN_AI_RESPONSE_MODEL = "gen_ai.response.model"
# livekit's content keys, newest release first (1.8: lk.pii.*; 1.2: the plain names)
LK_RESPONSE_TEXT_KEYS = ("lk.pii.response.text", "lk.response.text")
LK_USER_TRANSCRIPT_KEYS = ("lk.pii.user_transcript", "lk.user_transcript")
LK_CHAT_CTX_KEYS = ("lk.pii.chat_ctx", "lk.chat_ctx")
LK_INPUT_TEXT_KEYS = ("lk.pii.input_text", "lk.input_text")
LK_TOOL_ARGUMENTS_KEYS = (
    "lk.pii.function_tool.arguments",
    "lk.function_tool.arguments",
    "gen_ai.tool.call.arguments",
)
LK_TOOL_OUTPUT_KEYS = (
    "lk.pii.function_tool.output",
    "lk.function_tool.output",
    "gen_ai.tool.call.result",
)
# asked of the enrichment: the STT model of a user turn (1.2 puts none on the span), and the
# call's first user text / last agent text on agent_session (content: only with PII allowed)
USER_STT_MODEL = "lk_otel.user.stt_model"
USER_STT_PROVIDER = "lk_otel.user.stt_provider"
SESSION_FIRST_USER_TEXT = "lk_otel.session.pii.first_user_text"
SESSION_LAST_AGENT_TEXT = "lk_otel.session.pii.last_agent_text"
# Langfuse
LANGFUSE_OBSERVATION_LEVEL = "langfuse.observation.level"
LANGFUSE_OBSERVATION_MODEL = "langfuse.observation.model.name"
LANGFUSE_USAGE_DETAILS = "langfuse.observation.usage_details"
LANGFUSE_COMPLETION_START_TIME = "langfuse.observation.completion_start_time"
LANGFUSE_OBSERVATION_INPUT = "langfuse.observation.input"
LANGFUSE_OBSERVATION_OUTPUT = "langfuse.observation.output"
LANGFUSE_TRACE_INPUT = "langfuse.trace.input"
LANGFUSE_TRACE_OUTPUT = "langfuse.trace.output"
LANGFUSE_OBSERVATION_METADATA = "langfuse.observation.metadata."  # + the lk_otel key
LANGFUSE_TRACE_METADATA = "langfuse.trace.metadata."  # + the lk_otel key
# usage keys in langfuse.observation.usage_details (Langfuse's own names for LLM tokens)
LANGFUSE_USAGE_INPUT = "input"  # input tokens not read from the cache
LANGFUSE_USAGE_CACHED = "input_cached_tokens"
LANGFUSE_USAGE_OUTPUT = "output"
LANGFUSE_USAGE_CHARACTERS = "characters"
LANGFUSE_USAGE_AUDIO_MS = "audio_ms"  # Langfuse takes whole numbers only: milliseconds
LANGFUSE_USAGE_TOTAL = "total"
# OpenInference (Phoenix)
OI_INPUT_VALUE = "input.value"
OI_OUTPUT_VALUE = "output.value"
OI_TOKEN_CACHE_READ = "llm.token_count.prompt_details.cache_read"
# MLflow 3.x (values JSON-encoded, as MLflow stores its own attributes)
MLFLOW_SPAN_TYPE = "mlflow.spanType"
MLFLOW_SPAN_INPUTS = "mlflow.spanInputs"
MLFLOW_SPAN_OUTPUTS = "mlflow.spanOutputs"

# --- issue 9 / 17 / 10 (core): fallbacks, speech segments, turn audio -------------------
LLM_CANCELLED = "lk_otel.llm.cancelled"  # no LLMMetrics: cancelled or failed request
TTS_CANCELLED = "lk_otel.tts.cancelled"  # no TTSMetrics: cancelled or failed synthesis
TURN_PRODUCED_AUDIO = "lk_otel.turn.produced_audio"  # False: interrupted before first audio
USER_SPEECH_TOTAL = "lk_otel.user.speech_duration_total"  # every user_speaking segment, s
USER_SPEECH_SEGMENTS = "lk_otel.user.speech_segments"  # user_speaking segments merged
SPAN_ON_USER_TURN_COMPLETED = "on_user_turn_completed"  # livekit >= 1.3
LK_GENERATION_ID = "lk.generation_id"

# --- issue 11: the critical path of a turn (lk_otel.enrich.critical_path) -----------------
# stage spans (children of response_latency): STAGE_NAME / STAGE_DURATION above, and
STAGE_CRITICAL = "lk_otel.stage.critical"  # bool: on the critical path (tiles the parent)
STAGE_TOOL = "lk_otel.stage.tool"  # tool stages: the tool's name
STAGE_ROUND = "lk_otel.stage.round"  # LLM stages: 1-based LLM round of the turn
STAGE_MISSING = "lk_otel.stage.missing"  # on response_latency: stages livekit gave no time for
# stage names (values of lk_otel.stage), in path order
STAGE_END_OF_TURN = "end_of_turn"  # user stopped speaking -> turn committed (endpointing)
STAGE_TRANSCRIPTION = "transcription"  # user stopped -> final transcript (inside end_of_turn)
STAGE_ON_USER_TURN_COMPLETED = "on_user_turn_completed"  # the agent's hook
STAGE_PREEMPTIVE_LLM = "preemptive_llm"  # part of an LLM round that ran before the path got there
STAGE_LLM = "llm"  # an LLM round: to its tool call, or (spoken round) to its first token
STAGE_TOOL_RUN = "tool"  # one function tool execution
STAGE_LLM_FINISH = "llm_finish"  # a tool round's response still streaming after its tool ran
STAGE_TOOL_HANDOFF = "tool_handoff"  # tool round done -> follow-up LLM request starts
STAGE_PREEMPTIVE_TTS = "preemptive_tts"  # part of the TTS that ran before the path got there
STAGE_TTS = "tts"  # first text to the TTS -> its first audio byte (spoken segment)
STAGE_PLAYOUT = "playout"  # first audio byte -> the agent's audio starts playing
STAGE_UNTRACKED = "untracked"  # a gap between two known timestamps that nothing explains
# on the turn span
TURN_STAGE_PREFIX = "lk_otel.turn.stage."  # + stage name: seconds on the path, summed over rounds
TURN_SPOKEN_LLM_TTFT = "lk_otel.turn.spoken_llm_ttft"  # heard round: llm_node start -> 1st token
TURN_LLM_ROUNDS = "lk_otel.turn.llm_rounds"  # LLM rounds on the critical path
TURN_SLOWEST_STAGE = "lk_otel.turn.slowest_stage"  # stage name with the most path time
TURN_CRITICAL_PATH = "lk_otel.turn.critical_path"  # seconds: the path's length (= e2e)
TURN_PATH_MISSING = "lk_otel.turn.path_missing"  # stages livekit gave no timestamp for
# livekit names the report's timeline builder reads (lk_otel.report.timeline)
SPAN_ON_USER_TURN_COMPLETED = "on_user_turn_completed"  # 1.8 only
LK_END_TIME = "lk.end_time"  # 1.2 user_speaking / agent_speaking: epoch seconds
LK_RESPONSE_FUNCTION_CALLS = "lk.response.function_calls"  # 1.2 llm_node, JSON list
GEN_AI_TOOL_NAME = "gen_ai.tool.name"  # 1.8 function_tool
LK_FUNCTION_TOOL_NAME = "lk.function_tool.name"  # every release (the only one on 1.2)
LK_FUNCTION_TOOL_NAME = "lk.function_tool.name"  # function_tool, both releases

# --- issue 13: realtime models, agent handoffs, barge-in ----------------------------------
# livekit's keys read (1.8.9)
SPAN_REALTIME_INFERENCE = "realtime_inference"  # one per realtime response, under agent_turn
SPAN_REALTIME_METRICS = "realtime_metrics"  # livekit's child when metrics outlive the inference
SPAN_REALTIME_ASSISTANT_TURN = "realtime_assistant_turn"  # 1.2: a realtime turn, with metrics
REALTIME_TURN_SPAN_NAMES = frozenset({SPAN_REALTIME_ASSISTANT_TURN})
SPAN_DRAIN_AGENT_ACTIVITY = "drain_agent_activity"
SPAN_UPDATE_AGENT = "update_agent"  # a handoff: under agent_session, parent of drain/start
LK_REALTIME_MODEL_METRICS = "lk.realtime_model_metrics"  # RealtimeModelMetrics JSON
LK_PREVIOUS_AGENT_LABEL = "lk.previous_agent_label"
TOOL_NAME_KEYS = ("gen_ai.tool.name", "lk.function_tool.name")  # 1.8, 1.2
LK_PLAYOUT_POSITION = "lk.playout.position"  # s of the interrupted reply played (pipeline)
# per turn
TURN_AGENT = "lk_otel.turn.agent"
TURN_INPUT_AUDIO_TOKENS = "lk_otel.turn.input_audio_tokens"
TURN_INPUT_TEXT_TOKENS = "lk_otel.turn.input_text_tokens"
TURN_INPUT_IMAGE_TOKENS = "lk_otel.turn.input_image_tokens"
TURN_OUTPUT_AUDIO_TOKENS = "lk_otel.turn.output_audio_tokens"
TURN_OUTPUT_TEXT_TOKENS = "lk_otel.turn.output_text_tokens"
TURN_CACHED_INPUT_AUDIO_TOKENS = "lk_otel.turn.cached_input_audio_tokens"
TURN_CACHED_INPUT_TEXT_TOKENS = "lk_otel.turn.cached_input_text_tokens"
TURN_REALTIME_RESPONSES = "lk_otel.turn.realtime_responses"
TURN_REALTIME_DURATION = "lk_otel.turn.realtime_duration"  # s, sum of response durations
TURN_PLAYED_DURATION = "lk_otel.turn.played_duration"  # s of agent audio heard (interrupted)
TURN_BARGE_IN_STOP_LATENCY = "lk_otel.turn.barge_in_stop_latency"  # s, user start -> audio stop
# per realtime response (on realtime_inference / realtime_metrics)
REALTIME_TTFT = "lk_otel.realtime.ttft"
REALTIME_DURATION = "lk_otel.realtime.duration"
REALTIME_COST = "lk_otel.realtime.cost"
# per session
SESSION_INPUT_AUDIO_TOKENS = "lk_otel.session.input_audio_tokens"
SESSION_INPUT_TEXT_TOKENS = "lk_otel.session.input_text_tokens"
SESSION_INPUT_IMAGE_TOKENS = "lk_otel.session.input_image_tokens"
SESSION_OUTPUT_AUDIO_TOKENS = "lk_otel.session.output_audio_tokens"
SESSION_OUTPUT_TEXT_TOKENS = "lk_otel.session.output_text_tokens"
SESSION_CACHED_INPUT_AUDIO_TOKENS = "lk_otel.session.cached_input_audio_tokens"
SESSION_CACHED_INPUT_TEXT_TOKENS = "lk_otel.session.cached_input_text_tokens"
SESSION_REALTIME_SESSION_DURATION = "lk_otel.session.realtime_session_duration"  # s, billed
SESSION_HANDOFFS = "lk_otel.session.handoffs"
SESSION_AGENTS = "lk_otel.session.agents"  # string array, in order of first activity
SESSION_AGENT_USAGE = "lk_otel.session.agent_usage"  # JSON list: per agent totals
SESSION_FALSE_INTERRUPTIONS = "lk_otel.session.false_interruptions"
SESSION_RESUMED_INTERRUPTIONS = "lk_otel.session.resumed_interruptions"
# the handoff event (on agent_session, at the update_agent span's start)
EVENT_HANDOFF = "lk_otel.handoff"
HANDOFF_FROM = "lk_otel.handoff.from"
HANDOFF_TO = "lk_otel.handoff.to"
HANDOFF_TOOL = "lk_otel.handoff.tool"
# metrics
METRIC_TURN_PLAYED_DURATION = "lk_otel.turn.played_duration"
METRIC_TURN_BARGE_IN_STOP_LATENCY = "lk_otel.turn.barge_in_stop_latency"
METRIC_REALTIME_TTFT = "lk_otel.realtime.ttft"
METRIC_REALTIME_TOKENS = "lk_otel.realtime.tokens"
METRIC_HANDOFFS = "lk_otel.agent.handoffs"
METRIC_FALSE_INTERRUPTIONS = "lk_otel.turn.false_interruptions"
TOKEN_MODALITY = "lk_otel.token.modality"  # audio / text / image
# Langfuse usage_details keys of a realtime response (Langfuse's OpenAI-realtime names)
LANGFUSE_USAGE_INPUT_AUDIO = "input_audio_tokens"
LANGFUSE_USAGE_INPUT_TEXT = "input_text_tokens"
LANGFUSE_USAGE_INPUT_IMAGE = "input_image_tokens"
LANGFUSE_USAGE_CACHED_AUDIO = "input_cached_audio_tokens"
LANGFUSE_USAGE_CACHED_TEXT = "input_cached_text_tokens"
LANGFUSE_USAGE_OUTPUT_AUDIO = "output_audio_tokens"
LANGFUSE_USAGE_OUTPUT_TEXT = "output_text_tokens"
# OpenInference audio token counts of a realtime response
OI_TOKEN_PROMPT_AUDIO = "llm.token_count.prompt_details.audio"
OI_TOKEN_COMPLETION_AUDIO = "llm.token_count.completion_details.audio"
INTERRUPTION_RESUMED = "lk_otel.interruption.resumed"

# --- issue 14: livekit keys that differ between releases (see lk_otel._compat.RELEASES) ---
LK_PARENT_GENERATION_ID = "lk.parent_generation_id"  # a 1.3-1.7 tool follow-up agent_turn
LK_TRANSCRIPT_CONFIDENCE = "lk.transcript_confidence"  # user_turn that heard the user

# --- issue 14 (lkmid): livekit 1.3-1.7 tool follow-ups, traced as sibling turn spans ---
TURN_FOLLOW_UPS = "lk_otel.turn.follow_ups"  # on the turn: sibling follow-up spans merged in
TURN_FOLLOW_UP_OF = "lk_otel.turn.follow_up_of"  # on a follow-up: the turn's lk_otel.turn.index
TURN_FOLLOW_UP_INDEX = "lk_otel.turn.follow_up_index"  # on a follow-up: 1-based, in order
