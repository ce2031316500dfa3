"""The type check `make test` runs: mypy on every app's services and selectors (see [tool.mypy] in
pyproject.toml), held to `mypy-baseline.txt` by mypy-baseline.

A ratchet: an error that is not in the baseline fails the check, and so does an error of the
baseline that no longer occurs (run ``python -m config.typecheck --sync``, or ``make
mypy-baseline``, to write the shorter list), so the list only ever shrinks.
"""

from __future__ import annotations

import os
import subprocess
import sys

BIN = os.path.dirname(sys.executable)


def main(argv: list[str]) -> int:
    mypy = subprocess.run([os.path.join(BIN, "mypy")], capture_output=True, text=True, check=False)
    if mypy.returncode not in (0, 1):  # 2: mypy itself failed (configuration, crash)
        sys.stderr.write(mypy.stdout + mypy.stderr)
        return mypy.returncode
    command = "sync" if "--sync" in argv else "filter"
    baseline = subprocess.run(
        [
            os.path.join(BIN, "mypy-baseline"),
            command,
            "--sort-baseline",
            "--no-colors",
            "--ignore-categories",
            "note",
        ],
        input=mypy.stdout,
        text=True,
        check=False,
    )
    return baseline.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
