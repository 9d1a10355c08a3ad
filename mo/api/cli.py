"""`mo serve`: the subcommand that runs the HTTP API (wired into mo.cli by add_serve_command)."""

from __future__ import annotations

import argparse
from typing import Any

DEFAULT_HOST = "127.0.0.1"  # loopback: exposing the API is a deliberate --host choice
DEFAULT_PORT = 8765


def cmd_serve(args: argparse.Namespace) -> int:
    from mo.api.server import serve  # here, not at import: other subcommands skip uvicorn/FastAPI

    serve(
        host=args.host, port=args.port, db_url=args.db_url
    )  # args.db_url: this or mo's global option
    return 0


def add_serve_command(subparsers: Any) -> argparse.ArgumentParser:
    """Add `serve [--host 127.0.0.1] [--port 8765] [--db-url URL]` to mo's subcommands."""
    serve = subparsers.add_parser("serve", help="run the HTTP API (FastAPI + uvicorn)")
    serve.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})"
    )
    serve.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})"
    )
    # SUPPRESS: without --db-url here, `mo --db-url URL serve` keeps the global option's value.
    serve.add_argument(
        "--db-url",
        default=argparse.SUPPRESS,
        help="database URL (default: MO_DB_URL or var/mo.duckdb)",
    )
    serve.set_defaults(handler=cmd_serve)
    return serve
