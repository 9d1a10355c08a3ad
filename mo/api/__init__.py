"""The HTTP API of mo (`mo serve`): FastAPI routes under /v1 over the same services.

create_app loads on first use, so `mo`'s other subcommands never import FastAPI or uvicorn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mo.api.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> object:
    # `mo serve` registers its subcommand through mo.api.cli on every `mo` command; importing the
    # app with FastAPI took 10-17 s of python -c on the loaded 2-core machine (median of 5: 13.7 s).
    if name == "create_app":
        from mo.api.app import create_app

        return create_app
    raise AttributeError(f"module 'mo.api' has no attribute {name!r}")
