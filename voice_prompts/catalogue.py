"""Load the prompt catalogue: every IVR prompt's Hindi and English text.

The catalogue lives in ``catalogue.toml`` beside this module so that wording can be
reviewed and changed without reading code. Loading validates it once (both languages
present, the same placeholders in both, each placeholder declared with its kind), so a
webhook never finds out mid-call that a translation is missing.

Most placeholders are values said during a call from pre-rendered clips. A *term* is
different: a word fixed for the whole deployment (the DISCOM's name for its account
number: "BP number", "K number"), so it is written into the texts before anything is
rendered or said. The catalogue gives each term a generic wording; ``with_terms`` puts in
the deployment's, and the texts (and so the rendered audio and its hashes) change with it.
"""

from __future__ import annotations

import dataclasses
import re
import string
import tomllib
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal, TypeAlias

from voice_prompts.exceptions import CatalogueError, UnknownPromptError
from voice_prompts.languages import LANGUAGES, Language, check_language

PlaceholderKind: TypeAlias = Literal["amount", "date", "digits", "number", "term"]

TERM: PlaceholderKind = "term"
"""The kind of a placeholder filled once per deployment, before rendering, not per call."""

PLACEHOLDER_KINDS: tuple[PlaceholderKind, ...] = ("amount", "date", "digits", "number", TERM)
"""How a placeholder is filled: rupees and paise, a date, digit by digit, a number (all
said per call from clips), or a term (the deployment's word, written into the text)."""

CATALOGUE_FILE = "catalogue.toml"
"""The catalogue shipped with this package."""

_KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Slot:
    """A placeholder inside a prompt text, e.g. ``{amount}``."""

    name: str


TemplatePart: TypeAlias = str | Slot


@dataclass(frozen=True)
class Prompt:
    """One IVR prompt: its key and its text in each language."""

    key: str
    texts: Mapping[Language, str]
    placeholders: frozenset[str]
    """The values a caller of the prompt supplies (terms are already in ``texts``)."""
    bilingual: bool = False
    terms: frozenset[str] = frozenset()
    """The terms the catalogue's texts name, e.g. ``account_term``."""
    sources: Mapping[Language, str] = dataclasses.field(default_factory=dict)
    """The texts as the catalogue writes them, with their terms' placeholders."""

    def text(self, lang: str) -> str:
        """Return the prompt's text template in ``lang`` (both languages if bilingual)."""
        lang = check_language(lang)
        if self.bilingual:
            return " ".join(self.texts[each] for each in LANGUAGES)
        return self.texts[lang]

    def parts(self, lang: str) -> list[TemplatePart]:
        """Split the text in ``lang`` into literal strings and placeholder slots, in order."""
        return list(self.template(lang))

    def template(self, lang: str) -> tuple[TemplatePart, ...]:
        """Return ``parts(lang)`` as a tuple, split once per text and kept."""
        return _split_kept(self.text(lang), self.key)

    @property
    def is_static(self) -> bool:
        """Tell whether the prompt has no placeholders, so one recording says it all."""
        return not self.placeholders


