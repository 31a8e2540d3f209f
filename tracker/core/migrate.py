"""Run Alembic from code: ``tracker init`` and the tests use these, not the command line."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config


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
