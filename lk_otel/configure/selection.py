"""Which backends: the ``backend=`` argument (names, backend objects, exporters, a list of
them) or, unset, the environment; two entries sending to the same place are refused."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from opentelemetry.sdk.trace.export import SpanExporter

from ..errors import ConfigError
from .backends import OTLP, Backend, Console, ExportTarget, File, Jaeger, Langfuse
from .env import Environ, first_env

BY_NAME: dict[str, type[Backend]] = {
    "otlp": OTLP,
    "jaeger": Jaeger,
    "langfuse": Langfuse,
    "console": Console,
    "file": File,
}


def backend_from_name(name: str) -> Backend:
    """The backend registered under ``name``, or a ``ConfigError`` listing the names."""
    cls = BY_NAME.get(name.strip().lower())
    if cls is None:
        raise ConfigError(f"backend: unknown name {name!r}; choose from {', '.join(BY_NAME)}")
    return cls()


def backends_from_env(env: Environ) -> list[Backend]:
    """Langfuse when its keys are set, OTLP when an OTLP traces endpoint is set."""
    chosen: list[Backend] = []
    if first_env(env, "LANGFUSE_PUBLIC_KEY") or first_env(env, "LANGFUSE_SECRET_KEY"):
        chosen.append(Langfuse())
    if first_env(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        chosen.append(OTLP())
    return chosen


BackendArg = str | Backend | SpanExporter | Sequence[str | Backend | SpanExporter] | None


def coerce_backends(backend: BackendArg, env: Environ) -> list[Backend | SpanExporter]:
    """The ``backend=`` argument as a list; unset, chosen from the environment.

    Raises ``ConfigError`` for anything but names, backend objects and exporters (a class
    instead of an instance included) and for two entries sending to the same place.
    """
    if backend is None:
        chosen: list[Backend | SpanExporter] = list(backends_from_env(env))
        if not chosen:
            logging.getLogger("lk_otel").info(
                "lk_otel: no backend configured; exporting OTLP/gRPC to localhost:4317 "
                "(set LANGFUSE_* or OTEL_EXPORTER_OTLP_ENDPOINT, or pass backend=)"
            )
            chosen = [OTLP()]
        return chosen
    if isinstance(backend, str | Backend | SpanExporter):
        items: list[object] = [backend]
    elif isinstance(backend, type | Mapping | bytes):
        items = [backend]  # reported below, by _item
    else:
        try:
            items = list(backend)
        except TypeError:
            items = [backend]
    if not items:
        raise ConfigError("backend: the list is empty")
    out = [_item(item, position) for position, item in enumerate(items, start=1)]
    reject_duplicates(out, env)
    return out


def _item(item: object, position: int) -> Backend | SpanExporter:
    where = "backend" if position == 1 else f"backend (item {position})"
    if isinstance(item, str):
        return backend_from_name(item)
    if isinstance(item, Backend | SpanExporter):
        return item
    if isinstance(item, type) and issubclass(item, Backend | SpanExporter):
        raise ConfigError(
            f"{where}: got the class {item.__name__}, not an instance; pass {item.__name__}()"
        )
    raise ConfigError(
        f"{where}: expected a name, a backend object or a SpanExporter, got {type(item).__name__}"
    )


def reject_duplicates(backends: Sequence[Backend | SpanExporter], env: Environ) -> None:
    """A ``ConfigError`` when two entries would export the same spans to the same place
    (same kind, protocol, endpoint and headers; the same file; the same exporter object).

    An entry that does not resolve is skipped here; resolving it later reports why.
    """
    seen: list[tuple[int, ExportTarget | SpanExporter]] = []
    for position, backend in enumerate(backends, start=1):
        if isinstance(backend, Backend):
            try:
                target: ExportTarget | SpanExporter | None = backend.resolve(env)
            except ConfigError:
                continue
            if target is None:
                continue
        else:
            target = backend
        for earlier, other in seen:
            if other is target or (
                isinstance(other, ExportTarget)
                and isinstance(target, ExportTarget)
                and other.same_destination(target)
            ):
                where = target.describe() if isinstance(target, ExportTarget) else repr(target)
                raise ConfigError(
                    f"backend: items {earlier} and {position} both export to {where} "
                    "(same kind, endpoint and headers); remove one"
                )
        seen.append((position, target))