@dataclass(frozen=True)
class Catalogue:
    """Every prompt by key, and the kind of value each placeholder takes."""

    prompts: Mapping[str, Prompt]
    placeholder_kinds: Mapping[str, PlaceholderKind]
    source: str = CATALOGUE_FILE
    terms: Mapping[str, Mapping[Language, str]] = dataclasses.field(default_factory=dict)
    """The words each term stands for in these texts, by language."""

    def __getitem__(self, key: str) -> Prompt:
        try:
            return self.prompts[key]
        except KeyError:
            raise UnknownPromptError(f"no prompt {key!r} in {self.source}") from None

    def __contains__(self, key: object) -> bool:
        return key in self.prompts

    def __iter__(self) -> Iterator[str]:
        return iter(self.prompts)

    def __len__(self) -> int:
        return len(self.prompts)

    def text(self, key: str, lang: str) -> str:
        """Return the text template of prompt ``key`` in ``lang``."""
        return self[key].text(lang)

    def with_terms(self, words: Mapping[str, Mapping[str, str]]) -> Catalogue:
        """Return the catalogue with the deployment's ``words`` for its terms, by language.

        Terms not in ``words`` keep their current wording; a term the catalogue does not
        declare is an error, so a misspelt name cannot leave the generic word in place.
        """
        unknown = set(words) - set(self.terms)
        if unknown:
            raise CatalogueError(
                f"{self.source}: no term {', '.join(sorted(unknown))}; "
                f"its terms are {', '.join(sorted(self.terms)) or 'none'}"
            )
        merged = dict(self.terms)
        for name, by_lang in words.items():
            merged[name] = _term_words(by_lang, f"{self.source}: term {name!r}")
        prompts = {key: _with_terms(prompt, merged) for key, prompt in self.prompts.items()}
        return replace(self, prompts=prompts, terms=merged)

    def kind_of(self, placeholder: str) -> PlaceholderKind:
        """Return how the value of ``placeholder`` is spoken."""
        try:
            return self.placeholder_kinds[placeholder]
        except KeyError:
            raise UnknownPromptError(
                f"no placeholder {placeholder!r} declared in {self.source}"
            ) from None


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Load and validate the catalogue at ``path``, or the one shipped with the package."""
    if path is None:
        return _default_catalogue()
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CatalogueError(f"cannot read prompt catalogue {path}: {error}") from error
    return parse_catalogue(raw, source=str(path))


@cache
def _default_catalogue() -> Catalogue:
    # Cached because webhooks ask on every call and the shipped file does not change
    # while the process runs.
    raw = resources.files("voice_prompts").joinpath(CATALOGUE_FILE).read_text(encoding="utf-8")
    return parse_catalogue(raw, source=CATALOGUE_FILE)


def parse_catalogue(raw: str, source: str = "<string>") -> Catalogue:
    """Parse and validate catalogue TOML text."""
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as error:
        raise CatalogueError(f"{source}: not valid TOML: {error}") from error

    unknown_tables = set(data) - {"placeholders", "terms", "prompts"}
    if unknown_tables:
        raise CatalogueError(f"{source}: unknown tables {sorted(unknown_tables)}")

    kinds = _parse_placeholder_kinds(data.get("placeholders", {}), source)
    terms = _parse_terms(data.get("terms", {}), kinds, source)
    raw_prompts = data.get("prompts")
    if not isinstance(raw_prompts, dict) or not raw_prompts:
        raise CatalogueError(f"{source}: no [prompts.<key>] tables")

    prompts = {
        key: _with_terms(_parse_prompt(key, entry, kinds, source), terms)
        for key, entry in raw_prompts.items()
    }
    return Catalogue(prompts=prompts, placeholder_kinds=kinds, source=source, terms=terms)


def _parse_placeholder_kinds(table: object, source: str) -> dict[str, PlaceholderKind]:
    if not isinstance(table, dict):
        raise CatalogueError(f"{source}: [placeholders] must be a table of name = kind")
    kinds: dict[str, PlaceholderKind] = {}
    for name, kind in table.items():
        if kind not in PLACEHOLDER_KINDS:
            raise CatalogueError(
                f"{source}: placeholder {name!r} has kind {kind!r}; "
                f"expected one of {', '.join(PLACEHOLDER_KINDS)}"
            )
        kinds[name] = kind
    return kinds


def _parse_terms(
    table: object, kinds: Mapping[str, PlaceholderKind], source: str
) -> dict[str, dict[Language, str]]:
    # Every term needs its generic wording here, so that a catalogue is complete on its
    # own (tests, a bare app) and the deployment only ever replaces words.
    if not isinstance(table, dict):
        raise CatalogueError(f"{source}: [terms] must hold a [terms.<name>] table per term")
    declared = {name for name, kind in kinds.items() if kind == TERM}
    for name in table:
        if name not in declared:
            raise CatalogueError(
                f"{source}: [terms.{name}] is not a placeholder of kind {TERM!r} in [placeholders]"
            )
    missing = declared - set(table)
    if missing:
        raise CatalogueError(
            f"{source}: term placeholders {sorted(missing)} have no [terms.<name>] wording"
        )
    return {name: _term_words(table[name], f"{source}: [terms.{name}]") for name in table}


def _term_words(by_lang: object, where: str) -> dict[Language, str]:
    if not isinstance(by_lang, Mapping):
        raise CatalogueError(f"{where}: must give the words in {' and '.join(LANGUAGES)}")
    unknown = set(by_lang) - set(LANGUAGES)
    if unknown:
        raise CatalogueError(f"{where}: unknown languages {sorted(unknown)}")
    words = _texts(by_lang, where, "words")
    for lang, text in words.items():
        if "{" in text or "}" in text:
            raise CatalogueError(f"{where}: {lang!r} words cannot hold braces")
    return words


def _texts(entry: Mapping[str, object], where: str, what: str) -> dict[Language, str]:
    """Return ``entry``'s text in each language, required, in NFC with single spaces."""
    texts: dict[Language, str] = {}
    for lang in LANGUAGES:
        text = entry.get(lang)
        if not isinstance(text, str) or not text.strip():
            raise CatalogueError(f"{where}: missing {lang!r} {what}")
        # NFC so that the same words typed on different keyboards hash the same and
        # the renderer does not re-render a prompt whose text did not really change.
        texts[lang] = unicodedata.normalize("NFC", " ".join(text.split()))
    return texts


