"""Run Alembic from code: ``tracker init`` and the tests use these, not the command line."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at the migrations shipped inside the package."""
    config = Config()
    config.set_main_option("script_location", str(resources.files("tracker").joinpath("migrations")))
    # ConfigParser interpolation: a literal % in a password must be doubled.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_database(database_url: str) -> None:
    """Bring the schema to the newest revision."""
    command.upgrade(alembic_config(database_url), "head")


def check_database(database_url: str) -> None:
    """Raise when the models and the migrated schema disagree (``alembic check``)."""
    command.check(alembic_config(database_url))


def _scripts(database_url: str = "sqlite://") -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(database_url))


def head_revision() -> str:
    """The newest schema revision this code knows."""
    head = _scripts().get_current_head()
    assert head is not None, "the package ships no migrations"
    return head


def known_revisions() -> list[str]:
    """Every revision in this code's migration history, oldest first."""
    return [script.revision for script in reversed(list(_scripts().walk_revisions()))]


def current_revision(connection: Connection) -> str | None:
    """The revision a database is at (None: never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()
