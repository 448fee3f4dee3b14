"""The ``curhat`` command."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from curhat.config import MisconfiguredDeployment, Settings
from curhat.embedded import EmbeddedServers, EmbeddedUnavailable
from curhat.observability import configure_logging, resolve_format
from curhat.postgres import Database

app = typer.Typer(help="Curhat: paid real-time curhat chat.", no_args_is_help=True, add_completion=False)

T = TypeVar("T")


def _settings(**overrides: object) -> Settings:
    settings = Settings()
    update = {k: v for k, v in overrides.items() if v is not None}
    return settings.model_copy(update=update) if update else settings


def _prepare(settings: Settings) -> tuple[Settings, EmbeddedServers | None]:
    from curhat import migrate
    from curhat.runtime import resolve_urls

    try:
        settings, embedded = resolve_urls(settings)
    except EmbeddedUnavailable as exc:
        typer.echo(f"curhat: {exc}", err=True)
        raise typer.Exit(2) from None
    assert settings.database_url
    try:
        migrate.upgrade(settings.database_url)
    except BaseException:
        if embedded:
            embedded.stop()
        raise
    return settings, embedded


def _with_db(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    settings, embedded = _prepare(settings)
    assert settings.database_url

    async def run() -> T:
        db = Database(settings.database_url or "", pool_size=2)
        try:
            return await work(db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(run())
    finally:
        if embedded:
            embedded.stop()


async def _no_publish(events: object) -> None:
    return None


@app.command()
def serve(
    public_port: Annotated[int | None, typer.Option(help="public listener port")] = None,
    internal_port: Annotated[int | None, typer.Option(help="internal listener port")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="embedded servers' data directory")] = None,
) -> None:
    """Run both listeners (starting the embedded PostgreSQL and Valkey when no URL is set)."""
    import uvloop

    from curhat.cli.serve import serve as run_serve

    settings = _settings(public_port=public_port, internal_port=internal_port, data_dir=data_dir)
    try:
        settings.check_deployment()
    except MisconfiguredDeployment as exc:
        typer.echo(f"curhat serve: {exc}", err=True)
        raise typer.Exit(2) from None
    log_format = resolve_format(settings.log_format, settings.log_json)
    configure_logging(settings.log_level, log_format)
    settings, embedded = _prepare(settings)
    try:
        uvloop.run(run_serve(settings, log_format))
    except KeyboardInterrupt:
        pass
    finally:
        if embedded:
            embedded.stop()


@app.command()
def migrate(data_dir: Annotated[Path | None, typer.Option()] = None) -> None:
    """Apply migrations to the configured database."""
    _, embedded = _prepare(_settings(data_dir=data_dir))
    if embedded:
        embedded.stop()
    typer.echo("migrations applied")


@app.command("demo-data")
def demo_data(data_dir: Annotated[Path | None, typer.Option()] = None) -> None:
    """Create demo accounts (idempotent) and print their credentials."""
    from curhat.auth.passwords import PasswordHashing
    from curhat.cli.demo import create_demo_data

    async def work(db: Database) -> list[str]:
        async with db.transaction(_no_publish) as session:
            return await create_demo_data(session, PasswordHashing())

    for line in _with_db(_settings(data_dir=data_dir), work):
        typer.echo(line)


@app.command("create-operator")
def create_operator(
    email: Annotated[str, typer.Option(help="operator e-mail")],
    password: Annotated[str, typer.Option(help="at least 8 characters")],
    display_name: Annotated[str | None, typer.Option()] = None,
    data_dir: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """Add an operator for the control center."""
    from curhat.auth.passwords import MIN_PASSWORD_LENGTH, PasswordHashing
    from curhat.auth.service import create_operator as create
    from curhat.errors import CurhatError

    if len(password) < MIN_PASSWORD_LENGTH:
        raise typer.BadParameter(f"password needs at least {MIN_PASSWORD_LENGTH} characters")

    async def work(db: Database) -> str:
        async with db.transaction(_no_publish) as session:
            user = await create(session, PasswordHashing(), email, password, display_name)
            return f"operator created: {user.email}"

    try:
        typer.echo(_with_db(_settings(data_dir=data_dir), work))
    except CurhatError as exc:
        typer.echo(f"error: {exc.code}: {exc.message}", err=True)
        raise typer.Exit(1) from None


if __name__ == "__main__":
    app()
