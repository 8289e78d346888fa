/**
 * The Python side of the Python runner, run once in every Pyodide
 * interpreter (and so saved in its memory snapshot). It must not hold
 * JavaScript objects: a snapshot cannot carry them. The interruptible sleep
 * is wired by `_hwfe_attach` after each start. The worker rewinds the
 * interpreter to its state before the first step after every step
 * (python_worker.ts), so nothing here needs to undo what a step did.
 *
 * `_hwfe_run_step(name, code, inputs_json, env_json, params_json)` returns a tagged string:
 * R<json> the result, B<what> a result that is not JSON data, N no run(),
 * S<json> a syntax error ({line, message, context}), E<message> an error (traceback with the step's own
 * lines and frames only), or an asyncio Task for `async def run` whose
 * result is such a string.
 *
 * @module
 */

export const PYTHON_PRELUDE = String.raw`
import asyncio as _asyncio
import builtins as _builtins
import inspect as _inspect
import json as _json
import linecache as _linecache
import math as _math
import os as _os
import random as _random
import re as _re
import selectors as _selectors
import sys as _sys
import time as _time
import traceback as _traceback
import types as _types

# Pyodide's defaults include the host path of the JS entry point; steps see none of it.
for _name in ("_", "PYTHONINSPECT"):
    _os.environ.pop(_name, None)
# Deeper values are refused: json.dumps of a 100,000-deep list overflows
# Pyodide's stack and kills the interpreter.
_MAX_DEPTH = 500
_STDLIB_ONLY = (
    "hwfe runs Python steps on Pyodide with the standard library only: "
    "packages such as '{}' are not available and cannot be installed (no network, no wheels)"
)


class _NotJson(Exception):
    pass


def _where(path):
    return "result" + "".join("[" + repr(key) + "]" for key in path)


def _type_name(value):
    kind = type(value)
    if kind.__module__ == "builtins":
        return kind.__qualname__
    return kind.__module__ + "." + kind.__qualname__


def _json_data(value, path, active):
    """The value as plain JSON data (tuples become lists), or _NotJson naming where it is not."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not _math.isfinite(value):
            # As JSON.stringify does and the reference engine's JavaScript did: null, and said once.
            _CHANGED.append("the float " + repr(value) + " at " + _where(path))
            return None
        return float(value)
    if isinstance(value, (dict, list, tuple)):
        if len(path) >= _MAX_DEPTH:
            raise _NotJson("a value nested more than " + str(_MAX_DEPTH) + " levels deep")
        if id(value) in active:
            raise _NotJson("a " + _type_name(value) + " that contains itself at " + _where(path))
        active.add(id(value))
        try:
            if isinstance(value, dict):
                out = {}
                for key, item in value.items():
                    if isinstance(key, int) and not isinstance(key, bool):
                        name = str(key)
                    elif isinstance(key, str):
                        name = key
                    else:
                        raise _NotJson(
                            "a dict key of type " + _type_name(key) + " (" + repr(key) + ") in "
                            + _where(path) + "; JSON object keys are strings"
                        )
                    if name in out:
                        raise _NotJson("two keys that both become " + repr(name) + " in " + _where(path))
                    out[name] = _json_data(item, path + [key], active)
                return out
            return [_json_data(item, path + [i], active) for i, item in enumerate(value)]
        finally:
            active.discard(id(value))
    raise _NotJson(
        "a " + _type_name(value) + " at " + _where(path)
        + ", which is not JSON data; convert it (to a str, list or dict) before returning"
    )


class _Unusual(Exception):
    """Raised by _plain_data for anything but plain JSON-shaped data."""


def _plain_data(value, depth):
    """The common case, fast: exact built-in types, string keys. Anything else: _Unusual."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        if value != value or value in (_math.inf, -_math.inf):
            raise _Unusual
        return value
    if depth >= _MAX_DEPTH:
        raise _Unusual  # too deep, or a cycle: _json_data says which
    if kind is list or kind is tuple:
        return [_plain_data(item, depth + 1) for item in value]
    if kind is dict:
        out = {}
        for key, item in value.items():
            if type(key) is not str:
                raise _Unusual
            out[key] = _plain_data(item, depth + 1)
        return out
    raise _Unusual


# What _json_data changed on the way (non-finite floats became null), for one warning line.
_CHANGED = []


def _encode_result(result):
    _CHANGED.clear()
    try:
        try:
            data = _plain_data(result, 0)
        except _Unusual:
            data = _json_data(result, [], set())
    except _NotJson as problem:
        return "B" + str(problem)
    except RecursionError:
        return "Ba value nested too deeply to convert to JSON"
    if _CHANGED:
        more = len(_CHANGED) - 1
        print(
            "warning: the result held " + _CHANGED[0] + (" and " + str(more) + " more" if more else "")
            + ", which JSON cannot hold: returned as null",
            file=_sys.stderr,
        )
    return "R" + _json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _only_step_frames(te, filename):
    seen = set()
    while te is not None and id(te) not in seen:
        seen.add(id(te))
        te.stack = _traceback.StackSummary.from_list(
            [frame for frame in te.stack if frame.filename == filename]
        )
        if te.__cause__ is not None:
            _only_step_frames(te.__cause__, filename)
        te = te.__context__


def _syntax_parts(error):
    """A SyntaxError's line, message and the code around it (the line and its caret)."""
    lines = "".join(_traceback.format_exception_only(type(error), error)).rstrip().splitlines()
    context = [line for line in lines[:-1] if not line.startswith('  File "')]
    parts = {"message": str(error.msg)}
    if error.lineno:
        parts["line"] = error.lineno
    if context:
        parts["context"] = "\n".join(context)
    return parts


def _describe_syntax_error(error):
    return "S" + _json.dumps(_syntax_parts(error))


def _hwfe_check_steps(sources_json):
    """Compiles each step's code without running it: JSON of the problems, one per step that fails."""
    problems = []
    for source in _json.loads(sources_json):
        try:
            compile(source["code"], "<step " + source["step"] + ">", "exec", dont_inherit=True)
        except SyntaxError as error:
            problems.append({"step": source["step"], **_syntax_parts(error)})
        except ValueError as error:  # a NUL in the source
            problems.append({"step": source["step"], "message": str(error)})
    return _json.dumps(problems)


def _describe_error(error, filename):
    try:
        return _describe(error, filename)
    except BaseException as failure:
        # Describing copies the message: one of hundreds of MiB can exhaust the step's memory.
        return "E" + type(error).__name__ + " (not shown: describing it failed with " + type(failure).__name__ + ")"


def _describe(error, filename):
    te = _traceback.TracebackException(type(error), error, error.__traceback__, compact=True)
    _only_step_frames(te, filename)
    only = "".join(te.format_exception_only()).rstrip()
    # A denied host call says how to rerun Deno with more access; that is not the fix here.
    only = _re.sub(r", run again with the --allow-[a-z-]+ flag", " (Python steps have no host access)", only)
    if isinstance(error, RuntimeError) and "Cannot stack switch" in str(error):
        only = (
            "RuntimeError: asyncio.run() and run_until_complete() cannot block in hwfe's Python; "
            "make run itself async instead: async def run(inputs): return await main()"
        )
    if isinstance(error, ModuleNotFoundError) and error.name:
        top = error.name.split(".")[0]
        if top not in _sys.stdlib_module_names:
            only = "ModuleNotFoundError: No module named " + repr(error.name) + ". " + _STDLIB_ONLY.format(top)
    body = "".join(te.format()).rstrip()
    tail = "".join(te.format_exception_only()).rstrip()
    if body.endswith(tail):
        body = body[: len(body) - len(tail)].rstrip()
    if not body.strip() or body.strip() == "Traceback (most recent call last):":
        return "E" + only
    return "E" + only + "\n" + body


def _flush():
    """Sends what the step printed before it ends: the worker rewinds the interpreter after it."""
    for stream in (_sys.stdout, _sys.stderr, _sys.__stdout__, _sys.__stderr__):
        try:
            stream.flush()
        except Exception:
            pass


def _takes_inputs(run):
    try:
        parameters = _inspect.signature(run).parameters.values()
    except (TypeError, ValueError):
        return True
    positional = (
        _inspect.Parameter.POSITIONAL_ONLY,
        _inspect.Parameter.POSITIONAL_OR_KEYWORD,
        _inspect.Parameter.VAR_POSITIONAL,
    )
    return any(p.kind in positional for p in parameters)


async def _finish_async(awaitable, filename):
    try:
        return _encode_result(await awaitable)
    except BaseException as error:
        return _describe_error(error, filename)
    finally:
        _flush()


# A step whose code names JavaScript may await it, which only Pyodide's own event loop (driven by
# JavaScript) can do; it retires its worker anyway. Any other async step runs on _StepLoop.
_JAVASCRIPT = _re.compile(r"\b(js|pyodide|pyodide_js|_pyodide|_pyodide_core)\b")


class _StepSelector(_selectors.BaseSelector):
    """No I/O: waiting for the next timer is a sleep hwfe can interrupt."""

    def register(self, fileobj, events, data=None):
        raise NotImplementedError("hwfe's Python steps have no sockets or pipes to wait on")

    def unregister(self, fileobj):
        raise KeyError(fileobj)

    def select(self, timeout=None):
        if timeout is None:
            raise RuntimeError(
                "the step awaits something that nothing will complete (a JavaScript value? "
                "then its code must name js or pyodide)"
            )
        if timeout > 0:
            _time.sleep(timeout)
        return []

    def get_map(self):
        return {}


class _StepLoop(_asyncio.BaseEventLoop):
    """An event loop run inside the step's call, without JavaScript: Pyodide's own loop is driven
    by JavaScript timers, and a step that calls JavaScript cannot be rewound (its worker retires)."""

    def __init__(self):
        super().__init__()
        self._selector = _StepSelector()

    def _process_events(self, event_list):
        pass

    def _write_to_self(self):
        pass


def _hwfe_run_step(name, code, inputs_json, env_json="{}", params_json="{}"):
    filename = "<step " + name + ">"
    _linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    finish = True
    try:
        try:
            compiled = compile(code, filename, "exec", dont_inherit=True)
        except SyntaxError as error:
            return _describe_syntax_error(error)
        # The environment variables the run granted this step (gone when the worker rewinds).
        _os.environ.update(_json.loads(env_json))
        # Every step starts from the same interpreter state: without a new seed each would draw the
        # same random numbers.
        _random.seed()
        inputs = _json.loads(inputs_json)
        # inputs is defined before the code runs, as the reference engine does, so that module-level
        # code can read it too.
        namespace = {"__name__": "__hwfe_step__", "__builtins__": _builtins, "inputs": inputs}
        # The workflow's parameters, read-only.
        namespace["params"] = _types.MappingProxyType(_json.loads(params_json))
        try:
            exec(compiled, namespace)
            run = namespace.get("run")
            if run is None:
                return "N"
            if not callable(run):
                return "Erun is a " + _type_name(run) + ", not a function: define def run(inputs=None):"
            result = run(inputs) if _takes_inputs(run) else run()
        except BaseException as error:
            return _describe_error(error, filename)
        if _inspect.isawaitable(result):
            if _JAVASCRIPT.search(code):
                import asyncio

                finish = False
                return asyncio.ensure_future(_finish_async(result, filename))
            # Pyodide marks its own loop as always running.
            pyodide_loop = _asyncio.events._get_running_loop()
            _asyncio.events._set_running_loop(None)
            loop = _StepLoop()
            try:
                result = loop.run_until_complete(result)
            except BaseException as error:
                return _describe_error(error, filename)
            finally:
                loop.close()
                _asyncio.events._set_running_loop(pyodide_loop)
        return _encode_result(result)
    finally:
        if finish:
            _flush()


def _hwfe_attach(sleep_device):
    """Per interpreter start (not in the snapshot): fresh randomness, a sleep hwfe can interrupt.

    The sleep is a write to a device the worker provides, not a call through Pyodide's JavaScript
    bridge: a step that uses the bridge cannot be rewound, and sleeping is common.
    """
    import time

    _random.seed()
    fd = _os.open(sleep_device, _os.O_WRONLY)
    write = _os.write

    def sleep(seconds, /):
        if not isinstance(seconds, (int, float)):
            seconds = float(seconds)
        if _math.isnan(seconds):
            raise ValueError("Invalid value NaN (not a number)")
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        if write(fd, repr(seconds * 1000.0).encode()) == 0:
            raise KeyboardInterrupt

    sleep.__doc__ = time.sleep.__doc__
    time.sleep = sleep


def _hwfe_self_test():
    return _encode_result({"ok": [1, None, "é", 2**70]})
`;
