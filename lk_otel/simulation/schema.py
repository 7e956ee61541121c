"""The JSON Schema of scenario files, generated from the pydantic models.

``python -m lk_otel.simulation.schema`` rewrites ``scenarios/scenario.schema.json``;
``--check`` exits 1 when the file is out of date. Scenario files point editors at it with
``"$schema": "./scenario.schema.json"`` (or the file's path or URL).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .scenario import Scenario

SCHEMA_PATH = Path(__file__).with_name("scenarios") / "scenario.schema.json"


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file (draft 2020-12)."""
    schema = Scenario.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
    }


def schema_text() -> str:
    return json.dumps(scenario_schema(), indent=2, sort_keys=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    text = schema_text()
    if args.check:
        current = SCHEMA_PATH.read_text() if SCHEMA_PATH.exists() else ""
        if current != text:
            print(f"{SCHEMA_PATH} is out of date: python -m lk_otel.simulation.schema")
            return 1
        return 0
    SCHEMA_PATH.write_text(text)
    print(f"wrote {SCHEMA_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
