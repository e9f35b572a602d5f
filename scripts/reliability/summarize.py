"""Print a reliability suite's rows (written by tests/reliability when LITECORE_RELIABILITY_OUT is set) as a table."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(path: str) -> None:
    p = Path(path)
    if not p.is_file():
        print(f"no results in {p}")
        return
    rows = [json.loads(line) for line in p.read_text().splitlines() if line.strip()]
    keys = list(dict.fromkeys(k for r in rows for k in r))
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for r in rows:
        print("| " + " | ".join(str(r.get(k, "")).replace("|", "/")[:120] for k in keys) + " |")
    print(f"\n{len(rows)} rows")


if __name__ == "__main__":
    main(sys.argv[1])
