"""The ``flask prompts`` commands on a bare Flask app."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

import voice_prompts
from core import config


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    voice_prompts.init_app(app)
    return app


def test_build_renders_into_the_instance_folder_then_skips(app: Flask) -> None:
    runner = app.test_cli_runner()
    args = ["prompts", "build", "--lang", "en", "--key", "goodbye", "--key", "num/7"]

    first = runner.invoke(args=args)
    assert first.exit_code == 0, first.output
    assert "rendered 2, unchanged 0" in first.output
    directory = Path(app.instance_path) / "prompts"
    assert (directory / "en" / "goodbye.wav").is_file()
    assert (directory / "en" / "num" / "7.wav").is_file()
    assert not (directory / "hi").exists()

    second = runner.invoke(args=args)
    assert second.exit_code == 0, second.output
    assert "rendered 0, unchanged 2" in second.output

    forced = runner.invoke(args=[*args, "--force"])
    assert "rendered 2, unchanged 0" in forced.output

    library = voice_prompts.library_for(app)
    assert library.directory == directory
    assert library.playlist("goodbye", "en") == ["en/goodbye.wav"]
    assert library.playlist("goodbye", "hi") is None


def test_build_to_another_directory(app: Flask, tmp_path: Path) -> None:
    out = tmp_path / "elsewhere"
    result = app.test_cli_runner().invoke(
        args=["prompts", "build", "--lang", "hi", "--key", "num/99", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert (out / "hi" / "num" / "99.wav").is_file()
    assert (out / "manifest.json").is_file()


def test_build_refuses_unknown_keys_and_languages(app: Flask) -> None:
    runner = app.test_cli_runner()
    unknown = runner.invoke(args=["prompts", "build", "--key", "no_such_prompt"])
    assert unknown.exit_code != 0
    assert "no_such_prompt" in unknown.output
    language = runner.invoke(args=["prompts", "build", "--lang", "ta"])
    assert language.exit_code != 0


def test_check_lists_missing_audio(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["prompts", "check", "--lang", "hi"])
    assert result.exit_code == 1
    assert "missing or stale: hi/menu_main" in result.output
    assert "hi/num/99" in result.output


def test_directory_comes_from_config(tmp_path: Path) -> None:
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config["VOICE_PROMPTS_DIR"] = str(tmp_path / "audio")
    assert voice_prompts.prompts_directory(app) == tmp_path / "audio"
    voice_prompts.init_app(app)
    assert "prompts" in app.cli.commands


def test_directory_is_read_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICE_PROMPTS_DIR", str(tmp_path / "audio"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    config.load(app, None)
    assert voice_prompts.prompts_directory(app) == tmp_path / "audio"
