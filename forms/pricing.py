"""The demand note: what a consumer pays before a new connection is released.

Charges come from a schedule in TOML (``forms/charges.toml``, SAMPLE values; replace it
with ``app.config["CHARGES_FILE"]``). The schedule is checked in full when it is loaded, so a
malformed file fails at once with ScheduleError rather than mispricing one application.

Amounts are in rupees. Each item is rounded to the whole rupee, half up, and the total is
the sum of the rounded items.
"""

from __future__ import annotations

import itertools
import os
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NamedTuple

from forms.codes import AREA_TYPES, SUPPLY_PHASES
from forms.config import config_value, load_cached
from forms.exceptions import (
    LoadOutOfBandError,
    NoChargeBandError,
    PricingError,
    ScheduleError,
    UnknownCategoryError,
)

CHARGES_FILE_CONFIG_KEY = "CHARGES_FILE"
"""App config key pointing at the schedule of charges to use."""

DEFAULT_CHARGES_FILE = Path(__file__).with_name("charges.toml")
"""The SAMPLE schedule shipped with the package."""

RUPEE = Decimal("1")
"""Amounts are rounded to this unit: consumers pay whole rupees at counters and kiosks."""

ROUNDING = ROUND_HALF_UP
"""Half a rupee rounds up, as on bills."""

SECURITY_DEPOSIT = "security_deposit"
SERVICE_LINE = "service_line"
METER = "meter"
PROCESSING_FEE = "processing_fee"
GST = "gst"
ITEM_CODES: tuple[str, ...] = (SECURITY_DEPOSIT, SERVICE_LINE, METER, PROCESSING_FEE, GST)
"""Lines of a demand note, in the order they are shown."""

PER_KW_DEPOSIT = "security_deposit_per_kw"
FLAT_DEPOSIT = "security_deposit_flat"

HUNDRED = Decimal(100)


class DemandItem(NamedTuple):
    """One line of a demand note."""

    code: str
    label_hi: str
    label_en: str
    amount: Decimal


@dataclass(frozen=True)
class DemandNote:
    """The priced demand note of a new connection."""

    category: str
    phase: str
    area_type: str
    load_kw: Decimal
    items: list[DemandItem]
    total: Decimal
    sample: bool
    """True when priced from a schedule marked as sample values."""

    def to_record(self) -> dict[str, Any]:
        """Return the note as a JSON-safe dict; amounts as strings of whole rupees."""
        return {
            "category": self.category,
            "phase": self.phase,
            "area_type": self.area_type,
            "load_kw": str(self.load_kw),
            "items": [
                {
                    "code": item.code,
                    "label_hi": item.label_hi,
                    "label_en": item.label_en,
                    "amount": str(item.amount),
                }
                for item in self.items
            ],
            "total": str(self.total),
            "sample": self.sample,
        }


@dataclass(frozen=True)
class ItemLabel:
    """How a line of the demand note is named, and whether GST applies to it."""

    label_hi: str
    label_en: str
    taxable: bool


@dataclass(frozen=True)
class ChargeBand:
    """Charges for loads above ``above_kw`` up to ``up_to_kw`` of one kind of connection."""

    category: str
    phase: str
    area_type: str
    above_kw: Decimal
    up_to_kw: Decimal
    security_deposit_per_kw: Decimal | None
    security_deposit_flat: Decimal | None
    service_line: Decimal

    def covers(self, load_kw: Decimal) -> bool:
        """Tell whether ``load_kw`` falls in this band."""
        return self.above_kw < load_kw <= self.up_to_kw

    def security_deposit(self, load_kw: Decimal) -> Decimal:
        """Return the deposit for ``load_kw``: per kW or flat."""
        if self.security_deposit_per_kw is not None:
            return self.security_deposit_per_kw * load_kw
        assert self.security_deposit_flat is not None  # the loader requires one of the two
        return self.security_deposit_flat


