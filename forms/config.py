"""Configuration the forms read: DISCOM profiles, district lists and identity documents.

What differs from one DISCOM to the next lives in TOML files, not in code:

- ``forms/discoms.toml``: per DISCOM, the account-number format, consumer categories with
  their load bounds, the load above which three-phase supply is required, PIN-code
  prefixes of the state;
- ``forms/districts.toml``: per DISCOM, the districts it serves;
- ``forms/documents.toml``: identity documents accepted, with the format of each number.

App config keys (all optional): ``DISCOM`` picks the profile (default :data:`DEFAULT_DISCOM`);
``DISCOMS_FILE``, ``DISTRICTS_FILE`` and ``IDENTITY_DOCUMENTS_FILE`` point at replacement
files; ``DISTRICTS`` replaces the district list outright (a list of names, or of tables with
``en`` and ``hi``). Files are read when first needed and re-read when they change on disk.
"""

from __future__ import annotations

import functools
import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from flask import current_app, has_app_context

from forms.exceptions import ConfigurationError

PACKAGE_DIR = Path(__file__).parent

DEFAULT_DISCOM = "cspdcl"
"""Profile used when ``DISCOM`` is not configured: CSPDCL runs the missed-call service."""

DISCOM_CONFIG_KEY = "DISCOM"
DISCOMS_FILE_CONFIG_KEY = "DISCOMS_FILE"
DISTRICTS_CONFIG_KEY = "DISTRICTS"
DISTRICTS_FILE_CONFIG_KEY = "DISTRICTS_FILE"
IDENTITY_DOCUMENTS_FILE_CONFIG_KEY = "IDENTITY_DOCUMENTS_FILE"

DEFAULT_DISCOMS_FILE = PACKAGE_DIR / "discoms.toml"
DEFAULT_DISTRICTS_FILE = PACKAGE_DIR / "districts.toml"
DEFAULT_IDENTITY_DOCUMENTS_FILE = PACKAGE_DIR / "documents.toml"

AADHAAR = "aadhaar"
"""Code of the Aadhaar document: validated by python-stdnum, stored only masked."""

T = TypeVar("T")


@dataclass(frozen=True)
class AccountNumberFormat:
    """How a DISCOM's consumer account number looks (Rajasthan K number, CSPDCL BP number)."""

    name_hi: str
    name_en: str
    pattern: re.Pattern[str]
    length: int
    hint_hi: str
    hint_en: str
    spoken_hi: str = ""
    spoken_en: str = ""
    """The name as the IVR says it, where the written one does not speak well ("(CA)")."""

    def name(self, lang: str) -> str:
        """Return the number's name in ``lang``."""
        return self.name_hi if lang == "hi" else self.name_en

    def spoken(self, lang: str) -> str:
        """Return the number's name as the IVR says it in ``lang`` ("बीपी नंबर", "K number")."""
        spoken = self.spoken_hi if lang == "hi" else self.spoken_en
        return spoken or self.name(lang)

    def hint(self, lang: str) -> str:
        """Return a short description of the format in ``lang``."""
        return self.hint_hi if lang == "hi" else self.hint_en

    def normalise(self, text: str) -> str:
        """Return ``text`` without the spaces people type between groups of digits."""
        return "".join(text.split())

    def is_valid(self, text: str) -> bool:
        """Tell whether normalised ``text`` has the configured length and pattern."""
        number = self.normalise(text)
        return len(number) == self.length and self.pattern.fullmatch(number) is not None


@dataclass(frozen=True)
class CategoryRule:
    """A consumer category and the connected loads it may have, in kW, bounds included."""

    code: str
    label_hi: str
    label_en: str
    min_kw: Decimal
    max_kw: Decimal

    def label(self, lang: str) -> str:
        """Return the category's name in ``lang``."""
        return self.label_hi if lang == "hi" else self.label_en


@dataclass(frozen=True)
class DiscomProfile:
    """What the forms need to know about one DISCOM."""

    code: str
    name_hi: str
    name_en: str
    state_hi: str
    state_en: str
    account_number: AccountNumberFormat
    categories: Mapping[str, CategoryRule]
    three_phase_above_kw: Decimal
    pin_prefixes: tuple[str, ...]
    temporary_disconnection_max_months: int

    def state(self, lang: str) -> str:
        """Return the state's name in ``lang``."""
        return self.state_hi if lang == "hi" else self.state_en


