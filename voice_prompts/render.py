"""Render prompts and clips to telephony WAV files, offline, with pyttsx3 and espeak-ng.

What is rendered (see ``voice_prompts.library`` for the layout): every static prompt,
every stretch of text between the placeholders of the other prompts, and every clip
that numbers, amounts and dates are spoken with. Values are never synthesised during a
call; the IVR joins clips instead.

How: pyttsx3 drives espeak-ng (voice ``hi`` for Hindi; the first of ``en-in``,
``en-gb``, ``en``, ``en-us`` that is installed for English), which writes 22,050 Hz
audio; each file is trimmed of the pause espeak-ng adds, resampled to 8 kHz and written
as 16-bit mono PCM WAV. ``manifest.json`` in the output directory records for each file
the text it says and a hash of that text with the voice, rate and processing, so a build
re-renders only what changed and webhooks can tell stale audio from current.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import io
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voice_prompts.audio import (
    TELEPHONY_RATE,
    read_wav,
    resample,
    rms,
    silence,
    trim_silence,
    write_wav,
)
from voice_prompts.catalogue import Catalogue, load_catalogue
from voice_prompts.exceptions import RenderError, UnknownPromptError
from voice_prompts.languages import LANGUAGES, Language, check_language
from voice_prompts.library import MANIFEST_FILE, AudioItem, audio_items, read_manifest

RENDERER_VERSION = 1
"""Bump when the audio processing changes, so every file is rendered again."""

MANIFEST_FORMAT = 1

VOICE_PREFERENCES: dict[Language, tuple[str, ...]] = {
    "hi": ("hi",),
    # espeak-ng has no Indian English voice yet; British English is the closer accent.
    "en": ("en-in", "en-gb", "en", "en-us"),
}
"""espeak-ng language tags to look for, best first."""

DEFAULT_RATE = 150
"""Words per minute: slower than pyttsx3's 200, for callers on noisy rural lines."""

PAUSE_BETWEEN_LANGUAGES_MS = 400
"""Silence between the Hindi and English halves of a bilingual prompt."""

# espeak-ng is initialised once per process and keeps one current voice, so two
# threads rendering at once would speak in each other's voices.
_ESPEAK_LOCK = threading.Lock()


@dataclass(frozen=True)
class RenderSettings:
    """How prompts sound: speaking rate, volume, output sample rate and voices."""

    rate: int = DEFAULT_RATE
    volume: float = 1.0
    sample_rate: int = TELEPHONY_RATE
    voices: Mapping[str, str] = field(default_factory=dict)
    """Explicit espeak-ng voice ids by language (e.g. ``{"en": "gmw/en-us"}``)."""


@dataclass(frozen=True)
class RenderSummary:
    """What a build did."""

    rendered: int
    unchanged: int
    removed: int
    seconds: float
    directory: Path

    def __str__(self) -> str:
        return (
            f"rendered {self.rendered}, unchanged {self.unchanged}, removed {self.removed} "
            f"in {self.seconds:.1f} s → {self.directory}"
        )


SYNTHESIS_ATTEMPTS = 3
"""How often one text is spoken before an empty result counts as a failure."""

_ENGINES: dict[str, object] = {}


def _shared_engine(pyttsx3: Any, driver: str) -> Any:
    """Return the process's one pyttsx3 engine for ``driver``, made on first use.

    espeak-ng has a single global synthesis callback. pyttsx3 registers it when a driver is
    made and clears it when a driver is garbage-collected, so a second engine (or the
    collection of a first one after a second was made) silently leaves the live one
    without audio. Keeping one engine for the life of the process avoids both.
    """
    if driver not in _ENGINES:
        if not _ENGINES:
            # Let the engine go while the interpreter is whole: collected at shutdown, its
            # driver's __del__ finds its modules gone and prints a traceback.
            atexit.register(_ENGINES.clear)
        _ENGINES[driver] = pyttsx3.init(driver)
    return _ENGINES[driver]


