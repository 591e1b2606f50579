"""The suite never reads the developer's local state: ``instance/`` and ``.env``.

A developer who ran ``flask prompts build`` has rendered prompts in ``instance/prompts``,
and one who copied ``.env.example`` has a ``.env`` (perhaps with a real Twilio account);
neither may change what a test sees or where a test's SMS go.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from flask import Flask

import voice_prompts

ROOT = Path(__file__).resolve().parents[1]
FLASK = str(Path(sys.executable).parent / "flask")


def _outside_the_project(path: str | Path) -> bool:
    return not Path(path).resolve().is_relative_to(ROOT)


def test_a_test_app_keeps_its_instance_folder_and_prompts_outside_the_project(app: Flask):
    assert _outside_the_project(app.instance_path)
    assert _outside_the_project(voice_prompts.prompts_directory(app))
    assert voice_prompts.library_for(app).playlist("goodbye", "hi") is None


def test_each_test_app_has_an_instance_folder_of_its_own(app: Flask, tmp_path: Path):
    assert Path(app.instance_path) == tmp_path / "instance"
    assert voice_prompts.prompts_directory(app) == tmp_path / "prompts"


def test_a_flask_process_a_test_starts_reads_no_dotenv_and_no_instance_folder(tmp_path: Path):
    # A .env where `flask` looks for one (the working directory and its parents), as a
    # developer's sits in the project's root, where the suite's `flask` processes run.
    (tmp_path / ".env").write_text(
        "SAMPARK_DOTENV_PROBE=read\nTWILIO_ACCOUNT_SID=AC" + "f" * 32 + "\n"
    )
    probe = (
        "import os; print('dotenv', os.environ.get('SAMPARK_DOTENV_PROBE'));"
        " print('sid', repr(app.config['TWILIO_ACCOUNT_SID']));"
        " print('instance', app.instance_path)\n"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TWILIO_", "SAMPARK_DOTENV"))
    }
    env.update(FLASK_APP="app", PYTHONPATH=str(ROOT))

    done = subprocess.run(
        [FLASK, "shell"], cwd=tmp_path, env=env, input=probe, capture_output=True, text=True
    )

    assert done.returncode == 0, done.stderr
    lines = dict(
        line.removeprefix(">>> ").split(" ", 1)
        for line in done.stdout.splitlines()
        if line.removeprefix(">>> ").startswith(("dotenv ", "sid ", "instance "))
    )
    assert lines["dotenv"] == "None"
    assert lines["sid"] == "''"
    assert _outside_the_project(lines["instance"])
