"""Errors and outcomes as coloured messages ("toasts") in the notebook, never raw tracebacks.

- ``toast_html(err)`` / ``show_error(err)``: an MOError as an HTML block (code, message, details).
- ``show_success(title, facts)``: the green counterpart for a finished action.
- ``errors_to(output)``: wraps ipywidgets callbacks (decorator or ``with`` block). Their
  exceptions would otherwise go to JupyterLab's log console, unseen; here they render as a
  toast inside `output`.
- ``install(interactive=...)``: an IPython handler for MOError raised by a cell. It shows the
  toast instead of the traceback. The cell still fails (its reply has status "error", so "Run
  All" stops there); with interactive=False (papermill) or MO_LOUD_ERRORS=1 (nbval) it also
  emits a one-line error output, because papermill and nbval decide a cell failed only from
  error outputs: a scheduled run must fail loudly, with the code and message in its record.
"""

from __future__ import annotations

import html
import json
import os
import traceback
from collections.abc import Mapping
from contextlib import ContextDecorator
from typing import TYPE_CHECKING, Any

from mo import ErrorCode, MOError  # the public surface only, as for notebooks

if TYPE_CHECKING:
    import ipywidgets

# Colours by what the reader should do: fix the input (amber), look elsewhere (blue),
# retry later (violet), call someone (red).
_PALETTE: dict[str, tuple[str, str]] = {
    "input": ("#fff4e5", "#b45309"),
    "missing": ("#eef4ff", "#1d4ed8"),
    "retry": ("#f5f0ff", "#6d28d9"),
    "fault": ("#fdecec", "#b91c1c"),
    "success": ("#ecfdf3", "#047857"),
    "warning": ("#fffbeb", "#b45309"),
}
_TONE: dict[ErrorCode, str] = {
    ErrorCode.NOT_FOUND: "missing",
    ErrorCode.TENANT_NOT_FOUND: "missing",
    ErrorCode.IDEMPOTENCY_IN_PROGRESS: "retry",
    ErrorCode.UNAVAILABLE: "retry",
    ErrorCode.MIGRATION_REQUIRED: "retry",
    ErrorCode.INTERNAL_ERROR: "fault",
    ErrorCode.MIGRATION_ERROR: "fault",
}


def _tone(code: ErrorCode) -> str:
    return _TONE.get(code, "input")


def _details_html(details: Any) -> str:
    if details in (None, {}, []):
        return ""
    if isinstance(details, Mapping):
        rows = "".join(
            f"<tr><th style='text-align:left;padding-right:1em;font-weight:600'>"
            f"{html.escape(str(k))}</th>"
            f"<td><code>{html.escape(_compact(v))}</code></td></tr>"
            for k, v in details.items()
        )
        return (
            f"<table class='mo-toast-details' style='margin-top:.4em;font-size:90%'>{rows}</table>"
        )
    text = html.escape(_compact(details))
    return f"<pre class='mo-toast-details' style='margin:.4em 0 0'>{text}</pre>"


MAX_DETAIL_CHARS = 400


def _compact(value: Any) -> str:
    # A toast is a headline: long details (1000 bad rows) belong in a table the caller shows.
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return (
        text
        if len(text) <= MAX_DETAIL_CHARS
        else text[:MAX_DETAIL_CHARS] + f" … ({len(text)} chars)"
    )


def _box(tone: str, kind: str, code: str, title: str, body: str) -> str:
    background, ink = _PALETTE[tone]
    return (
        f"<div class='mo-toast mo-toast-{kind}' data-code='{html.escape(code)}' role='alert' "
        f"style='background:{background};border-left:4px solid {ink};color:#1f2937;"
        f"padding:.6em .9em;margin:.3em 0;border-radius:4px;font-family:sans-serif'>"
        f"<strong style='color:{ink}'>{html.escape(code)}</strong> "
        f"<span class='mo-toast-message'>{html.escape(title)}</span>{body}</div>"
    )


def toast_html(err: MOError) -> str:
    """The error as a self-contained HTML block: class ``mo-toast mo-toast-error``, its code
    in ``data-code``, the message, and the details as a table. Everything is escaped."""
    return _box(_tone(err.code), "error", err.code.value, err.message, _details_html(err.details))


def success_html(title: str, facts: Mapping[str, Any] | None = None) -> str:
    """A green block (class ``mo-toast mo-toast-success``) with a title and optional facts."""
    return _box("success", "success", "ok", title, _details_html(dict(facts or {})))


def warning_html(title: str, facts: Mapping[str, Any] | None = None) -> str:
    """An amber block (class ``mo-toast mo-toast-warning``): nothing went wrong, but look first."""
    return _box("warning", "warning", "check", title, _details_html(dict(facts or {})))


def as_moerror(exc: BaseException) -> MOError:
    """An MOError as itself; anything else as internal_error naming the exception type.

    Why: a widget callback has no caller to raise to, so every failure needs one toast shape.
    """
    if isinstance(exc, MOError):
        return exc
    return MOError(
        ErrorCode.INTERNAL_ERROR,
        f"{type(exc).__name__}: {exc}",
        {"type": type(exc).__name__, "where": _last_frame(exc)},
    )


