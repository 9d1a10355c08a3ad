"""The `mo` command line. A refused command prints "error: code: message" and its details
one per line, and exits 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from mo.errors import MOError, readable_error
from mo.settings import load_settings

# The store and the services are imported by the commands that use them, not here: with them
# (pandas, DuckDB, psycopg) every `python -m mo …` and `python -m mo.cli.run …` paid ~1.4 s of
# CPU before it began, `mo parity diff` and `mo run`'s own process included, which need none
# of them (`python -m mo parity diff --help`: 1.57 s of CPU with them, measured on 2 loaded cores).

Handler = Callable[[argparse.Namespace], int]


def _db_url(args: argparse.Namespace) -> str:
    return args.db_url or load_settings().db_url


def cmd_migrate(args: argparse.Namespace) -> int:
    from mo.store import connect_store, migrations

    with connect_store(_db_url(args)) as store:
        if args.status:
            for m in migrations.status(store):
                when = m.installed_at.isoformat(timespec="seconds") if m.installed_at else "-"
                print(f"V{m.version:03d}  {m.state:<8} {when:<26} {m.script}")
            return 0
        applied = migrations.migrate(store)
    print(f"applied {len(applied)} migration(s)" + "".join(f"\n  {m.script}" for m in applied))
    return 0


def cmd_tenant_create(args: argparse.Namespace) -> int:
    from mo.services import tenants
    from mo.store import open_store

    with open_store(_db_url(args)) as store:
        tenant = tenants.create_tenant(store, args.slug, name=args.name)
    print(f"tenant {tenant.slug} ({tenant.id})")
    return 0


def cmd_tenant_list(args: argparse.Namespace) -> int:
    from mo.services import tenants
    from mo.store import open_store

    with open_store(_db_url(args)) as store:
        for tenant in tenants.list_tenants(store):
            print(f"{tenant.slug:<24} {tenant.name:<32} {tenant.id}")
    return 0


def cmd_apikey_create(args: argparse.Namespace) -> int:
    from mo.services import tenants
    from mo.store import open_store

    with open_store(_db_url(args)) as store:
        key = tenants.create_api_key(store, args.tenant)
    print(key)
    print("This key is shown once; mo keeps only its hash.", file=sys.stderr)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from mo.services import tenants
    from mo.store import connect_store, migrations

    url = _db_url(args)
    with connect_store(url) as store:
        states = migrations.status(store)
        pending = [m.script for m in states if m.state == "pending"]
        known = [] if pending else tenants.list_tenants(store)
    print(f"database   {url}")
    print(f"schema     {len(states) - len(pending)}/{len(states)} migrations applied")
    if pending:
        print(f"pending    {', '.join(pending)}")
    print(f"tenants    {', '.join(t.slug for t in known) or '(none)'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mo", description="mo: recipe costing workbench")
    parser.add_argument("--db-url", help="database URL (default: MO_DB_URL or var/mo.duckdb)")
    sub = parser.add_subparsers(dest="command", required=True)

    migrate = sub.add_parser("migrate", help="apply pending migrations")
    migrate.add_argument("--status", action="store_true", help="list applied and pending migrations")
    migrate.set_defaults(handler=cmd_migrate)

    tenant = sub.add_parser("tenant", help="manage tenants").add_subparsers(dest="action", required=True)
    create = tenant.add_parser("create", help="create a tenant (idempotent on slug)")
    create.add_argument("slug")
    create.add_argument("--name")
    create.set_defaults(handler=cmd_tenant_create)
    tenant.add_parser("list", help="list tenants").set_defaults(handler=cmd_tenant_list)

    apikey = sub.add_parser("apikey", help="manage API keys").add_subparsers(dest="action", required=True)
    key_create = apikey.add_parser("create", help="create an API key for a tenant")
    key_create.add_argument("--tenant", required=True)
    key_create.set_defaults(handler=cmd_apikey_create)

    sub.add_parser("status", help="database, schema and tenants").set_defaults(handler=cmd_status)
    _add_feature_commands(sub)
    return parser


def _add_feature_commands(sub: argparse._SubParsersAction) -> None:
    # Each feature module adds its own subcommand; imported here so `mo --help` lists them all.
    from mo.api.cli import add_serve_command
    from mo.cli.run import add_run_command

    add_serve_command(sub)
    add_run_command(sub)
    parity = sub.add_parser("parity", help="compare event exports").add_subparsers(dest="action", required=True)
    diff = parity.add_parser("diff", help="compare two exports ignoring ids and timestamps; exit 1 when they differ")
    diff.add_argument("rest", nargs=argparse.REMAINDER, help="A B [--max-lines N]")
    diff.set_defaults(handler=cmd_parity_diff)


def cmd_parity_diff(args: argparse.Namespace) -> int:
    from mo.cli.parity import main_parity_diff

    return main_parity_diff(args.rest)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except MOError as err:
        print(readable_error(err), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
