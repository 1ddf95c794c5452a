"""Runs ``python -m kronbox`` (the real ``__main__``) once per argument list read as JSON lines on stdin,
in one process, and reports per run: the exit code, stdout, stderr, and whether anything escaped
(an exception other than SystemExit: what a user would see as a traceback). Used by test_fuzz.py."""

import contextlib
import io
import json
import runpy
import sys
import traceback
import warnings

for line in sys.stdin:
    argv = json.loads(line)
    out, err = io.StringIO(), io.StringIO()
    escaped = None
    code = 0
    sys.argv = ["kronbox", *argv]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = lambda message, category, *rest, err=err: err.write(f"{category.__name__}: {message}\n")
        try:
            runpy.run_module("kronbox", run_name="__main__", alter_sys=True)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        except BaseException:  # what the fuzz looks for: anything escaping main
            escaped = traceback.format_exc()
            code = None
    print(json.dumps({"argv": argv, "code": code, "stdout": out.getvalue(), "stderr": err.getvalue(),
                      "escaped": escaped}), flush=True)