class Synthesizer:
    """Speak text to samples with pyttsx3's espeak-ng driver."""

    def __init__(self, settings: RenderSettings | None = None) -> None:
        self.settings = settings or RenderSettings()
        # Imported here: webhooks use this package but never synthesise, so they need not
        # load pyttsx3.
        import pyttsx3

        from voice_prompts import espeak_driver

        try:
            self._engine = _shared_engine(pyttsx3, espeak_driver.register())
        except Exception as error:  # pyttsx3 raises whatever ctypes or espeak-ng raise
            raise RenderError(
                f"cannot start espeak-ng through pyttsx3 ({error}); "
                "install the Debian package espeak-ng"
            ) from error
        self._voice_ids = self._choose_voices()

    def voice_id(self, lang: str) -> str:
        """Return the espeak-ng voice id used for ``lang``."""
        return self._voice_ids[check_language(lang)]

    def synthesize(self, text: str, lang: str) -> list[int]:
        """Return ``text`` spoken in ``lang`` as 16-bit samples at the output rate."""
        voice = self.voice_id(lang)
        # espeak-ng delivers audio from its own thread in retrieval mode and, now and then,
        # ends an utterance without a single sample; asking again gets the audio.
        for _ in range(SYNTHESIS_ATTEMPTS):
            samples, rate = self._speak(text, voice)
            samples = trim_silence(samples, rate)
            if samples:
                break
        else:
            raise RenderError(f"espeak-ng produced empty audio for {text!r} ({voice})")
        return list(resample(samples, rate, self.settings.sample_rate))

    def _speak(self, text: str, voice: str) -> tuple[Sequence[int], int]:
        with _ESPEAK_LOCK, tempfile.TemporaryDirectory(prefix="voice-prompts-") as scratch:
            raw_path = Path(scratch) / "speech.wav"
            self._engine.setProperty("voice", voice)
            self._engine.setProperty("rate", self.settings.rate)
            self._engine.setProperty("volume", self.settings.volume)
            self._engine.save_to_file(text, str(raw_path))
            # The espeak driver prints "Audio saved to …" for every file.
            with contextlib.redirect_stdout(io.StringIO()):
                self._engine.runAndWait()
            if not raw_path.exists():
                raise RenderError(f"espeak-ng wrote no audio for {text!r} ({voice})")
            return read_wav(raw_path)

    def _choose_voices(self) -> dict[Language, str]:
        available = {voice.id: voice for voice in self._engine.getProperty("voices")}
        chosen: dict[Language, str] = {}
        for lang in LANGUAGES:
            wanted = self.settings.voices.get(lang)
            if wanted:
                if wanted not in available:
                    raise RenderError(f"espeak-ng has no voice {wanted!r} for {lang}")
                chosen[lang] = wanted
                continue
            chosen[lang] = _preferred_voice(lang, available.values())
        return chosen


def _preferred_voice(lang: Language, voices: Iterable[object]) -> str:
    voices = list(voices)
    for tag in VOICE_PREFERENCES[lang]:
        for voice in voices:
            tags = {t.lower() for t in (getattr(voice, "languages", None) or [])}
            voice_id = str(getattr(voice, "id", ""))
            if tag in tags or voice_id.lower().rsplit("/", 1)[-1] == tag:
                return voice_id
    raise RenderError(
        f"espeak-ng has no voice for {lang} (looked for {', '.join(VOICE_PREFERENCES[lang])}); "
        "install the Debian package espeak-ng"
    )