@dataclass(frozen=True)
class District:
    """A district a DISCOM serves; ``value`` (the English name) is what forms store."""

    value: str
    label_hi: str
    label_en: str

    def label(self, lang: str) -> str:
        """Return the district's name in ``lang``."""
        return self.label_hi if lang == "hi" else self.label_en


@dataclass(frozen=True)
class IdentityDocument:
    """An accepted identity document; ``pattern`` is None for Aadhaar (checked by stdnum)."""

    code: str
    label_hi: str
    label_en: str
    pattern: re.Pattern[str] | None
    hint_hi: str
    hint_en: str

    def label(self, lang: str) -> str:
        """Return the document's name in ``lang``."""
        return self.label_hi if lang == "hi" else self.label_en

    def hint(self, lang: str) -> str:
        """Return a short description of the number's format in ``lang``."""
        return self.hint_hi if lang == "hi" else self.hint_en


# ---------------------------------------------------------------- public look-ups


def config_value(key: str, default: Any = None) -> Any:
    """Return app config ``key`` when an app is active, else ``default``."""
    if has_app_context():
        return current_app.config.get(key, default)
    return default


def discom_profile(discom: str | None = None) -> DiscomProfile:
    """Return the profile of ``discom``, or of the configured DISCOM."""
    code = discom or config_value(DISCOM_CONFIG_KEY) or DEFAULT_DISCOM
    path = _configured_path(DISCOMS_FILE_CONFIG_KEY, DEFAULT_DISCOMS_FILE)
    profiles = load_cached(path, parse_discoms)
    if code not in profiles:
        raise ConfigurationError(
            f"{path}: no DISCOM profile {code!r}; known: {', '.join(profiles)}"
        )
    return profiles[code]


def districts(discom: str | None = None) -> tuple[District, ...]:
    """Return the districts of ``discom`` (or the configured one), config ``DISTRICTS`` first."""
    configured = config_value(DISTRICTS_CONFIG_KEY)
    if configured is not None:
        return parse_district_list(configured, where=f"config {DISTRICTS_CONFIG_KEY}")
    code = discom or config_value(DISCOM_CONFIG_KEY) or DEFAULT_DISCOM
    path = _configured_path(DISTRICTS_FILE_CONFIG_KEY, DEFAULT_DISTRICTS_FILE)
    by_discom = load_cached(path, parse_districts_file)
    if code not in by_discom:
        raise ConfigurationError(f"{path}: no district list for DISCOM {code!r}")
    return by_discom[code]


def identity_documents() -> Mapping[str, IdentityDocument]:
    """Return the accepted identity documents by code, in the order the file lists them."""
    path = _configured_path(IDENTITY_DOCUMENTS_FILE_CONFIG_KEY, DEFAULT_IDENTITY_DOCUMENTS_FILE)
    return load_cached(path, parse_identity_documents)


def load_toml(
    path: str | os.PathLike[str], error: type[ConfigurationError] = ConfigurationError
) -> dict[str, Any]:
    """Read a TOML file, decimals as Decimal; a missing or broken file raises ``error``."""
    try:
        with open(path, "rb") as file:
            return tomllib.load(file, parse_float=Decimal)
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path} is not valid TOML: {exc}") from exc


