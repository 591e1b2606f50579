"""Find rendered prompt audio, and the order to play it in, for the IVR webhooks.

Every piece of audio is an *item* with a key and a language, stored as
``<directory>/<lang>/<key>.wav``:

- a static prompt is one item under its own key (``hi/menu_main.wav``);
- a prompt with placeholders is cut at its placeholders; each stretch of text between
  them is an item ``<key>.<n>`` numbered from 1 (``hi/bill_amount_due.1.wav``), and the
  values are spoken from clips (``hi/num/20.wav``, see ``voice_prompts.clips``);
- a bilingual prompt is one item per language directory, holding the Hindi text in
  the Hindi voice followed by the English text in the English voice.

``PromptLibrary.tracks()`` gives the files to ``<Play>`` in order, or None when any is
missing or was rendered from an older text; the webhook then falls back to
``<Say language="hi-IN">`` with ``PromptLibrary.say_text()``. ``PromptLibrary.current()``
answers the same questions for one version of the manifest, with the answers kept.
"""

from __future__ import annotations

import json
import os
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

from voice_prompts.catalogue import Catalogue, Prompt, Slot, load_catalogue
from voice_prompts.clips import clip_inventory, clips_for_value
from voice_prompts.exceptions import MissingValueError, UnknownPromptError
from voice_prompts.languages import LANGUAGES, Language, check_language
from voice_prompts.spoken import value_words

MANIFEST_FILE = "manifest.json"
"""The renderer's record of what each audio file was rendered from, in the output directory."""

AUDIO_SUFFIX = ".wav"


@dataclass(frozen=True)
class Utterance:
    """A stretch of text spoken in one language's voice."""

    text: str
    voice_lang: Language


@dataclass(frozen=True)
class AudioItem:
    """One audio file to render and play: a prompt, a part of a prompt, or a clip."""

    key: str
    lang: Language
    utterances: tuple[Utterance, ...]

    @property
    def text(self) -> str:
        """Return everything the file says."""
        return " ".join(utterance.text for utterance in self.utterances)

    @property
    def manifest_key(self) -> str:
        """Return the item's key in the manifest, e.g. ``hi/menu_main``."""
        return f"{self.lang}/{self.key}"

    @property
    def relative_path(self) -> str:
        """Return the file's path under the prompts directory, e.g. ``hi/menu_main.wav``."""
        return f"{self.lang}/{self.key}{AUDIO_SUFFIX}"


def part_key(prompt_key: str, number: int) -> str:
    """Return the item key of the ``number``-th spoken stretch of a prompt with placeholders."""
    return f"{prompt_key}.{number}"


def audio_items(catalogue: Catalogue, lang: str) -> dict[str, AudioItem]:
    """Return every audio item of ``lang`` by key: prompts, prompt parts and clips."""
    lang = check_language(lang)
    items: dict[str, AudioItem] = {}
    for prompt in catalogue.prompts.values():
        if prompt.bilingual:
            spoken = tuple(Utterance(prompt.texts[each], each) for each in LANGUAGES)
            items[prompt.key] = AudioItem(prompt.key, lang, spoken)
        elif prompt.is_static:
            items[prompt.key] = AudioItem(prompt.key, lang, (Utterance(prompt.text(lang), lang),))
        else:
            for number, text in _spoken_stretches(prompt, lang):
                key = part_key(prompt.key, number)
                items[key] = AudioItem(key, lang, (Utterance(text, lang),))
    for key, text in clip_inventory(lang).items():
        items[key] = AudioItem(key, lang, (Utterance(text, lang),))
    return items


def prompt_sequence(catalogue: Catalogue, key: str, lang: str, **values: object) -> list[str]:
    """Return the item keys that say prompt ``key`` with ``values``, in play order."""
    lang = check_language(lang)
    return SpokenPrompt(catalogue, catalogue[key], lang).sequence(values)


def say_text(catalogue: Catalogue, key: str, lang: str, **values: object) -> str:
    """Return prompt ``key`` as text with ``values`` spelled out, for a TTS fallback."""
    lang = check_language(lang)
    return SpokenPrompt(catalogue, catalogue[key], lang).say_text(values)


