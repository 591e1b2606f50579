"""The IVR calls the account number by the DISCOM's own name for it, rendered audio included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.ivr.test_voice import webhook
from voice_prompts.library import MANIFEST_FILE


def build(app, *keys: str) -> str:
    """Run `flask prompts build` for ``keys`` in English and Hindi; return its output."""
    args = ["prompts", "build"]
    for key in keys:
        args += ["--key", key]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    return result.output


def built_text(directory: Path, item: str) -> str:
    manifest = json.loads((directory / MANIFEST_FILE).read_text(encoding="utf-8"))
    return manifest["items"][item]["text"]


@pytest.mark.parametrize(
    ("discom", "hindi", "english"),
    [
        ("cspdcl", "बीपी नंबर", "BP number"),
        ("avvnl", "के नंबर", "K number"),
        # Written "consumer (CA) number": discoms.toml gives the words to say instead.
        ("sbpdcl", "सीए नंबर", "CA number"),
    ],
)
def test_the_built_prompts_name_the_discoms_account_number(
    make_app, tmp_path, discom, hindi, english
):
    prompts = tmp_path / "prompts"
    app = make_app(DISCOM=discom, VOICE_PROMPTS_DIR=str(prompts))
    build(app, "enter_account")

    assert built_text(prompts, "en/enter_account") == (
        f"Please key in your {english}, then press hash."
    )
    assert built_text(prompts, "hi/enter_account") == f"कृपया अपना {hindi} डालें, और फिर हैश दबाएँ।"
    # The IVR plays that recording rather than falling back to text-to-speech.
    entry = webhook(app.test_client(), "/ivr/voice/account/enter?lang=hi")
    assert [play.text.split("?")[0].rsplit("/", 2)[-2:] for play in entry.iter("Play")] == [
        ["hi", "enter_account.wav"]
    ]


def test_another_discom_re_renders_the_prompts_that_name_its_number(make_app, tmp_path):
    prompts = tmp_path / "prompts"
    chhattisgarh = make_app(DISCOM="cspdcl", VOICE_PROMPTS_DIR=str(prompts))
    assert "rendered 4, unchanged 0" in build(chhattisgarh, "enter_account", "goodbye")
    assert "rendered 0, unchanged 4" in build(chhattisgarh, "enter_account", "goodbye")
    bp_number = built_text(prompts, "en/enter_account")

    rajasthan = make_app(DISCOM="avvnl", VOICE_PROMPTS_DIR=str(prompts))
    client = rajasthan.test_client()
    # Until the build, Rajasthan's IVR does not play Chhattisgarh's "BP number": it says
    # its own words with text-to-speech.
    stale = webhook(client, "/ivr/voice/account/enter?lang=en")
    assert stale.find(".//Play") is None
    assert "Please key in your K number" in stale.findtext(".//Say")

    # Only the prompt that names the number is rendered again, in both languages.
    assert "rendered 2, unchanged 2" in build(rajasthan, "enter_account", "goodbye")
    assert built_text(prompts, "en/enter_account") != bp_number
    assert "K number" in built_text(prompts, "en/enter_account")
    current = webhook(client, "/ivr/voice/account/enter?lang=en")
    assert current.find(".//Play").text.split("?")[0].endswith("/en/enter_account.wav")
