"""UI helpers for notebooks: parameters, toasts, forms. The only mo surface besides the client.

    import mo, mo.ui
    interactive = mo.ui.install(interactive=interactive)   # MOError → toast, not traceback
    since = mo.ui.params.iso_datetime(since, name="since")
    mo.ui.update_cost_form(client)                          # ipywidgets, errors as toasts

ipywidgets loads only when mo.ui.forms is first used (a form or an export helper).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mo.ui import display, params
from mo.ui.toasts import (
    errors_to,
    install,
    rejected_rows,
    report_result,
    show_error,
    show_success,
    success_html,
    toast_html,
    uninstall,
)

if TYPE_CHECKING:
    from mo.ui.forms import (
        ParityExportForm,
        UpdateCostForm,
        export_events,
        parity_export_form,
        show_export,
        update_cost_form,
    )

_FORMS = frozenset(
    {
        "update_cost_form",
        "parity_export_form",
        "UpdateCostForm",
        "ParityExportForm",
        "export_events",
        "show_export",
    }
)
__all__ = [
    "params",
    "install",
    "uninstall",
    "errors_to",
    "show_error",
    "show_success",
    "toast_html",
    "success_html",
    "rejected_rows",
    "report_result",
    "display",
    *sorted(_FORMS),
]


def __getattr__(name: str) -> object:
    # The forms import ipywidgets: `import mo.ui.forms` took 1.3 s and `import mo.ui` 0.3 s
    # (python -c, median of 5, loaded 2-core machine); toasts and params do not need them.
    if name in _FORMS:
        from mo.ui import forms

        return getattr(forms, name)
    raise AttributeError(f"module 'mo.ui' has no attribute {name!r}")