class PromptBuilder:
    """Render the audio items of a catalogue into a directory, skipping unchanged ones.

    ``settings`` are used only when no ``synthesizer`` is given (a synthesizer carries
    its own); ``only`` limits the build to the named prompt parts and clips.
    """

    def __init__(
        self,
        directory: str | Path,
        *,
        catalogue: Catalogue | None = None,
        langs: Iterable[str] = LANGUAGES,
        only: Collection[str] | None = None,
        settings: RenderSettings | None = None,
        synthesizer: Synthesizer | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.catalogue = catalogue if catalogue is not None else load_catalogue()
        self.langs = tuple(check_language(lang) for lang in langs)
        self.only = frozenset(only) if only is not None else None
        self.synthesizer = synthesizer or Synthesizer(settings)
        self.settings = self.synthesizer.settings

    def all_items(self) -> list[AudioItem]:
        """Return every audio item of the catalogue in the languages built."""
        return [item for lang in self.langs for item in audio_items(self.catalogue, lang).values()]

    def items(self) -> list[AudioItem]:
        """Return the audio items this build renders: all, or those named in ``only``."""
        items = self.all_items()
        if self.only is None:
            return items
        unknown = self.only - {item.key for item in items}
        if unknown:
            raise UnknownPromptError(f"no prompt part or clip {', '.join(sorted(unknown))}")
        return [item for item in items if item.key in self.only]

    def fingerprint(self, item: AudioItem) -> str:
        """Return the hash that changes when the item's text, voice or processing does."""
        recipe = {
            "utterances": [
                [utterance.text, self.synthesizer.voice_id(utterance.voice_lang)]
                for utterance in item.utterances
            ],
            "rate": self.settings.rate,
            "volume": self.settings.volume,
            "sample_rate": self.settings.sample_rate,
            "renderer": RENDERER_VERSION,
        }
        encoded = json.dumps(recipe, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return hashlib.sha256(encoded).hexdigest()

    def build(
        self, *, force: bool = False, progress: Callable[[AudioItem], None] | None = None
    ) -> RenderSummary:
        """Render what changed (everything if ``force``) and update the manifest."""
        started = time.monotonic()
        items = self.items()
        manifest = read_manifest(self.directory)
        rendered = unchanged = removed = 0
        try:
            for item in items:
                fingerprint = self.fingerprint(item)
                entry = manifest.get(item.manifest_key)
                current = (
                    not force
                    and entry is not None
                    and entry.get("sha256") == fingerprint
                    and (self.directory / item.relative_path).is_file()
                )
                if current:
                    unchanged += 1
                else:
                    self._render(item)
                    manifest[item.manifest_key] = {
                        "file": item.relative_path,
                        "text": item.text,
                        "sha256": fingerprint,
                    }
                    rendered += 1
                if progress is not None:
                    progress(item)
            wanted = {item.manifest_key for item in self.all_items()}
            removed = self._remove_orphans(manifest, wanted)
        finally:
            # Written even when a render fails midway, so the next build resumes.
            self._write_manifest(manifest)
        return RenderSummary(
            rendered=rendered,
            unchanged=unchanged,
            removed=removed,
            seconds=time.monotonic() - started,
            directory=self.directory,
        )

    def _render(self, item: AudioItem) -> None:
        rate = self.settings.sample_rate
        samples: list[int] = []
        for index, utterance in enumerate(item.utterances):
            if index:
                samples += silence(rate, PAUSE_BETWEEN_LANGUAGES_MS)
            samples += self.synthesizer.synthesize(utterance.text, utterance.voice_lang)
        if rms(samples) == 0:
            raise RenderError(f"{item.manifest_key}: rendered audio is silent")
        path = self.directory / item.relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        write_wav(path, samples, rate)

    def _remove_orphans(self, manifest: dict[str, dict[str, str]], wanted: set[str]) -> int:
        # A prompt taken out of the catalogue must not go on being played. Only files
        # this renderer recorded are deleted, and only in the languages being built.
        orphans = [
            key for key in manifest if key.split("/", 1)[0] in self.langs and key not in wanted
        ]
        root = self.directory.resolve()
        for key in orphans:
            entry = manifest.pop(key)
            path = (self.directory / str(entry.get("file", ""))).resolve()
            if path.is_relative_to(root) and path.is_file():
                path.unlink()
        return len(orphans)

    def _write_manifest(self, manifest: Mapping[str, Mapping[str, str]]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / MANIFEST_FILE
        temporary = path.with_name(f".{path.name}.tmp")
        document = {"format": MANIFEST_FORMAT, "items": dict(sorted(manifest.items()))}
        temporary.write_text(
            json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        os.replace(temporary, path)


def build_prompts(
    directory: str | Path,
    *,
    catalogue: Catalogue | None = None,
    langs: Iterable[str] = LANGUAGES,
    only: Collection[str] | None = None,
    force: bool = False,
    settings: RenderSettings | None = None,
) -> RenderSummary:
    """Render the catalogue's prompts and clips into ``directory``; return what was done."""
    builder = PromptBuilder(
        directory, catalogue=catalogue, langs=langs, only=only, settings=settings
    )
    return builder.build(force=force)
