"""Summarise a finished ``mutmut run``: a line per module, the survivors to a file, and as
the last line ``mutation: K of N killed``.

Run from the repository root with the mutation venv (``make mutation`` does). Counting:
a mutant is *killed* when a test failed on it, or when the tests ran past mutmut's timeout
(15x their clean duration + 1 s: a mutant that makes the suite hang is caught by any test
run). Everything else is *not killed* and listed in the survivors file: survived, no tests
(no fast test reaches the code), suspicious, segfault, skipped, not checked. Survivors
reviewed as equivalent (``mutation-equivalent.toml``) are still not killed, but marked so, and
the summary says how many survivors are left to review.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from mutmut.mutation.data import SourceFileMutationData
from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code
from mutmut.utils.file_utils import walk_mutatable_files

try:
    from tomllib import loads as toml_loads
except ModuleNotFoundError:  # Python 3.10: mutmut depends on toml there
    from toml import loads as toml_loads  # type: ignore[no-redef]

KILLED = frozenset({"killed", "timeout"})


def load_equivalent(path: Path) -> dict[str, dict[str, str]]:
    """Reviewed equivalent mutants by name: ``{"mutated": ..., "reason": ...}``."""
    if not path.exists():
        return {}
    entries = toml_loads(path.read_text("utf-8")).get("equivalent", [])
    return {e["mutant"]: e for e in entries}


def is_equivalent(entry: dict[str, str] | None, diff: str) -> bool:
    """True when the reviewed entry still describes this mutant (its changed line matches)."""
    if entry is None:
        return False
    added = [
        line[1:]
        for line in diff.splitlines()
        if line.startswith("+") and not line.startswith("+++")
    ]
    return any(entry["mutated"] in line for line in added)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--survivors", default="mutation-survivors.txt", type=Path)
    parser.add_argument("--equivalent", default="mutation-equivalent.toml", type=Path)
    args = parser.parse_args()
    equivalent = load_equivalent(args.equivalent)

    per_module: dict[str, Counter[str]] = {}
    survivors: list[tuple[str, str, str]] = []  # (module, name, status)
    for path in sorted(walk_mutatable_files()):
        data = SourceFileMutationData(path=path)
        data.load()
        if not data.exit_code_by_key:
            continue
        counts: Counter[str] = Counter()
        for name, code in sorted(data.exit_code_by_key.items()):
            status = status_by_exit_code[code]
            counts[status] += 1
            if status not in KILLED:
                survivors.append((str(path), name, status))
        per_module[str(path)] = counts

    if not per_module:
        print("mutation: no results under mutants/ (run `mutmut run` first)", file=sys.stderr)
        return 1

    reviewed = 0
    with args.survivors.open("w") as out:
        for module, name, status in survivors:
            diff = get_diff_for_mutant(name, path=module).rstrip()
            entry = equivalent.pop(name, None)
            if status == "survived" and is_equivalent(entry, diff):
                reviewed += 1
                status = f"equivalent ({entry['reason']})"  # type: ignore[index]
            elif entry is not None:
                print(f"stale entry in {args.equivalent}: {name} no longer matches; review it")
            out.write(f"# {name}: {status} ({module})\n{diff}\n\n")
    for name in equivalent:
        print(f"stale entry in {args.equivalent}: {name} is no survivor now; remove it")

    width = max(len(m) for m in per_module)
    killed = total = 0
    for module, counts in per_module.items():
        k = sum(counts[s] for s in KILLED)
        n = sum(counts.values())
        killed, total = killed + k, total + n
        rest = ", ".join(f"{c} {s}" for s, c in sorted(counts.items()) if s not in KILLED)
        timeouts = f" ({counts['timeout']} by timeout)" if counts["timeout"] else ""
        print(
            f"  {module:<{width}}  {k:4d} of {n:4d} killed  {100 * k / n:5.1f} %{timeouts}"
            + (f"; not killed: {rest}" if rest else "")
        )
    print(
        f"survivors: {total - killed} ({reviewed} reviewed as equivalent, "
        f"{total - killed - reviewed} to review), with their diffs in {args.survivors}"
    )
    print(f"mutation: {killed} of {total} killed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
