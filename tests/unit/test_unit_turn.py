"""The agent turn (enrich/turn.py): latency sources, cost, sums and the timeline's placement
of first tokens, first bytes, tools and the spoken round, at their exact boundaries."""

from __future__ import annotations

from typing import Any

from lk_otel import semconv as sc
from lk_otel.enrich.cost import PriceTable
from lk_otel.enrich.extract import LlmCall, Tally, TtsCall
from lk_otel.enrich.records import EouTiming
from lk_otel.enrich.state import ToolSpan, TurnState, UserTurnFacts
from lk_otel.enrich.turn import build_timeline, summarize_turn, turn_attributes

S = 1_000_000_000
NAN = float("nan")


def llm(start: int, ttft: float | None = 0.1, **kw: Any) -> LlmCall:
    base: dict[str, Any] = {
        "start_ns": start,
        "ttft": ttft,
        "duration": 0.5,
        "input_tokens": 10,
        "output_tokens": 2,
        "cached_input_tokens": 4,
        "tokens_per_second": None,
        "model": "mini",
        "provider": "openai",
        "end_ns": start + S // 2,
    }
    base.update(kw)
    return LlmCall(**base)


def tts(start: int, ttfb: float | None = 0.05, **kw: Any) -> TtsCall:
    base: dict[str, Any] = {
        "start_ns": start,
        "ttfb": ttfb,
        "duration": 0.3,
        "characters": 20,
        "audio_duration": 1.25,
        "streamed": True,
        "model": "sonic",
        "provider": "cartesia",
        "end_ns": start + S,
    }
    base.update(kw)
    return TtsCall(**base)


def summarize(attrs: dict[str, Any], state: TurnState, **kw: Any):  # type: ignore[no-untyped-def]
    args: dict[str, Any] = {"eou": None, "user_turns_before": 1, "agent_name": None, "prices": None}
    args.update(kw)
    return summarize_turn(attrs, state, **args)


def test_the_turn_spans_latencies_win_over_the_eou_metrics() -> None:
    attrs = {
        sc.LK_E2E_LATENCY: 1.5,
        sc.LK_END_OF_TURN_DELAY: 0.5,
        sc.LK_TRANSCRIPTION_DELAY: 0.25,
        sc.LK_ON_USER_TURN_COMPLETED_DELAY: 0.125,
    }
    eou = EouTiming(9.0, 8.0, 7.0, "sp", 100.0)
    state = TurnState(index=3, start_ns=0, speaking_start_ns=200 * S)
    s = summarize(attrs, state, eou=eou)
    assert (s.e2e_latency, s.end_of_turn_delay, s.transcription_delay) == (1.5, 0.5, 0.25)
    assert s.on_user_turn_completed_delay == 0.125


def test_eou_metrics_fill_in_and_e2e_is_first_audio_minus_last_speech() -> None:
    """livekit 1.2: no latency on the turn span; e2e = first audio - user's last speech."""
    eou = EouTiming(0.5, 0.25, 0.125, "sp", 100.25)
    state = TurnState(index=1, start_ns=0, speaking_start_ns=102 * S)
    s = summarize({}, state, eou=eou)
    assert (s.end_of_turn_delay, s.transcription_delay) == (0.5, 0.25)
    assert (s.on_user_turn_completed_delay, s.e2e_latency) == (0.125, 1.75)
    assert s.kind == "reply"
    no_audio = summarize({}, TurnState(index=1, start_ns=0), eou=eou)
    assert no_audio.e2e_latency is None and no_audio.produced_audio is False


def test_every_non_finite_latency_is_tallied() -> None:
    t = Tally()
    attrs = {
        sc.LK_E2E_LATENCY: NAN,
        sc.LK_END_OF_TURN_DELAY: NAN,
        sc.LK_TRANSCRIPTION_DELAY: NAN,
        sc.LK_ON_USER_TURN_COMPLETED_DELAY: NAN,
    }
    s = summarize(attrs, TurnState(index=1, start_ns=0), tally=t)
    assert t.nonfinite == 4
    assert s.e2e_latency is None and s.end_of_turn_delay is None
    t2 = Tally()
    eou = EouTiming(NAN, NAN, NAN, "x", NAN)
    s2 = summarize({}, TurnState(1, 0, speaking_start_ns=S), eou=eou, tally=t2)
    assert t2.nonfinite == 4 and s2.e2e_latency is None and s2.on_user_turn_completed_delay is None


