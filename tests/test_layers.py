"""Imports run downward only: each part of ``lk_otel`` imports only parts of a lower layer
(value types and errors at the bottom, the composition root ``setup_tracing()`` at the top).

Read from the source with ``ast``: every import counts, those under ``TYPE_CHECKING`` and
inside functions included, since each one is a dependency of the module that holds it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lk_otel"

# lowest first; a part is a top-level module or subpackage of lk_otel ("" is lk_otel itself)
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "version", "semconv", "content_keys"),  # value types, errors, names
    ("_compat",),  # the one module that reads livekit's and the SDK's internals
    ("enrich", "simulation"),  # the pure core (records in, attributes out); the scripted call
    ("configure", "report"),  # the frozen config; reading a traced call back
    ("export",),
    ("collect",),  # livekit's spans into the core, its releases out to export
    ("metrics", "routing"),
    ("tracing",),  # the composition root: setup_tracing()
    ("cli", ""),  # the command line; the package's public names
)
LAYER_OF = {part: n for n, parts in enumerate(LAYERS) for part in parts}


def _module(path: Path) -> tuple[str, ...]:
    rel = path.relative_to(PACKAGE).with_suffix("")
    return rel.parts[:-1] if rel.name == "__init__" else rel.parts


def _targets(path: Path, text: str | None = None) -> list[tuple[int, tuple[str, ...]]]:
    """(line, module path inside lk_otel) of every lk_otel import in the file at ``path``
    (its ``text``, when given, instead of what the file holds)."""
    module = _module(path)
    package = module if path.name == "__init__.py" else module[:-1]
    out: list[tuple[int, tuple[str, ...]]] = []
    for node in ast.walk(ast.parse(text if text is not None else path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = tuple(alias.name.split("."))
                if parts[0] == "lk_otel":
                    out.append((node.lineno, parts[1:]))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = base + tuple((node.module or "").split(".") if node.module else ())
            elif node.module and node.module.split(".")[0] == "lk_otel":
                target = tuple(node.module.split("."))[1:]
            else:
                continue
            # "from .. import x": x is a module of that package when such a file exists
            for alias in node.names if not target or not node.module else [None]:
                name = alias.name if alias is not None else None
                sub = PACKAGE.joinpath(*target, name) if name else None
                is_module = sub is not None and (sub.with_suffix(".py").exists() or sub.is_dir())
                out.append((node.lineno, (*target, name) if is_module and name else target))
    return out


def _part(module: tuple[str, ...]) -> str:
    return module[0] if module else ""


def _files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_part_of_the_package_has_a_layer() -> None:
    parts = {_part(_module(path)) for path in _files()}
    assert parts - set(LAYER_OF) == set(), "place the new part in LAYERS"


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_module_imports_only_its_own_part_or_lower_layers(path: Path) -> None:
    own = _part(_module(path))
    upward = [
        f"line {line}: lk_otel.{'.'.join(target) or '(package)'}"
        for line, target in _targets(path)
        if _part(target) != own and LAYER_OF.get(_part(target), -1) >= LAYER_OF[own]
    ]
    assert upward == [], f"{own or 'lk_otel'} (layer {LAYER_OF[own]}) imports upward"


def test_the_check_sees_an_upward_import() -> None:
    """The parser resolves the relative forms the package uses: ``from .. import x`` is the
    package itself unless x is a module (the export layer once imported the version so)."""
    text = (
        "from .. import __version__\n"
        "from .. import semconv as sc\n"
        "from ..tracing import setup_tracing\n"
        "from .backend import BackendExporter\n"
        "import lk_otel.cli.main\n"
    )
    targets = [t for _, t in _targets(PACKAGE / "export" / "probe.py", text)]
    assert targets == [(), ("semconv",), ("tracing",), ("export", "backend"), ("cli", "main")]
    own = LAYER_OF["export"]
    upward = [t for t in targets if _part(t) != "export" and LAYER_OF[_part(t)] >= own]
    assert upward == [(), ("tracing",), ("cli", "main")]
