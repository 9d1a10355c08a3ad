"""`mo run NOTEBOOK [-p NAME VALUE …] [--timeout S]`: a notebook, headless, fit for cron.

papermill executes the notebook with an explicit kernel ("python3", never whatever the file's
metadata names), a per-cell execution timeout, progress bars off (TQDM_DISABLE=1) and the
parameter interactive=False (no widgets). Every -p value is passed as a plain string, so
"007" stays "007"; the notebook's validation cell turns strings into values (mo.ui.params).

The executed notebook is kept as the audit record: runs/<YYYY-MM-DD>/<notebook>-<HHMMSS>.ipynb
(local time; a second run in the same second gets a -2 suffix). The kernel also gets
MO_HEADLESS=1, so mo.ui.install() makes an MOError fail the cell loudly. Exit status: 0 when every
cell ran, 1 when a cell failed or timed out (its error — ename: evalue — is printed), 2 for an
MOError before the run (unknown notebook or parameter; printed as a readable line).
A notebook reports its result with mo.ui.report_result(…) (a JSON beside the record, whose path
the kernel gets in MO_RUN_REPORT); `mo run` prints it, or the details of the MOError that failed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from mo.errors import validation_error

KERNEL_NAME = "python3"
DEFAULT_TIMEOUT = 600
RUNS_DIR = Path("runs")
# Where the kernel writes {"facts": …} / {"error": …} for `mo run` to print (mo.ui.toasts).
REPORT_ENV = "MO_RUN_REPORT"
NOTEBOOKS_DIR = Path("notebooks")


@dataclass(frozen=True)
class RunResult:
    """One headless run: where its executed notebook is kept and how it ended."""

    notebook: Path
    output: Path
    ok: bool
    seconds: float
    failed_cell: int | None = None
    ename: str | None = None
    evalue: str | None = None
    facts: dict[str, Any] | None = None  # what the notebook reported (mo.ui.report_result)
    error: dict[str, Any] | None = None  # the MOError that stopped it: code, message, details

    def summary(self) -> str:
        """One line for logs: ok, or the failing cell and its error."""
        if self.ok:
            return f"ok      {self.notebook} → {self.output} ({self.seconds:.1f}s)"
        cell = "" if self.failed_cell is None else f" at In [{self.failed_cell}]"
        return f"FAILED  {self.notebook}{cell}: {self.ename}: {self.evalue} → {self.output}"

    def report(self) -> str:
        """The summary line, then the notebook's result facts or the error's details, one per
        line ("        rows        42"), so a cron mail says what happened."""
        lines = [self.summary()]
        lines += _fact_lines(self.facts)
        if self.error:
            lines += _fact_lines(self.error.get("details") if isinstance(self.error, dict) else None)
        return "\n".join(lines)


def _fact_lines(facts: Any) -> list[str]:
    if not isinstance(facts, dict):
        return []
    return [f"        {name:<12} {_fact_text(value)}" for name, value in facts.items()]


def _fact_text(value: Any) -> str:
    from mo.util.jsonutil import dumps

    text = value if isinstance(value, str) else dumps(value)
    return text if len(text) <= 300 else text[:300] + f" … ({len(text)} chars)"


def read_report(path: Path) -> dict[str, Any]:
    """The JSON a headless notebook left at `path` (see mo.ui.toasts), {} when none or unreadable."""
    import json

    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def resolve_notebook(name: str | os.PathLike[str]) -> Path:
    """The notebook file: the path itself, else notebooks/<name>(.ipynb).

    Raises validation_error when neither exists.
    """
    path = Path(name)
    candidates = [
        path,
        path.with_suffix(".ipynb"),
        NOTEBOOKS_DIR / path,
        NOTEBOOKS_DIR / path.with_suffix(".ipynb"),
    ]
    for candidate in candidates:
        if candidate.is_file() and candidate.suffix == ".ipynb":
            return candidate
    raise validation_error(
        f"no notebook {str(name)!r} (looked in . and {NOTEBOOKS_DIR}/)",
        field="notebook",
        value=str(name),
    )


def output_path(notebook: Path, *, runs_dir: Path = RUNS_DIR, now: datetime | None = None) -> Path:
    """A fresh runs/<date>/<stem>-<HHMMSS>[-n].ipynb, created empty so no other run takes it."""
    moment = now or datetime.now()
    folder = runs_dir / moment.strftime("%Y-%m-%d")
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{notebook.stem}-{moment.strftime('%H%M%S')}"
    for n in range(1, 1000):
        candidate = folder / (f"{stem}.ipynb" if n == 1 else f"{stem}-{n}.ipynb")
        try:
            candidate.open("x").close()
            return candidate
        except FileExistsError:
            continue
    raise validation_error(
        "too many runs of this notebook in one second", field="notebook", value=str(notebook)
    )


def check_parameters(notebook: Path, parameters: Mapping[str, Any]) -> None:
    """Refuse names the notebook's parameters cell does not declare (a typo in a cron line
    would otherwise run silently with the default). Raises validation_error."""
    import papermill

    # The notebooks name the python3 kernel, the one a run executes them with (KERNEL_NAME).
    declared = set(papermill.inspect_notebook(str(notebook)))
    unknown = sorted(set(parameters) - declared)
    if unknown:
        raise validation_error(
            f"{notebook.name} has no parameter {', '.join(unknown)}",
            field="parameters",
            value=unknown,
            expected=sorted(declared),
        )


@contextmanager
def _kernel_env(extra: Mapping[str, str]) -> Iterator[None]:
    # The kernel is a child process and inherits os.environ; restore it for in-process callers.
    saved = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def _ipc_kernel() -> Iterator[dict[str, Any]]:
    """Engine options for a kernel talking over Unix sockets in a private temp folder.

    Why: the default TCP transport listens on loopback ports any local user can reach (and
    ipykernel warns about it on stderr, which lands in cron mail). Passed as traitlets config,
    not as a ready kernel manager: nbclient shuts down only kernels it created itself, and a
    kernel left running would keep holding the DuckDB file. Windows has no IPC: TCP there.
    """
    from traitlets.config import Config

    if os.name == "nt":
        yield {}
        return
    with tempfile.TemporaryDirectory(prefix="mo-kernel-") as folder:
        yield {
            "config": Config(
                {"KernelManager": {"transport": "ipc", "ip": str(Path(folder) / "kernel")}}
            )
        }


def run_notebook(
    notebook: str | os.PathLike[str],
    *,
    parameters: Mapping[str, Any] | None = None,
    timeout: int = DEFAULT_TIMEOUT,
    runs_dir: Path = RUNS_DIR,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> RunResult:
    """Execute `notebook` headless with `parameters` (+ interactive=False) and keep the result.

    timeout is per cell, in seconds. cwd (default: the current directory) is the kernel's
    working directory, so relative paths in parameters mean the same as on the command line.
    env adds variables for the kernel (e.g. MO_DB_URL, MO_TENANT).
    Returns a RunResult; a failing or timed-out cell is a result with ok=False, not an exception.
    Raises validation_error for an unknown notebook or parameter name.
    """
    import papermill

    path = resolve_notebook(notebook)
    params = {**dict(parameters or {}), "interactive": False}
    check_parameters(path, params)
    target = output_path(path, runs_dir=runs_dir)
    report = target.with_suffix(".json")  # beside the audit record: the notebook's result
    started = time.monotonic()
    kernel_env = {"TQDM_DISABLE": "1", "MO_HEADLESS": "1", REPORT_ENV: str(report.resolve())}
    with (
        _kernel_env({**kernel_env, **dict(env or {})}),
        _ipc_kernel() as engine,
    ):
        try:
            papermill.execute_notebook(
                str(path),
                str(target),
                parameters=params,
                kernel_name=KERNEL_NAME,
                execution_timeout=timeout,
                progress_bar=False,
                log_output=False,
                cwd=str(cwd or Path.cwd()),
                **engine,
            )
        except papermill.PapermillExecutionError as err:
            return RunResult(
                path,
                target,
                False,
                time.monotonic() - started,
                failed_cell=err.exec_count,
                ename=err.ename,
                evalue=err.evalue,
                **read_report(report),
            )
        except Exception as err:  # timeouts and dead kernels come from nbclient, not papermill
            return RunResult(
                path,
                target,
                False,
                time.monotonic() - started,
                ename=type(err).__name__,
                evalue=str(err).strip().splitlines()[0] if str(err) else "",
                **read_report(report),
            )
    return RunResult(path, target, True, time.monotonic() - started, **read_report(report))


def parse_parameters(pairs: Sequence[Sequence[str]] | None) -> dict[str, str]:
    """-p NAME VALUE pairs as a dict of strings (a later pair wins).

    Raises validation_error for a name that is not an identifier.
    """
    params: dict[str, str] = {}
    for name, value in pairs or ():
        if not name.isidentifier():
            raise validation_error(
                f"parameter name {name!r} is not an identifier", field="parameters", value=name
            )
        params[name] = value
    return params


def cmd_run(args: argparse.Namespace) -> int:
    """The `mo run` handler: 0 when the notebook ran, 1 when a cell failed."""
    _skip_the_unused_iri_grammar()
    result = run_notebook(
        args.notebook,
        parameters=parse_parameters(args.parameters),
        timeout=args.timeout,
        runs_dir=Path(args.runs_dir),
    )
    stream = sys.stdout if result.ok else sys.stderr
    print(result.report(), file=stream)
    return 0 if result.ok else 1


def _skip_the_unused_iri_grammar() -> None:
    # papermill loads nbformat, which imports jsonschema, whose import builds the grammar of
    # rfc3987_syntax for its optional "iri" format check when that package is installed: 1.3 s
    # of CPU of the 2.3 s importing papermill takes (python -c, loaded 2-core machine), in every
    # `mo run`. nbformat's schemas use no format checks (and it validates with fastjsonschema),
    # so a `mo run` process never needs it; a None entry makes jsonschema leave that one check
    # out. cmd_run is the `mo run` command; callers of run_notebook (the demo, the UI) keep it.
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]


def add_run_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register `run` on the CLI's subparsers (handler in `handler`, as the other commands)."""
    run = subparsers.add_parser(
        "run",
        help="run a notebook headless (papermill); keeps runs/<date>/…ipynb",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "notebook", help="path to a .ipynb, or a name under notebooks/ (e.g. recipe_costs)"
    )
    run.add_argument(
        "-p",
        "--parameter",
        dest="parameters",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        help="a notebook parameter, passed as a string (repeatable)",
    )
    run.add_argument(
        "--timeout",
        type=int,
        default=DEFAULT_TIMEOUT,
        metavar="S",
        help=f"per-cell execution timeout in seconds (default {DEFAULT_TIMEOUT})",
    )
    run.add_argument(
        "--runs-dir",
        default=str(RUNS_DIR),
        help="where executed notebooks are kept (default runs/)",
    )
    run.set_defaults(handler=cmd_run)
    return run


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m mo.cli.run NOTEBOOK …`: the same command without the rest of the CLI."""
    from mo.errors import MOError, readable_error

    parser = argparse.ArgumentParser(prog="mo")
    add_run_command(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["run", *(sys.argv[1:] if argv is None else argv)])
    try:
        return args.handler(args)
    except MOError as err:
        print(readable_error(err), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