def test_sums_cost_and_missing_figures() -> None:
    state = TurnState(index=2, start_ns=0, speaking_start_ns=S)
    state.llm = [
        llm(2 * S, ttft=None, input_tokens=100, output_tokens=10, cached_input_tokens=40),
        llm(S, ttft=0.3, input_tokens=1000, output_tokens=20, cached_input_tokens=400, model="big"),
    ]
    state.tts = [tts(3 * S, ttfb=0.07, characters=10, audio_duration=0.5), tts(2 * S, ttfb=None)]
    state.tool_calls = 1
    prices = PriceTable.parse(
        {
            "openai/mini": {"input_per_1m": 1.0, "output_per_1m": 2.0, "cached_input_per_1m": 0.5},
            "openai/big": {"input_per_1m": 10.0, "output_per_1m": 20.0},
            "cartesia/sonic": {"characters_per_1k": 1.0},
        }
    )
    s = summarize({sc.LK_END_OF_TURN_DELAY: 0.5}, state, prices=prices, agent_name="host")
    # calls in start order; the first with a figure gives the turn's
    assert [c.start_ns for c in s.llm] == [S, 2 * S] and s.llm_ttft == 0.3
    assert s.tts_ttfb == 0.07
    assert s.latency_sum == 0.5 + 0.3 + 0.07
    assert (s.input_tokens, s.output_tokens, s.cached_input_tokens) == (1100, 30, 440)
    assert (s.tts_characters, s.tts_audio_duration) == (30, 1.75)
    assert (s.llm_calls, s.tool_calls, s.agent_name, s.index) == (2, 1, "host", 2)
    mini = (60 * 1.0 + 40 * 0.5 + 10 * 2.0) / 1e6
    big = (1000 * 10.0 + 20 * 20.0) / 1e6  # no cached price: cached input at the input price
    speech = 30 * 1.0 / 1e3
    assert s.cost is not None and abs(s.cost - (mini + big + speech)) < 1e-15
    assert s.interrupted is False
    bare = summarize({}, TurnState(index=1, start_ns=0))
    assert (bare.latency_sum, bare.cost, bare.interrupted) == (None, None, False)
    a = turn_attributes(bare, "sid")
    assert sc.TURN_LATENCY_SUM not in a and sc.TURN_COST not in a
    assert summarize({sc.LK_INTERRUPTED: True}, TurnState(1, 0)).interrupted is True


def test_first_byte_and_first_token_fall_back_to_the_node_start() -> None:
    state = TurnState(index=1, start_ns=0, speaking_start_ns=5 * S)
    state.llm = [llm(S, ttft=0.25, request_start_ns=None)]
    state.tts = [tts(2 * S, ttfb=1.0, request_start_ns=None)]
    tl = build_timeline(summarize({}, state), state)
    assert tl.llm[0].first_token_ns == S + S // 4
    assert tl.tts[0].first_byte_ns == 3 * S  # exactly one second after its start


def test_the_spoken_synthesis_is_the_last_one_started_by_the_first_audio() -> None:
    audio = 5 * S
    state = TurnState(index=1, start_ns=0, speaking_start_ns=audio)
    state.llm = [llm(S), llm(audio)]  # the second round starts with the synthesis it feeds
    state.tts = [
        tts(2 * S),
        tts(audio),  # starts exactly at the first audio: still the spoken one
        tts(audio + 1, ttfb=0.01),  # started after the audio: not spoken
        tts(S, ttfb=None),  # no first byte: never spoken
    ]
    tl = build_timeline(summarize({}, state), state)
    assert [r.spoken for r in tl.tts] == [False, False, True, False]  # in start order
    assert [r.start_ns for r in tl.tts] == [S, 2 * S, audio, audio + 1]
    assert [r.spoken for r in tl.llm] == [False, True]


def test_no_synthesis_before_the_audio_means_nothing_spoken() -> None:
    state = TurnState(index=1, start_ns=0, speaking_start_ns=S)
    state.llm = [llm(0)]
    state.tts = [tts(2 * S)]
    tl = build_timeline(summarize({}, state), state)
    assert [r.spoken for r in tl.tts] == [False] and [r.spoken for r in tl.llm] == [False]


def test_tools_go_to_the_round_before_them_at_exact_boundaries() -> None:
    state = TurnState(index=1, start_ns=0, speaking_start_ns=None)
    state.llm = [llm(S), llm(3 * S), llm(5 * S)]
    state.tools = [
        ToolSpan("at_round_1", S, 2 * S),  # starts with round 1
        ToolSpan("before_round_2", 3 * S - 1, 3 * S),
        ToolSpan("at_round_2", 3 * S, 4 * S),  # starts with round 2
        ToolSpan("late", 6 * S, 7 * S),
        ToolSpan("before_all", S - 1, S),
    ]
    tl = build_timeline(summarize({}, state), state)
    assert [r.tool_calls for r in tl.llm] == [
        ("at_round_1", "before_round_2"),
        ("at_round_2",),
        ("late",),
    ]
    assert tl.tools[0].name == "before_all"


def test_user_stop_is_first_audio_minus_e2e_else_the_last_speech() -> None:
    user = UserTurnFacts(speech_end_ns=3 * S, on_user_turn_completed=(4 * S, 4 * S + 7))
    state = TurnState(index=1, start_ns=0, speaking_start_ns=10 * S, user=user)
    attrs = {sc.LK_E2E_LATENCY: 1.0, sc.LK_END_OF_TURN_DELAY: 1.0, sc.LK_TRANSCRIPTION_DELAY: 0.5}
    tl = build_timeline(summarize(attrs, state), state)
    assert (tl.user_stop_ns, tl.end_of_turn_ns, tl.transcript_ns) == (9 * S, 10 * S, 9 * S + S // 2)
    assert tl.on_user_turn_completed_ns == (4 * S, 4 * S + 7)
    tl2 = build_timeline(summarize({sc.LK_END_OF_TURN_DELAY: 1.0}, state), state)
    assert (tl2.user_stop_ns, tl2.end_of_turn_ns) == (3 * S, 4 * S)
