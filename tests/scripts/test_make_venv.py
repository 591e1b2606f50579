"""scripts/make-venv: which Python the virtualenv is made with, and when it is made again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAKE_VENV = ROOT / "scripts" / "make-venv"
# The interpreter this suite runs on, not the virtualenv's wrapper of it.
BASE_PYTHON = os.path.realpath(getattr(sys, "_base_executable", sys.executable))


def make_venv(venv: Path, python: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHON=python)
    return subprocess.run(
        [str(MAKE_VENV), str(venv)], env=env, capture_output=True, text=True, timeout=120
    )


def made_from(venv: Path) -> str:
    config = (venv / "pyvenv.cfg").read_text()
    line = next(line for line in config.splitlines() if line.startswith("executable = "))
    return os.path.realpath(line.removeprefix("executable = "))


def test_made_with_the_given_python_then_kept(tmp_path):
    venv = tmp_path / "venv"
    first = make_venv(venv, BASE_PYTHON)
    assert first.returncode == 0, first.stderr
    assert made_from(venv) == BASE_PYTHON
    (venv / "kept").write_text("")
    again = make_venv(venv, BASE_PYTHON)
    assert again.returncode == 0 and again.stdout == ""
    assert (venv / "kept").exists()


def test_made_again_when_it_was_made_with_another_python(tmp_path):
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / "bin").mkdir()
    # What a virtualenv made by another interpreter looks like to the script.
    (venv / "bin" / "python").symlink_to(BASE_PYTHON)
    (venv / "pyvenv.cfg").write_text("home = /elsewhere\nexecutable = /elsewhere/python3.11\n")
    result = make_venv(venv, BASE_PYTHON)
    assert result.returncode == 0, result.stderr
    assert "Re-making" in result.stdout
    assert made_from(venv) == BASE_PYTHON


def test_no_usable_python_is_a_clear_error(tmp_path):
    result = make_venv(tmp_path / "venv", str(tmp_path / "no-such-python"))
    assert result.returncode == 1
    assert "No Python 3.11 or newer" in result.stderr
    assert not (tmp_path / "venv").exists()