def load_cached(
    path: str | os.PathLike[str],
    parser: Callable[[Mapping[str, Any], str], T],
    error: type[ConfigurationError] = ConfigurationError,
) -> T:
    """Return ``parser``'s result for the TOML file, parsing it again only when it changes."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror or exc}") from exc
    # The modification time is part of the key so an edited file is picked up without a
    # restart, while an unchanged one is parsed and checked only once.
    return _parse_file(str(path.resolve()), stat.st_mtime_ns, stat.st_size, parser, error)


# ---------------------------------------------------------------- parsers


def parse_discoms(tree: Mapping[str, Any], source: str) -> dict[str, DiscomProfile]:
    """Check and convert the DISCOM profiles of a parsed ``discoms.toml``."""
    if not tree:
        raise ConfigurationError(f"{source}: no DISCOM profiles")
    return {
        code: _parse_profile(code, table, f"{source}: [{code}]")
        for code, table in _tables(tree, source)
    }


def parse_districts_file(tree: Mapping[str, Any], source: str) -> dict[str, tuple[District, ...]]:
    """Check and convert the district lists of a parsed ``districts.toml``."""
    result = {}
    for code, table in _tables(tree, source):
        where = f"{source}: [{code}]"
        _reject_unknown_keys(table, {"state_en", "state_hi", "note", "districts"}, where)
        result[code] = parse_district_list(table.get("districts"), where=f"{where}.districts")
    return result


def parse_district_list(items: Any, where: str) -> tuple[District, ...]:
    """Check a district list: names, or tables with ``en`` and ``hi``; no duplicates."""
    if not isinstance(items, Sequence) or isinstance(items, str) or not items:
        raise ConfigurationError(f"{where}: must be a non-empty list of districts")
    result: list[District] = []
    for index, item in enumerate(items):
        if isinstance(item, str) and item.strip():
            district = District(item.strip(), item.strip(), item.strip())
        elif isinstance(item, Mapping):
            _reject_unknown_keys(item, {"en", "hi"}, f"{where}[{index}]")
            name_en = _text(item, "en", f"{where}[{index}]")
            district = District(name_en, _text(item, "hi", f"{where}[{index}]"), name_en)
        else:
            raise ConfigurationError(f"{where}[{index}]: must be a name or a table en/hi")
        result.append(district)
    values = [district.value for district in result]
    duplicates = sorted({value for value in values if values.count(value) > 1})
    if duplicates:
        raise ConfigurationError(f"{where}: districts listed twice: {', '.join(duplicates)}")
    return tuple(result)


def parse_identity_documents(tree: Mapping[str, Any], source: str) -> dict[str, IdentityDocument]:
    """Check and convert the identity documents of a parsed ``documents.toml``."""
    documents = {}
    for code, table in _tables(tree, source):
        where = f"{source}: [{code}]"
        _reject_unknown_keys(
            table, {"label_hi", "label_en", "pattern", "hint_hi", "hint_en"}, where
        )
        if code == AADHAAR:
            # Aadhaar's rule (12 digits, Verhoeff check) is the law's, not a setting.
            if "pattern" in table:
                raise ConfigurationError(f"{where}: Aadhaar is checked by stdnum; no pattern")
            pattern = None
        else:
            pattern = _regex(table, "pattern", where)
        documents[code] = IdentityDocument(
            code=code,
            label_hi=_text(table, "label_hi", where),
            label_en=_text(table, "label_en", where),
            pattern=pattern,
            hint_hi=_text(table, "hint_hi", where),
            hint_en=_text(table, "hint_en", where),
        )
    if AADHAAR not in documents:
        raise ConfigurationError(f"{source}: the [{AADHAAR}] document must be listed")
    return documents


def _parse_profile(code: str, table: Mapping[str, Any], where: str) -> DiscomProfile:
    _reject_unknown_keys(
        table,
        {
            "name_hi",
            "name_en",
            "state_hi",
            "state_en",
            "account_number",
            "categories",
            "three_phase_above_kw",
            "pin_prefixes",
            "temporary_disconnection_max_months",
        },
        where,
    )
    account = _table(table, "account_number", where)
    account_where = f"{where}.account_number"
    _reject_unknown_keys(
        account,
        {"name_hi", "name_en", "spoken_hi", "spoken_en", "pattern", "length", "hint_hi", "hint_en"},
        account_where,
    )
    account_format = AccountNumberFormat(
        name_hi=_text(account, "name_hi", account_where),
        name_en=_text(account, "name_en", account_where),
        pattern=_regex(account, "pattern", account_where),
        length=_positive_int(account, "length", account_where),
        hint_hi=_text(account, "hint_hi", account_where),
        hint_en=_text(account, "hint_en", account_where),
        spoken_hi=_spoken(account, "spoken_hi", account_where),
        spoken_en=_spoken(account, "spoken_en", account_where),
    )
    categories = {}
    for category_code, rule in _tables(_table(table, "categories", where), where):
        rule_where = f"{where}.categories.{category_code}"
        _reject_unknown_keys(rule, {"label_hi", "label_en", "min_kw", "max_kw"}, rule_where)
        min_kw = _positive_decimal(rule, "min_kw", rule_where)
        max_kw = _positive_decimal(rule, "max_kw", rule_where)
        if min_kw > max_kw:
            raise ConfigurationError(f"{rule_where}: min_kw {min_kw} exceeds max_kw {max_kw}")
        categories[category_code] = CategoryRule(
            code=category_code,
            label_hi=_text(rule, "label_hi", rule_where),
            label_en=_text(rule, "label_en", rule_where),
            min_kw=min_kw,
            max_kw=max_kw,
        )
    if not categories:
        raise ConfigurationError(f"{where}.categories: no categories")
    pin_prefixes = table.get("pin_prefixes", [])
    if not isinstance(pin_prefixes, list) or not all(
        isinstance(prefix, str) and prefix.isdigit() and prefix[0] != "0" and len(prefix) < 6
        for prefix in pin_prefixes
    ):
        raise ConfigurationError(
            f"{where}.pin_prefixes: must be a list of 1-5 digit strings not starting with 0"
        )
    return DiscomProfile(
        code=code,
        name_hi=_text(table, "name_hi", where),
        name_en=_text(table, "name_en", where),
        state_hi=_text(table, "state_hi", where),
        state_en=_text(table, "state_en", where),
        account_number=account_format,
        categories=categories,
        three_phase_above_kw=_positive_decimal(table, "three_phase_above_kw", where),
        pin_prefixes=tuple(pin_prefixes),
        temporary_disconnection_max_months=_positive_int(
            table, "temporary_disconnection_max_months", where
        ),
    )


# ---------------------------------------------------------------- helpers


def _configured_path(key: str, default: Path) -> Path:
    configured = config_value(key)
    return Path(configured) if configured else default


@functools.lru_cache(maxsize=64)
def _parse_file(
    path: str,
    mtime_ns: int,
    size: int,
    parser: Callable[[Mapping[str, Any], str], T],
    error: type[ConfigurationError],
) -> T:
    return parser(load_toml(path, error), path)


def _tables(tree: Mapping[str, Any], where: str) -> list[tuple[str, Mapping[str, Any]]]:
    for key, value in tree.items():
        if not isinstance(value, Mapping):
            raise ConfigurationError(f"{where}: {key!r} must be a table")
    return list(tree.items())


def _table(table: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = table.get(key)
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"{where}: {key!r} must be a table")
    return value


def _reject_unknown_keys(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    # A misspelt key would otherwise be ignored silently and its default used instead.
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigurationError(f"{where}: unknown keys {', '.join(unknown)}")


def _text(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{where}: {key!r} must be a non-empty string")
    return value.strip()


def _spoken(table: Mapping[str, Any], key: str, where: str) -> str:
    # Optional; when given, words only: the IVR's prompts are rendered with it in.
    if key not in table:
        return ""
    value = _text(table, key, where)
    if any(char in value for char in "{}()[]"):
        raise ConfigurationError(f"{where}: {key!r} is said aloud: words only, no brackets")
    return value


def _regex(table: Mapping[str, Any], key: str, where: str) -> re.Pattern[str]:
    source = _text(table, key, where)
    try:
        return re.compile(source)
    except re.error as exc:
        raise ConfigurationError(f"{where}: {key!r} is not a regular expression: {exc}") from exc


def _positive_int(table: Mapping[str, Any], key: str, where: str) -> int:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigurationError(f"{where}: {key!r} must be a positive whole number")
    return value


def _positive_decimal(table: Mapping[str, Any], key: str, where: str) -> Decimal:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ConfigurationError(f"{where}: {key!r} must be a number")
    number = Decimal(value)
    if not number.is_finite() or number <= 0:
        raise ConfigurationError(f"{where}: {key!r} must be a positive number")
    return number
