#!/usr/bin/env python3
"""The embedded PostgreSQL that `make run` and `make test` use when DATABASE_URL is not set.

    python scripts/devdb.py start    # init var/pgdata if needed, start the server if it is down,
                                     # create the `qualify` database; prints `export DATABASE_URL=...`
    python scripts/devdb.py url      # the same, but prints the bare URL
    python scripts/devdb.py status   # running or not, and the URL
    python scripts/devdb.py stop     # fast shutdown; the data stays in var/pgdata

`start` is idempotent: a second call finds the server running and only prints the URL. The server
keeps running after `make run` exits, so the next run starts instantly; `make stop` stops it.

The server is the PostgreSQL bundled with the `pgserver` package (the `embedded` extra). It listens
on a unix socket only (no TCP port to clash with), in var/pgdata when the path is short enough for a
socket, trusts local connections, and has a superuser `postgres`, so pytest-django may create its
`test_qualify` database. initdb and postgres refuse to run as root; under root (CI, containers)
pgserver creates a system user `pgserver`, runs the server as that user and widens the permissions
of the parent folders so that user can reach var/pgdata.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import warnings
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
PGDATA = VAR / "pgdata"
URL_FILE = VAR / "database_url"
DB_NAME = "qualify"


def _pgserver():
    # platformdirs warns at import time when XDG_RUNTIME_DIR is unset (root shells, CI); harmless.
    warnings.filterwarnings("ignore", module="platformdirs")
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    try:
        import pgserver
    except ImportError:
        sys.exit(
            "devdb: the `pgserver` package is missing. Install the embedded extra "
            "(pip install -e '.[dev,embedded]') or set DATABASE_URL to a PostgreSQL you run yourself."
        )
    return pgserver


def database_url(socket_dir: Path, dbname: str = DB_NAME) -> str:
    """A URL that both django-environ and psycopg understand: the socket folder goes in `?host=`
    (django-environ passes it through OPTIONS to psycopg; a %2F-encoded host is not decoded)."""
    return f"postgresql://postgres@/{dbname}?host={quote(str(socket_dir), safe='/')}"


def _running_info():
    from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(PGDATA) if PGDATA.exists() else None
    if info is not None and info.is_running() and info.status == "ready":
        return info
    return None


def _ensure_database(socket_dir: Path) -> None:
    import psycopg
    from psycopg import errors, sql

    with psycopg.connect(host=str(socket_dir), user="postgres", dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if exists:
            return
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DB_NAME)))
            print(f"devdb: created database {DB_NAME}", file=sys.stderr)
        except errors.DuplicateDatabase:
            pass  # a concurrent `make test` created it first


def start() -> str:
    """Start the server unless it is already running; create the database; return its URL."""
    pgserver = _pgserver()
    info = _running_info()
    if info is None:
        VAR.mkdir(parents=True, exist_ok=True)
        fresh = not (PGDATA / "PG_VERSION").exists()
        print(
            f"devdb: {'initialising' if fresh else 'starting'} embedded PostgreSQL in {PGDATA.relative_to(ROOT)}",
            file=sys.stderr,
        )
        # cleanup_mode=None: keep the server running after this process exits.
        server = pgserver.get_server(PGDATA, cleanup_mode=None)
        info = server.get_postmaster_info()
    if info.socket_dir is None:
        sys.exit(f"devdb: the server in {PGDATA} listens on no unix socket; remove var/pgdata/postmaster.pid?")
    _ensure_database(info.socket_dir)
    url = database_url(info.socket_dir)
    URL_FILE.write_text(url + "\n")
    return url


def stop() -> None:
    _pgserver()
    info = _running_info()
    if info is None:
        print("devdb: embedded PostgreSQL is not running", file=sys.stderr)
        return
    from pgserver import pg_ctl

    user = None
    if os.name == "posix" and os.geteuid() == 0:
        user = PGDATA.stat().st_uid  # the `pgserver` system user that owns the cluster
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PGDATA, user=user)
    print(f"devdb: stopped embedded PostgreSQL (pid {info.pid}); data kept in {PGDATA.relative_to(ROOT)}", file=sys.stderr)


def status() -> int:
    info = _running_info() if PGDATA.exists() else None
    if info is None:
        print("embedded PostgreSQL: not running" + ("" if PGDATA.exists() else " (not initialised)"))
        return 1
    print(f"embedded PostgreSQL: running, pid {info.pid}")
    print(database_url(info.socket_dir))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["start", "url", "stop", "status"])
    args = parser.parse_args()
    if args.command == "start":
        print(f"export DATABASE_URL={shlex.quote(start())}")
    elif args.command == "url":
        print(start())
    elif args.command == "stop":
        stop()
    elif args.command == "status":
        if PGDATA.exists():
            _pgserver()
        return status()
    return 0


if __name__ == "__main__":
    sys.exit(main())