class SpokenPrompt:
    """How one prompt is said in one language: its recordings and text, worked out once."""

    def __init__(self, catalogue: Catalogue, prompt: Prompt, lang: Language) -> None:
        self.prompt = prompt
        self.lang = lang
        # Item keys of the prompt's own recordings, and (name, kind) for each value.
        audio: list[str | tuple[str, str]] = []
        text: list[str | tuple[str, str]] = []
        number = 0
        for part in prompt.template(lang):
            if isinstance(part, Slot):
                slot = (part.name, catalogue.kind_of(part.name))
                audio.append(slot)
                text.append(slot)
            else:
                text.append(part)
                # Stretches that are only punctuation carry no speech and get no recording.
                if _has_speech(part):
                    number += 1
                    audio.append(part_key(prompt.key, number))
        if prompt.is_static:
            audio = [prompt.key]
        self.audio = tuple(audio)
        self.text = tuple(text)
        self.own_items = tuple(step for step in audio if isinstance(step, str))
        self.static_text = "".join(text) if prompt.is_static else None

    def sequence(self, values: Mapping[str, object]) -> list[str]:
        """Return the item keys that say the prompt with ``values``, in play order."""
        _check_values(self.prompt, values)
        sequence: list[str] = []
        for step in self.audio:
            if isinstance(step, str):
                sequence.append(step)
            else:
                sequence += clips_for_value(step[1], values[step[0]], self.lang)
        return sequence

    def say_text(self, values: Mapping[str, object]) -> str:
        """Return the prompt as text with ``values`` spelled out, for a TTS fallback."""
        _check_values(self.prompt, values)
        if self.static_text is not None:
            return self.static_text
        return "".join(
            step if isinstance(step, str) else value_words(step[1], values[step[0]], self.lang)
            for step in self.text
        )


def read_manifest(directory: str | Path) -> dict[str, dict[str, str]]:
    """Return the manifest's items (``hi/menu_main`` → file, text, sha256), or {} if none."""
    path = Path(directory) / MANIFEST_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        # A damaged manifest means "nothing is known to be current": everything is
        # re-rendered and, until then, callers fall back to text-to-speech.
        return {}
    items = data.get("items") if isinstance(data, dict) else None
    return items if isinstance(items, dict) else {}


Track: TypeAlias = tuple[str, str]
"""An audio file to play: its path under the prompts directory and its version tag."""


class PromptLibrary:
    """The rendered audio in one directory, checked against the current catalogue."""

    def __init__(self, directory: str | Path, catalogue: Catalogue | None = None) -> None:
        self.directory = Path(directory)
        self.catalogue = catalogue if catalogue is not None else load_catalogue()
        self._items: dict[Language, dict[str, AudioItem]] = {}
        self._spoken: dict[tuple[str, str], SpokenPrompt] = {}
        self._manifest_path = str(self.directory / MANIFEST_FILE)
        self._rendered = RenderedPrompts(self, {}, None)

    def items(self, lang: str) -> Mapping[str, AudioItem]:
        """Return every audio item in ``lang`` by key."""
        lang = check_language(lang)
        if lang not in self._items:
            self._items[lang] = audio_items(self.catalogue, lang)
        return self._items[lang]

    def item(self, key: str, lang: str) -> AudioItem:
        """Return the audio item ``key`` in ``lang``, or raise UnknownPromptError."""
        try:
            return self.items(lang)[key]
        except KeyError:
            raise UnknownPromptError(f"no prompt, prompt part or clip {key!r}") from None

    def relative_path(self, key: str, lang: str) -> str:
        """Return the path of item ``key`` under the directory, e.g. for a URL."""
        return self.item(key, lang).relative_path

    def path(self, key: str, lang: str) -> Path:
        """Return where the audio of item ``key`` in ``lang`` is (or will be) stored."""
        return self.directory / self.relative_path(key, lang)

    def spoken(self, key: str, lang: str) -> SpokenPrompt:
        """Return how prompt ``key`` is said in ``lang``, worked out on first use."""
        spoken = self._spoken.get((key, lang))
        if spoken is None:
            spoken = SpokenPrompt(self.catalogue, self.catalogue[key], check_language(lang))
            self._spoken[(key, lang)] = spoken
        return spoken

    def current(self) -> RenderedPrompts:
        """Return what is rendered now; the manifest is re-read only when it was replaced."""
        # One stat: a webhook asks for it once and then checks a dozen clips against it.
        try:
            stat = os.stat(self._manifest_path)
            stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = None
        rendered = self._rendered
        if stamp != rendered.stamp:
            rendered = RenderedPrompts(self, read_manifest(self.directory), stamp)
            self._rendered = rendered
        return rendered

    def has(self, key: str, lang: str) -> bool:
        """Tell whether item ``key`` has audio rendered from its current text."""
        return self.current().track(key, lang) is not None

    def version(self, key: str, lang: str) -> str | None:
        """Return a short tag that changes whenever item ``key`` is re-rendered, or None."""
        # Telephony providers cache <Play> media by URL; appending this tag (``?v=…``)
        # makes them fetch a re-rendered prompt instead of replaying the old one.
        track = self.current().track(key, lang)
        if track is None:
            return None
        return track[1] or None

    def missing(self, lang: str) -> list[str]:
        """Return the keys in ``lang`` with no current audio."""
        rendered = self.current()
        return [key for key in self.items(lang) if rendered.track(key, lang) is None]

    def sequence(self, key: str, lang: str, **values: object) -> list[str]:
        """Return the item keys that say prompt ``key`` with ``values``, in play order."""
        return self.spoken(key, lang).sequence(values)

    def playlist(self, key: str, lang: str, **values: object) -> list[str] | None:
        """Return relative audio paths to play for prompt ``key``, or None if any is missing."""
        tracks = self.tracks(key, lang, **values)
        return None if tracks is None else [path for path, _version in tracks]

    def tracks(self, key: str, lang: str, **values: object) -> list[Track] | None:
        """Return (path, version tag) pairs to play prompt ``key``, or None if any is missing."""
        return self.current().tracks(key, lang, **values)

    def say_text(self, key: str, lang: str, **values: object) -> str:
        """Return prompt ``key`` as text with ``values`` in words, for ``<Say>``."""
        return self.spoken(key, lang).say_text(values)