@dataclass(frozen=True)
class ChargeSchedule:
    """A checked schedule of charges."""

    source: str
    title_hi: str
    title_en: str
    sample: bool
    gst_percent: Decimal
    items: Mapping[str, ItemLabel]
    meter_cost: Mapping[str, Decimal]
    processing_fee: Mapping[str, Decimal]
    bands: tuple[ChargeBand, ...]

    @property
    def categories(self) -> frozenset[str]:
        """Return the categories the schedule prices."""
        return frozenset(self.processing_fee)

    def bands_for(self, category: str, phase: str, area_type: str) -> list[ChargeBand]:
        """Return the bands of one kind of connection, lowest load first."""
        return sorted(
            (
                band
                for band in self.bands
                if (band.category, band.phase, band.area_type) == (category, phase, area_type)
            ),
            key=lambda band: band.above_kw,
        )


# ---------------------------------------------------------------- pricing


def price_new_connection(
    category: str,
    phase: str,
    load_kw: Decimal | int | str,
    area_type: str,
    schedule: ChargeSchedule | str | os.PathLike[str] | None = None,
) -> DemandNote:
    """Price the demand note of a new connection.

    ``schedule`` is a loaded schedule, a path to one, or None for the configured one.
    Raises UnknownCategoryError, NoChargeBandError or LoadOutOfBandError (all PricingError).
    """
    if not isinstance(schedule, ChargeSchedule):
        schedule = load_schedule(schedule)
    load = _load_as_decimal(load_kw)
    if category not in schedule.categories:
        raise UnknownCategoryError(
            f"{schedule.source} has no charges for category {category!r}; "
            f"known: {', '.join(sorted(schedule.categories))}",
            msg_id="pricing.unknown_category",
            category=category,
        )
    bands = schedule.bands_for(category, phase, area_type)
    if not bands:
        raise NoChargeBandError(
            f"{schedule.source} has no bands for {category} {phase}-phase {area_type}",
            msg_id="pricing.no_band",
            category=category,
            phase=phase,
            area_type=area_type,
        )
    band = next((band for band in bands if band.covers(load)), None)
    if band is None:
        # Bands of one connection kind are contiguous (checked at load), so their union is
        # one range and worth telling the operator.
        low, high = bands[0].above_kw, bands[-1].up_to_kw
        raise LoadOutOfBandError(
            f"{load} kW is outside the bands for {category} {phase}-phase {area_type} "
            f"(above {low} up to {high} kW)",
            msg_id="pricing.load_out_of_band",
            load=_plain(load),
            low=_plain(low),
            high=_plain(high),
        )
    amounts = {
        SECURITY_DEPOSIT: band.security_deposit(load),
        SERVICE_LINE: band.service_line,
        METER: schedule.meter_cost[phase],
        PROCESSING_FEE: schedule.processing_fee[category],
    }
    rounded = {code: _to_rupee(amount) for code, amount in amounts.items()}
    if schedule.gst_percent:
        taxable = sum(
            (amount for code, amount in rounded.items() if schedule.items[code].taxable),
            start=Decimal(0),
        )
        rounded[GST] = _to_rupee(taxable * schedule.gst_percent / HUNDRED)
    items = [
        DemandItem(code, schedule.items[code].label_hi, schedule.items[code].label_en, amount)
        for code, amount in rounded.items()
    ]
    return DemandNote(
        category=category,
        phase=phase,
        area_type=area_type,
        load_kw=load,
        items=items,
        total=sum((item.amount for item in items), start=Decimal(0)),
        sample=schedule.sample,
    )


def _to_rupee(amount: Decimal) -> Decimal:
    return amount.quantize(RUPEE, rounding=ROUNDING)


def _plain(number: Decimal) -> str:
    return f"{number.normalize():f}"


def _load_as_decimal(load_kw: Decimal | int | str) -> Decimal:
    try:
        # str() first so a float such as 7.1 means 7.1, not its binary approximation.
        load = Decimal(str(load_kw).strip())
    except (InvalidOperation, ValueError) as exc:
        raise PricingError(
            f"load {load_kw!r} is not a number", msg_id="pricing.load_invalid", load=load_kw
        ) from exc
    if not load.is_finite() or load <= 0:
        raise LoadOutOfBandError(
            f"load {load_kw!r} is not a positive number",
            msg_id="pricing.load_invalid",
            load=load_kw,
        )
    return load


