"""Find rendered prompt audio, and the order to play it in, for the IVR webhooks.

Every piece of audio is an *item* with a key and a language, stored as
``<directory>/<lang>/<key>.wav``:

- a static prompt is one item under its own key (``hi/menu_main.wav``);
- a prompt with placeholders is cut at its placeholders; each stretch of text between
  them is an item ``<key>.<n>`` numbered from 1 (``hi/bill_amount_due.1.wav``), and the
  values are spoken from clips (``hi/num/20.wav``, see ``voice_prompts.clips``);
- a bilingual prompt is one item per language directory, holding the Hindi text in
  the Hindi voice followed by the English text in the English voice.

``PromptLibrary.playlist()`` gives the files to ``<Play>`` in order, or None when any is
missing or was rendered from an older text; the webhook then falls back to
``<Say language="hi-IN">`` with ``PromptLibrary.say_text()``.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

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
    prompt = catalogue[key]
    _check_values(prompt, values)
    if prompt.is_static:
        return [prompt.key]
    sequence: list[str] = []
    number = 0
    for part in prompt.parts(lang):
        if isinstance(part, Slot):
            kind = catalogue.kind_of(part.name)
            sequence += clips_for_value(kind, values[part.name], lang)
        elif _has_speech(part):
            number += 1
            sequence.append(part_key(prompt.key, number))
    return sequence


def say_text(catalogue: Catalogue, key: str, lang: str, **values: object) -> str:
    """Return prompt ``key`` as text with ``values`` spelled out, for a TTS fallback."""
    lang = check_language(lang)
    prompt = catalogue[key]
    _check_values(prompt, values)
    pieces = []
    for part in prompt.parts(lang):
        if isinstance(part, Slot):
            pieces.append(value_words(catalogue.kind_of(part.name), values[part.name], lang))
        else:
            pieces.append(part)
    return "".join(pieces)


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


class PromptLibrary:
    """The rendered audio in one directory, checked against the current catalogue."""

    def __init__(self, directory: str | Path, catalogue: Catalogue | None = None) -> None:
        self.directory = Path(directory)
        self.catalogue = catalogue if catalogue is not None else load_catalogue()
        self._items: dict[Language, dict[str, AudioItem]] = {}
        self._manifest: Mapping[str, Mapping[str, str]] = {}
        self._manifest_stamp: tuple[int, int, int] | None = None

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

    def has(self, key: str, lang: str) -> bool:
        """Tell whether item ``key`` has audio rendered from its current text."""
        item = self.item(key, lang)
        entry = self._current_manifest().get(item.manifest_key)
        if not entry or entry.get("text") != item.text:
            return False
        return (self.directory / item.relative_path).is_file()

    def version(self, key: str, lang: str) -> str | None:
        """Return a short tag that changes whenever item ``key`` is re-rendered, or None."""
        # Telephony providers cache <Play> media by URL; appending this tag (``?v=…``)
        # makes them fetch a re-rendered prompt instead of replaying the old one.
        if not self.has(key, lang):
            return None
        entry = self._current_manifest()[self.item(key, lang).manifest_key]
        return str(entry.get("sha256", ""))[:12] or None

    def missing(self, lang: str) -> list[str]:
        """Return the keys in ``lang`` with no current audio."""
        return [key for key in self.items(lang) if not self.has(key, lang)]

    def sequence(self, key: str, lang: str, **values: object) -> list[str]:
        """Return the item keys that say prompt ``key`` with ``values``, in play order."""
        return prompt_sequence(self.catalogue, key, lang, **values)

    def playlist(self, key: str, lang: str, **values: object) -> list[str] | None:
        """Return relative audio paths to play for prompt ``key``, or None if any is missing."""
        sequence = self.sequence(key, lang, **values)
        if not all(self.has(item_key, lang) for item_key in sequence):
            return None
        return [self.relative_path(item_key, lang) for item_key in sequence]

    def tracks(self, key: str, lang: str, **values: object) -> list[tuple[str, str]] | None:
        """Return (path, version tag) pairs to play prompt ``key``, or None if any is missing."""
        tracks = []
        manifest = self._current_manifest()
        for item_key in self.sequence(key, lang, **values):
            item = self.item(item_key, lang)
            entry = manifest.get(item.manifest_key)
            if not entry or entry.get("text") != item.text:
                return None
            # The manifest says what was rendered; the file check catches a deleted file.
            if not (self.directory / item.relative_path).is_file():
                return None
            tracks.append((item.relative_path, str(entry.get("sha256", ""))[:12]))
        return tracks

    def say_text(self, key: str, lang: str, **values: object) -> str:
        """Return prompt ``key`` as text with ``values`` in words, for ``<Say>``."""
        return say_text(self.catalogue, key, lang, **values)

    def _current_manifest(self) -> Mapping[str, Mapping[str, str]]:
        # Re-read only when the renderer has replaced the file, so a webhook checking
        # a dozen clips costs one stat, not a dozen JSON parses.
        try:
            stat = (self.directory / MANIFEST_FILE).stat()
            stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = None
        if stamp != self._manifest_stamp:
            self._manifest = read_manifest(self.directory)
            self._manifest_stamp = stamp
        return self._manifest


def _spoken_stretches(prompt: Prompt, lang: Language) -> list[tuple[int, str]]:
    # Stretches that are only punctuation ("." after a placeholder) carry no speech,
    # so they get no recording and no number.
    stretches = []
    for part in prompt.parts(lang):
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
    missing = prompt.placeholders - set(values)
    unexpected = set(values) - prompt.placeholders
    if missing or unexpected:
        raise MissingValueError(
            f"prompt {prompt.key!r} takes {sorted(prompt.placeholders) or 'no values'}; "
            f"missing {sorted(missing)}, unexpected {sorted(unexpected)}"
        )
