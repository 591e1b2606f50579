"""The settings: one typed object, declared once, read from the environment or a test's mapping."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask

from core import config
from core.config import Settings, SettingsError

PROJECT = Path(__file__).resolve().parents[2]


def _load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> Flask:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    monkeypatch.setenv("SECRET_KEY", "test-only")
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    config.load(app, None)
    return app


def test_text_from_the_environment_becomes_the_declared_type(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _load(
        tmp_path,
        monkeypatch,
        IVR_GATHER_TIMEOUT="9",
        CALL_RECORDING="yes",
        TELEPHONY_VALIDATE_SIGNATURES="off",
        CAMPAIGN_CALLS_PER_SECOND="2.5",
    )
    settings = config.settings_of(app)
    assert settings.IVR_GATHER_TIMEOUT == 9
    assert settings.CALL_RECORDING is True
    assert settings.TELEPHONY_VALIDATE_SIGNATURES is False
    assert settings.CAMPAIGN_CALLS_PER_SECOND == 2.5
    # Flask's own readers and extensions see the same typed values.
    assert app.config["IVR_GATHER_TIMEOUT"] == 9


def test_a_setting_that_is_not_its_type_stops_the_app_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SettingsError, match="SLA_MINUTES='two hours' must be a whole number"):
        _load(tmp_path, monkeypatch, SLA_MINUTES="two hours")


def test_an_empty_number_in_the_environment_is_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _load(tmp_path, monkeypatch, SLA_MINUTES="", CAMPAIGN_CALLS_PER_SECOND=" ")
    assert config.settings_of(app).SLA_MINUTES == config.DEFAULTS["SLA_MINUTES"]
    assert config.settings_of(app).CAMPAIGN_CALLS_PER_SECOND == 1.0


def test_what_is_parsed_from_settings_is_parsed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _load(
        tmp_path,
        monkeypatch,
        CALLING_HOURS="08:30-20:00",
        ALLOWED_REGIONS="in, np",
        LANGUAGE_BY_DIALLED_NUMBER="+911800111222=en",
    )
    settings = config.settings_of(app)
    assert settings.calling_hours is settings.calling_hours
    assert settings.calling_hours.opens.strftime("%H:%M") == "08:30"
    assert settings.allowed_regions == {"IN", "NP"}
    assert settings.language_by_dialled_number == {"+911800111222": "en"}


def test_refresh_reads_a_changed_config_again(app: Flask) -> None:
    app.config["SLA_MINUTES"] = "45"
    assert config.refresh(app).SLA_MINUTES == 45
    with app.app_context():
        assert config.settings().SLA_MINUTES == 45


def test_no_module_repeats_a_declared_default() -> None:
    """A module that reads a setting with a fallback of its own can drift from the declaration."""
    declared = {name for name in config.DEFAULTS}
    pattern = re.compile(r"""config\.get\(\s*["']([A-Z][A-Z0-9_]+)["']\s*,""")
    offenders = []
    for path in PROJECT.glob("*/**/*.py"):
        if path.parts[len(PROJECT.parts)] in {".venv", "tests", "migrations", "instance"}:
            continue
        for name in pattern.findall(path.read_text(encoding="utf-8")):
            if name in declared:
                offenders.append(f"{path.relative_to(PROJECT)}: {name}")
    assert offenders == []


def test_every_setting_has_a_type_the_loader_reads() -> None:
    kinds = {type(value) for value in config.DEFAULTS.values()}
    assert kinds <= {int, float, bool, str}
    assert len(config.DEFAULTS) == len(Settings.__dataclass_fields__)