# ---------------------------------------------------------------- loading the schedule


def load_schedule(path: str | os.PathLike[str] | None = None) -> ChargeSchedule:
    """Load and check a schedule: ``path``, else config ``CHARGES_FILE``, else the sample."""
    if path is None:
        path = config_value(CHARGES_FILE_CONFIG_KEY) or DEFAULT_CHARGES_FILE
    return load_cached(path, parse_schedule, error=ScheduleError)


def parse_schedule(tree: Mapping[str, Any], source: str) -> ChargeSchedule:
    """Check a parsed schedule in full and convert it; any fault raises ScheduleError."""
    _only_keys(tree, {"schedule", "items", "meter_cost", "processing_fee", "bands"}, source)
    header = _table(tree, "schedule", source)
    header_where = f"{source}: [schedule]"
    _only_keys(header, {"title_hi", "title_en", "sample", "gst_percent"}, header_where)
    gst_percent = _amount(header, "gst_percent", header_where)
    if gst_percent > HUNDRED:
        raise ScheduleError(f"{header_where}: gst_percent {gst_percent} is above 100")
    sample = header.get("sample")
    if not isinstance(sample, bool):
        raise ScheduleError(f"{header_where}: 'sample' must be true or false")

    items = _parse_items(_table(tree, "items", source), f"{source}: [items]")
    meter_cost = _amounts_by_code(
        _table(tree, "meter_cost", source),
        SUPPLY_PHASES,
        f"{source}: [meter_cost]",
        require_all=True,
    )
    processing_fee = _amounts_by_code(
        _table(tree, "processing_fee", source),
        None,
        f"{source}: [processing_fee]",
        require_all=False,
    )
    if not processing_fee:
        raise ScheduleError(f"{source}: [processing_fee] lists no category")

    raw_bands = tree.get("bands")
    if not isinstance(raw_bands, list) or not raw_bands:
        raise ScheduleError(f"{source}: no [[bands]]")
    bands: list[ChargeBand] = []
    for index, raw_band in enumerate(raw_bands):
        bands.extend(_parse_band(raw_band, f"{source}: bands[{index}]", processing_fee))
    _check_contiguous(bands, source)
    return ChargeSchedule(
        source=source,
        title_hi=_text(header, "title_hi", header_where),
        title_en=_text(header, "title_en", header_where),
        sample=sample,
        gst_percent=gst_percent,
        items=items,
        meter_cost=meter_cost,
        processing_fee=processing_fee,
        bands=tuple(bands),
    )


def _parse_items(table: Mapping[str, Any], where: str) -> dict[str, ItemLabel]:
    _only_keys(table, set(ITEM_CODES), where)
    items = {}
    for code in ITEM_CODES:
        item = _table(table, code, where)
        item_where = f"{where}.{code}"
        _only_keys(item, {"label_hi", "label_en", "taxable"}, item_where)
        taxable = item.get("taxable")
        if not isinstance(taxable, bool):
            raise ScheduleError(f"{item_where}: 'taxable' must be true or false")
        if taxable and code == GST:
            raise ScheduleError(f"{item_where}: GST cannot be taxed itself")
        items[code] = ItemLabel(
            _text(item, "label_hi", item_where), _text(item, "label_en", item_where), taxable
        )
    return items


def _amounts_by_code(
    table: Mapping[str, Any], codes: Sequence[str] | None, where: str, require_all: bool
) -> dict[str, Decimal]:
    if codes is not None:
        _only_keys(table, set(codes), where)
        if require_all:
            missing = [code for code in codes if code not in table]
            if missing:
                raise ScheduleError(f"{where}: missing {', '.join(missing)}")
    return {code: _amount(table, code, where) for code in table}


