"""Every setting and every command is documented in the README."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from tracker.config import SETTING_NAMES
from tracker_cli.main import cli

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def command_paths(group: click.Group, prefix: str = "tracker") -> list[str]:
    paths = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        paths += command_paths(command, path) if isinstance(command, click.Group) else [path]
    return paths


@pytest.mark.parametrize("name", SETTING_NAMES)
def test_every_setting_is_in_the_readme(name: str) -> None:
    assert f"`{name}`" in README


@pytest.mark.parametrize("path", command_paths(cli))
def test_every_command_is_in_the_readme(path: str) -> None:
    assert f"`{path}" in README


def test_every_command_has_bilingual_help() -> None:
    for path in command_paths(cli):
        command: click.Command = cli
        for part in path.split()[1:]:
            assert isinstance(command, click.Group)
            command = command.commands[part]
        assert command.help and " / " in command.help, path
