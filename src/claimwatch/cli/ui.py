"""`claimwatch ui`: the workbench in the browser, over the same warehouse as the CLI."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from claimwatch.cli.common import (
    PATH,
    OneLineErrors,
    announce_waits,
    claims_option,
    db_option,
    settings_from,
    user_name,
)

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@click.group("ui", cls=OneLineErrors, invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on.",
)
@db_option
@claims_option
@click.option(
    "--users",
    "users_file",
    type=PATH,
    help="Sign-in with the names and passwords of this file (`claimwatch ui add-user`) "
    "[env CLAIMWATCH_UI_USERS].",
)
@click.option(
    "--user-header",
    help="Trust a reverse proxy that signs users in and names them in this header, "
    "e.g. X-Forwarded-User [env CLAIMWATCH_UI_USER_HEADER].",
)
@click.option(
    "--reviewer",
    default=user_name,
    show_default="your user name",
    help="Who decides, without sign-in.",
)
@click.pass_context
def ui_group(
    ctx: click.Context,
    host: str,
    port: int,
    db: Path | None,
    claims: Path | None,
    users_file: Path | None,
    user_header: str | None,
    reviewer: str,
) -> None:
    """Serve the workbench: claims, review queue, articles, search and sources.

    It reads and writes the warehouse the CLI does, while passes run. It listens on
    127.0.0.1 unless --host says otherwise; on any other address give it users
    (--users) or put it behind a proxy that signs them in (--user-header).

    Examples:

        claimwatch ui                      # then open http://127.0.0.1:8000

        claimwatch ui add-user alice --users warehouse/ui-users
        claimwatch ui --host 0.0.0.0 --users warehouse/ui-users
    """
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from claimwatch.web import WorkbenchConfig, create_app
    from claimwatch.web.config import Auth

    settings = settings_from(db=db, claims=claims, ui_users=users_file, ui_user_header=user_header)
    users_file, user_header = settings.ui_users, settings.ui_user_header
    if users_file and user_header:
        raise click.ClickException("give --users or --user-header, not both")
    if host not in LOCAL_HOSTS and not (users_file or user_header):
        raise click.ClickException(
            f"--host {host}: anyone who can reach it could decide reviews; "
            "give --users FILE or --user-header NAME (or keep the default 127.0.0.1)"
        )
    announce_waits()
    auth: Auth = "password" if users_file else "header" if user_header else "none"
    if users_file is not None:
        from claimwatch.web.users import read_users

        if not read_users(users_file):
            raise click.ClickException(
                f"{users_file}: no users yet; add one with `claimwatch ui add-user`"
            )
    config = WorkbenchConfig(
        db=settings.db,
        claims=settings.claims,
        auth=auth,
        reviewer=reviewer,
        users_file=users_file,
        user_header=user_header or "X-Forwarded-User",
        wait=settings.lock_wait,
        secure_cookies=settings.ui_secure_cookies,
    )
    if settings.ui_secret:  # sessions then survive a restart
        config = replace(config, secret=settings.ui_secret)
    shown = f"[{host}]" if ":" in host else host
    click.echo(
        f"claimwatch workbench on http://{shown}:{port}/ (warehouse {settings.db}); Ctrl-C stops it"
    )
    uvicorn.run(create_app(config), host=host, port=port, log_level="warning", access_log=False)


@ui_group.command("add-user")
@click.argument("name")
@click.option("--users", "users_file", type=PATH, help="The users file [env CLAIMWATCH_UI_USERS].")
@click.password_option(help="Asked for when not given (twice, hidden).")
def add_user_command(name: str, users_file: Path | None, password: str) -> None:
    """Add a workbench user, or change their password (hashed with Argon2id).

    Example:

        claimwatch ui add-user alice --users warehouse/ui-users
    """
    from claimwatch.web.users import add_user

    users_file = settings_from(ui_users=users_file).ui_users
    if users_file is None:
        raise click.ClickException("name the users file: --users FILE or CLAIMWATCH_UI_USERS")

    new = add_user(users_file, name, password)
    click.echo(f"{'added' if new else 'changed the password of'} {name} in {users_file}")
