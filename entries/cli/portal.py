"""Commands for the centre portal: `entries users add|list|disable` (its accounts) and `entries web`
(serving it).

Each `cmd_*` takes the parsed arguments and returns the exit code. A password is read from standard
input only: never an argument or a log line.
"""

from __future__ import annotations

import argparse
import json
import sys

from entries.cli.opening import open_store
from entries.core import config


def cmd_users_add(args: argparse.Namespace) -> int:
    from entries.store import users

    users.check_username(args.username)
    password = sys.stdin.readline().rstrip("\r\n")  # from standard input: never an argument or a log line
    con = open_store(args)
    user = users.add_user(con, args.username, password, centre=args.centre, operator=args.operator)
    print(f"User {user.username} added ({'operator' if user.is_operator else 'centre ' + str(user.centre)})")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    from entries.store import users

    found = users.list_users(open_store(args))
    if args.json:
        print(
            json.dumps(
                [{"username": u.username, "role": u.role, "centre": u.centre, "disabled": u.disabled} for u in found],
                indent=2,
            )
        )
        return 0
    for u in found:
        print(f"{u.username}  {u.role}{' ' + u.centre if u.centre else ''}{'  (disabled)' if u.disabled else ''}")
    print(f"{len(found)} user(s)")
    return 0


def cmd_users_disable(args: argparse.Namespace) -> int:
    from entries.store import users

    users.disable_user(open_store(args), args.username)
    print(f"User {args.username} disabled: they can no longer sign in")
    return 0


def cmd_web(args: argparse.Namespace) -> int:
    import uvicorn

    from entries.store import database
    from entries.web.app import create_app
    from entries.web.security import load_secret

    db, out = config.db_path(args.db), config.out_dir(args.out)
    con = database.connect(db, wait_seconds=60.0)  # tables and reference data in place before serving
    try:
        from entries.store import refdata

        refdata.ensure_reference(con)
    finally:
        con.close()
    key = load_secret(db.with_name(db.name + ".portal-secret"))
    app = create_app(db, out, key, trusted_proxies=args.forwarded_allow_ips)
    print(f"Portal on http://{args.host}:{args.port}/ (store {db}); Ctrl-C to stop")
    # Access lines carry method, path and status only: paths hold ids and codes, never personal data.
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="info" if args.access_log else "warning",
        access_log=args.access_log,
        proxy_headers=False,  # X-Forwarded-For is read by the portal alone, from --forwarded-allow-ips
    )
    return 0