def _with_terms(prompt: Prompt, terms: Mapping[str, Mapping[Language, str]]) -> Prompt:
    """Return ``prompt`` with its terms' words written into its texts."""
    if not prompt.terms:
        return prompt
    texts = {
        lang: _fill_terms(prompt.sources[lang], terms, lang, prompt.key) for lang in prompt.sources
    }
    return replace(prompt, texts=texts)


def _fill_terms(
    template: str, terms: Mapping[str, Mapping[Language, str]], lang: Language, key: str
) -> str:
    def escaped(text: str) -> str:
        return text.replace("{", "{{").replace("}", "}}")

    filled = []
    for part in _split_template(template, key):
        if not isinstance(part, Slot):
            filled.append(escaped(part))
        elif part.name in terms:
            filled.append(escaped(terms[part.name][lang]))
        else:
            filled.append(f"{{{part.name}}}")  # a value, said during the call
    return "".join(filled)


def _parse_prompt(
    key: str, entry: object, kinds: Mapping[str, PlaceholderKind], source: str
) -> Prompt:
    where = f"{source}: prompt {key!r}"
    # Keys become file names and URL paths, so keep them to one safe alphabet.
    if not _KEY_PATTERN.fullmatch(key):
        raise CatalogueError(f"{where}: keys are lower-case letters, digits and underscores")
    if not isinstance(entry, dict):
        raise CatalogueError(f"{where}: must be a table with hi and en texts")
    unknown_fields = set(entry) - {*LANGUAGES, "bilingual"}
    if unknown_fields:
        raise CatalogueError(f"{where}: unknown fields {sorted(unknown_fields)}")

    texts = _texts(entry, where, "text")

    placeholders_by_lang = {
        lang: {part.name for part in _split_template(texts[lang], key) if isinstance(part, Slot)}
        for lang in LANGUAGES
    }
    first, *others = LANGUAGES
    for lang in others:
        if placeholders_by_lang[lang] != placeholders_by_lang[first]:
            raise CatalogueError(
                f"{where}: placeholders differ between {first} "
                f"{sorted(placeholders_by_lang[first])} and {lang} "
                f"{sorted(placeholders_by_lang[lang])}"
            )
    named = frozenset(placeholders_by_lang[first])
    undeclared = named - set(kinds)
    if undeclared:
        raise CatalogueError(f"{where}: placeholders {sorted(undeclared)} not in [placeholders]")
    terms = frozenset(name for name in named if kinds[name] == TERM)
    placeholders = named - terms

    bilingual = entry.get("bilingual", False)
    if not isinstance(bilingual, bool):
        raise CatalogueError(f"{where}: bilingual must be true or false")
    if bilingual and placeholders:
        raise CatalogueError(f"{where}: a bilingual prompt cannot have placeholders")
    return Prompt(
        key=key,
        texts=texts,
        placeholders=placeholders,
        bilingual=bilingual,
        terms=terms,
        sources=dict(texts),
    )


@lru_cache(maxsize=4096)
def _split_kept(template: str, key: str) -> tuple[TemplatePart, ...]:
    # Webhooks split the same few templates on every call.
    return tuple(_split_template(template, key))


def _split_template(template: str, key: str) -> list[TemplatePart]:
    parts: list[TemplatePart] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        raise CatalogueError(f"prompt {key!r}: bad placeholder syntax: {error}") from error
    for literal, field, spec, conversion in parsed:
        if literal:
            parts.append(literal)
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            raise CatalogueError(
                f"prompt {key!r}: placeholders are plain names like {{amount}}, not {{{field}}}"
            )
        parts.append(Slot(field))
    return parts