class RenderedPrompts:
    """The audio one version of the manifest records, with answers kept until it changes.

    A webhook takes one from ``PromptLibrary.current()`` and asks it about every prompt it
    speaks: a re-render (a new manifest) gives a new one, so nothing stale is played.
    """

    def __init__(
        self,
        library: PromptLibrary,
        manifest: Mapping[str, Mapping[str, str]],
        stamp: tuple[int, int, int] | None,
    ) -> None:
        self.library = library
        self.manifest = manifest
        self.stamp = stamp
        self._kept_tracks: dict[tuple[str, str], Track | None] = {}
        self._kept_rendered: dict[tuple[str, str], bool] = {}

    def track(self, key: str, lang: str) -> Track | None:
        """Return the track of item ``key`` if rendered from its current text, else None."""
        if (key, lang) in self._kept_tracks:
            return self._kept_tracks[(key, lang)]
        item = self.library.item(key, lang)
        entry = self.manifest.get(item.manifest_key)
        track = None
        # The manifest says what was rendered; the file check catches a file missing when
        # first asked about. Both answers hold until the renderer replaces the manifest.
        if (
            entry
            and entry.get("text") == item.text
            and (self.library.directory / item.relative_path).is_file()
        ):
            track = (item.relative_path, str(entry.get("sha256", ""))[:12])
        self._kept_tracks[(key, lang)] = track
        return track

    def tracks(self, key: str, lang: str, **values: object) -> list[Track] | None:
        """Return the tracks that say prompt ``key`` with ``values``, or None if any is missing."""
        spoken = self.library.spoken(key, lang)
        # Most answers are "not rendered": decide those before spelling out any value.
        if not self._rendered(spoken):
            _check_values(spoken.prompt, values)
            return None
        return self._clips(spoken, values)

    def speech(self, key: str, lang: str, **values: object) -> list[Track] | str:
        """Return the tracks that say prompt ``key`` with ``values``, or its text for ``<Say>``."""
        spoken = self.library.spoken(key, lang)
        tracks = self._clips(spoken, values) if self._rendered(spoken) else None
        return spoken.say_text(values) if tracks is None else tracks

    def _clips(self, spoken: SpokenPrompt, values: Mapping[str, object]) -> list[Track] | None:
        tracks = []
        for item_key in spoken.sequence(values):
            track = self.track(item_key, spoken.lang)
            if track is None:
                return None
            tracks.append(track)
        return tracks

    def _rendered(self, spoken: SpokenPrompt) -> bool:
        # The prompt's own recordings, not the clips its values are said with.
        if not self.manifest:
            return False
        key = (spoken.prompt.key, spoken.lang)
        rendered = self._kept_rendered.get(key)
        if rendered is None:
            rendered = all(self.track(item, spoken.lang) is not None for item in spoken.own_items)
            self._kept_rendered[key] = rendered
        return rendered


def _spoken_stretches(prompt: Prompt, lang: Language) -> list[tuple[int, str]]:
    # Stretches that are only punctuation ("." after a placeholder) carry no speech,
    # so they get no recording and no number.
    stretches = []
    for part in prompt.template(lang):
        if isinstance(part, str) and _has_speech(part):
            stretches.append((len(stretches) + 1, _strip_leading_punctuation(part)))
    return stretches


def _strip_leading_punctuation(text: str) -> str:
    # "{reference}। कृपया …" leaves "। कृपया …": the danda belongs to the sentence
    # the clips just ended, not to this recording.
    text = text.strip()
    while text and unicodedata.category(text[0]).startswith("P"):
        text = text[1:].lstrip()
    return text


def _has_speech(text: str) -> bool:
    return any(char.isalnum() for char in text)


def _check_values(prompt: Prompt, values: Mapping[str, object]) -> None:
    if values.keys() == prompt.placeholders:
        return  # every prompt spoken checks this: the usual answer costs one comparison
    missing = prompt.placeholders - set(values)
    unexpected = set(values) - prompt.placeholders
    if missing or unexpected:
        raise MissingValueError(
            f"prompt {prompt.key!r} takes {sorted(prompt.placeholders) or 'no values'}; "
            f"missing {sorted(missing)}, unexpected {sorted(unexpected)}"
        )