def _parse_band(raw: Any, where: str, processing_fee: Mapping[str, Decimal]) -> list[ChargeBand]:
    if not isinstance(raw, Mapping):
        raise ScheduleError(f"{where}: must be a table")
    _only_keys(
        raw,
        {
            "category",
            "phase",
            "area_type",
            "above_kw",
            "up_to_kw",
            PER_KW_DEPOSIT,
            FLAT_DEPOSIT,
            "service_line",
        },
        where,
    )
    category = _text(raw, "category", where)
    if category not in processing_fee:
        raise ScheduleError(f"{where}: category {category!r} has no [processing_fee]")
    phases = _codes(raw, "phase", SUPPLY_PHASES, where)
    area_types = _codes(raw, "area_type", AREA_TYPES, where)
    above_kw = _amount(raw, "above_kw", where)
    up_to_kw = _amount(raw, "up_to_kw", where)
    if up_to_kw <= above_kw:
        raise ScheduleError(f"{where}: up_to_kw {up_to_kw} must exceed above_kw {above_kw}")
    deposit_keys = [key for key in (PER_KW_DEPOSIT, FLAT_DEPOSIT) if key in raw]
    if len(deposit_keys) != 1:
        raise ScheduleError(f"{where}: give exactly one of {PER_KW_DEPOSIT}, {FLAT_DEPOSIT}")
    per_kw = _amount(raw, PER_KW_DEPOSIT, where) if PER_KW_DEPOSIT in raw else None
    flat = _amount(raw, FLAT_DEPOSIT, where) if FLAT_DEPOSIT in raw else None
    service_line = _amount(raw, "service_line", where)
    return [
        ChargeBand(category, phase, area_type, above_kw, up_to_kw, per_kw, flat, service_line)
        for phase in phases
        for area_type in area_types
    ]


def _check_contiguous(bands: Sequence[ChargeBand], source: str) -> None:
    by_kind: dict[tuple[str, str, str], list[ChargeBand]] = defaultdict(list)
    for band in bands:
        by_kind[(band.category, band.phase, band.area_type)].append(band)
    for (category, phase, area_type), kind_bands in by_kind.items():
        ordered = sorted(kind_bands, key=lambda band: band.above_kw)
        for lower, upper in itertools.pairwise(ordered):
            if upper.above_kw != lower.up_to_kw:
                problem = "overlap" if upper.above_kw < lower.up_to_kw else "leave a gap"
                raise ScheduleError(
                    f"{source}: bands for {category} {phase}-phase {area_type} {problem}: "
                    f"up to {lower.up_to_kw} kW, then above {upper.above_kw} kW"
                )


def _only_keys(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        # A misspelt key would otherwise drop a charge from every demand note silently.
        raise ScheduleError(f"{where}: unknown keys {', '.join(unknown)}")


def _table(table: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = table.get(key)
    if not isinstance(value, Mapping):
        raise ScheduleError(f"{where}: [{key}] is missing or not a table")
    return value


def _text(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ScheduleError(f"{where}: {key!r} must be a non-empty string")
    return value


def _amount(table: Mapping[str, Any], key: str, where: str) -> Decimal:
    value = table.get(key)
    # Strings are refused: "1,200" or "₹1200" would otherwise fail later, or worse, parse.
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise ScheduleError(f"{where}: {key!r} must be a number, not {value!r}")
    amount = Decimal(value)
    if not amount.is_finite() or amount < 0:
        raise ScheduleError(f"{where}: {key!r} must be zero or more, not {value!r}")
    return amount


def _codes(table: Mapping[str, Any], key: str, allowed: Sequence[str], where: str) -> list[str]:
    value = table.get(key)
    codes = [value] if isinstance(value, str) else value
    if not isinstance(codes, list) or not codes or any(code not in allowed for code in codes):
        raise ScheduleError(
            f"{where}: {key!r} must be one of {', '.join(allowed)} or a list of them, not {value!r}"
        )
    if len(set(codes)) != len(codes):
        raise ScheduleError(f"{where}: {key!r} lists a code twice")
    return codes