def _last_frame(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else ""


def _display_html(markup: str, output: ipywidgets.Output | None) -> None:
    from IPython.display import HTML, display

    if output is None:
        display(HTML(markup))
    else:
        # append_display_data works from any thread and outside the Output's context manager.
        output.append_display_data(HTML(markup))


def show_error(err: BaseException, *, output: ipywidgets.Output | None = None) -> None:
    """Render the error as a toast in the current cell, or in `output` when given."""
    _display_html(toast_html(as_moerror(err)), output)


def show_success(
    title: str, facts: Mapping[str, Any] | None = None, *, output: ipywidgets.Output | None = None
) -> None:
    """Render a success toast in the current cell, or in `output` when given."""
    _display_html(success_html(title, facts), output)


def show_warning(
    title: str, facts: Mapping[str, Any] | None = None, *, output: ipywidgets.Output | None = None
) -> None:
    """Render a warning toast in the current cell, or in `output` when given."""
    _display_html(warning_html(title, facts), output)


class errors_to(ContextDecorator):  # noqa: N801 - used like a function: @errors_to(out)
    """Catch every exception of a widget callback and show it as a toast in `output`.

    Use as ``@errors_to(out)`` on a callback or ``with errors_to(out):`` inside one. With
    clear=True the output is cleared first, so each click shows only its own outcome.
    An exception is swallowed after rendering: the callback's caller is the widget comm,
    which would only log it to JupyterLab's console. KeyboardInterrupt and SystemExit pass.
    """

    def __init__(self, output: ipywidgets.Output, *, clear: bool = True) -> None:
        self.output = output
        self.clear = clear

    def __enter__(self) -> ipywidgets.Output:
        if self.clear:
            # Set the trait, not clear_output(): the model state is then right in the kernel
            # too (tests, headless), not only after a frontend echoes the message back.
            self.output.outputs = ()
        return self.output

    def __exit__(
        self, etype: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> bool:
        if exc is None or not isinstance(exc, Exception):
            return False
        show_error(exc, output=self.output)
        return True


# ---- the IPython handler --------------------------------------------------------------------

HEADLESS_ENV = "MO_HEADLESS"  # "1": no widgets, and errors fail the run loudly (mo run sets it)
LOUD_ENV = "MO_LOUD_ERRORS"  # "1": errors fail loudly, widgets stay (nbval: notebooks/conftest.py)
_state: dict[str, bool] = {"loud": False}


REPORT_ENV = "MO_RUN_REPORT"  # set by `mo run`: where to leave the result or error it prints


def _write_report(body: Mapping[str, Any]) -> None:
    path = os.environ.get(REPORT_ENV)
    if not path:
        return
    text = json.dumps(body, default=str, ensure_ascii=False)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def report_result(result: Any) -> None:
    """Leave a write's result (an ImportResult, CostUpdate … or a dict of facts) for `mo run`
    to print: status, rows, created, changed … Does nothing outside `mo run`."""
    facts = result.to_dict() if hasattr(result, "to_dict") else dict(result)
    _write_report({"facts": facts})


def _handle_moerror(
    shell: Any,
    etype: type[BaseException],
    value: BaseException,
    tb: Any,
    tb_offset: int | None = None,
) -> list[str]:
    show_error(value)
    if isinstance(value, MOError):  # `mo run` prints its details (missing columns, found …)
        _write_report({"error": value.to_dict()["error"]})
    line = f"MOError: {value}"
    if _state["loud"]:
        # papermill and nbval see a failure only through an error output; keep it one line.
        shell._showtraceback(etype, value, [line])
    return [line]


def install(*, interactive: Any = True, shell: Any = None) -> bool:
    """Show MOError raised by notebook cells as toasts; return the interactive flag in force.

    `interactive` may be the raw notebook parameter (bool or "true"/"false"): it is parsed
    here so that this runs before any other validation. The flag in force is False, whatever
    `interactive` says, when MO_HEADLESS=1 is in the environment.
    Interactive: a failing cell shows the toast only (the cell still fails, so Run All stops).
    Not interactive, or MO_LOUD_ERRORS=1: it also emits a one-line error output, because that
    is how papermill and nbval learn that a cell failed.
    An unparsable `interactive` installs the loud mode, then raises its validation_error (which
    the handler just installed renders). Outside IPython only the flag is worked out.
    Raises validation_error as above.
    """
    from mo.ui.params import boolean

    try:
        flag, problem = boolean(interactive, name="interactive"), None
    except MOError as err:
        flag, problem = False, err
    if os.environ.get(HEADLESS_ENV) == "1":
        flag = False
    _state["loud"] = not flag or os.environ.get(LOUD_ENV) == "1"
    ip = shell if shell is not None else _current_shell()
    if ip is not None:
        ip.set_custom_exc((MOError,), _handle_moerror)
    if problem is not None:
        raise problem
    return flag


def uninstall(*, shell: Any = None) -> None:
    """Give MOError back to IPython's default traceback display."""
    ip = shell if shell is not None else _current_shell()
    if ip is not None:
        ip.set_custom_exc((), None)


def _current_shell() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def rejected_rows(err: MOError) -> Any:
    """The bad rows an import refused (details["rows"]) as a DataFrame, else None.

    Why: imports are all-or-nothing and list every bad row in the error; a toast shows only the
    headline, the rows belong in a table the analyst can sort.
    """
    rows = err.details.get("rows") if isinstance(err.details, Mapping) else None
    if not isinstance(rows, list) or not rows:
        return None
    import pandas as pd

    return pd.DataFrame(rows)
