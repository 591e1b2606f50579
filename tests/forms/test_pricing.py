"""Pricing a demand note from a schedule of charges, and refusing a malformed schedule.

Expected totals are worked out by hand from TEST_SCHEDULE below (arithmetic in the
comments): every item rounded to the rupee, half up; GST 18 % of the taxable items.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path

import pytest

from forms import DemandItem, load_schedule, price_new_connection
from forms.config import discom_profile
from forms.exceptions import (
    LoadOutOfBandError,
    NoChargeBandError,
    PricingError,
    ScheduleError,
    UnknownCategoryError,
)

TEST_SCHEDULE = """
[schedule]
title_en = "Test schedule"
title_hi = "परीक्षण अनुसूची"
sample = true
gst_percent = 18

[items.security_deposit]
label_hi = "सुरक्षा निधि"
label_en = "Security deposit"
taxable = false

[items.service_line]
label_hi = "सर्विस लाइन शुल्क"
label_en = "Service line charge"
taxable = true

[items.meter]
label_hi = "मीटर की लागत"
label_en = "Meter cost"
taxable = true

[items.processing_fee]
label_hi = "प्रोसेसिंग शुल्क"
label_en = "Processing fee"
taxable = true

[items.gst]
label_hi = "जीएसटी"
label_en = "GST"
taxable = false

[meter_cost]
single = 1000
three = 3000

[processing_fee]
domestic = 75
agricultural = 150

[[bands]]
category = "domestic"
phase = "single"
area_type = "urban"
above_kw = 0
up_to_kw = 2
security_deposit_per_kw = 333
service_line = 500

[[bands]]
category = "domestic"
phase = "single"
area_type = "urban"
above_kw = 2
up_to_kw = 7
security_deposit_per_kw = 410.5
service_line = 750.5

[[bands]]
category = "domestic"
phase = "single"
area_type = "rural"
above_kw = 0
up_to_kw = 7
security_deposit_per_kw = 250
service_line = 300

[[bands]]
category = "domestic"
phase = "three"
area_type = ["urban", "rural"]
above_kw = 0
up_to_kw = 25
security_deposit_per_kw = 500
service_line = 2000

[[bands]]
category = "agricultural"
phase = "three"
area_type = ["urban", "rural"]
above_kw = 0
up_to_kw = 30
security_deposit_flat = 1500
service_line = 2500
"""


@pytest.fixture
def schedule_file(tmp_path: Path) -> Path:
    path = tmp_path / "charges.toml"
    path.write_text(TEST_SCHEDULE, encoding="utf-8")
    return path


def write_schedule(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("category", "phase", "load", "area", "total"),
    [
        # deposit 333 × 1.5 = 499.5 → 500; taxable 500 + 1000 + 75 = 1575; GST 283.5 → 284
        # total 500 + 500 + 1000 + 75 + 284
        ("domestic", "single", "1.5", "urban", 2359),
        # 2 kW is the top of the first band: deposit 666; GST 284 as above
        ("domestic", "single", "2", "urban", 2525),
        # second band: deposit 410.5 × 2.01 = 825.105 → 825; line 750.5 → 751;
        # taxable 751 + 1000 + 75 = 1826; GST 328.68 → 329
        ("domestic", "single", "2.01", "urban", 2980),
        # deposit 410.5 × 7 = 2873.5 → 2874; line 751; GST 329
        ("domestic", "single", "7", "urban", 5029),
        # deposit 750; taxable 300 + 1000 + 75 = 1375; GST 247.5 → 248
        ("domestic", "single", "3", "rural", 2373),
        # deposit 5000; taxable 2000 + 3000 + 75 = 5075; GST 913.5 → 914
        ("domestic", "three", "10", "rural", 10989),
        # 25 kW is the top of the band: deposit 12500; GST 914
        ("domestic", "three", "25", "urban", 18489),
        # flat deposit 1500; taxable 2500 + 3000 + 150 = 5650; GST 1017
        ("agricultural", "three", "12.5", "urban", 8167),
    ],
)
def test_totals_match_the_schedule_worked_by_hand(
    schedule_file, category, phase, load, area, total
):
    note = price_new_connection(category, phase, Decimal(load), area, schedule=schedule_file)

    assert note.total == Decimal(total)
    assert note.total == sum(item.amount for item in note.items)


def test_items_are_listed_with_both_labels_and_whole_rupees(schedule_file):
    note = price_new_connection("domestic", "single", "2.01", "urban", schedule=schedule_file)

    assert note.items == [
        DemandItem("security_deposit", "सुरक्षा निधि", "Security deposit", Decimal("825")),
        DemandItem("service_line", "सर्विस लाइन शुल्क", "Service line charge", Decimal("751")),
        DemandItem("meter", "मीटर की लागत", "Meter cost", Decimal("1000")),
        DemandItem("processing_fee", "प्रोसेसिंग शुल्क", "Processing fee", Decimal("75")),
        DemandItem("gst", "जीएसटी", "GST", Decimal("329")),
    ]
    assert all(item.amount == item.amount.to_integral_value() for item in note.items)


def test_no_gst_line_when_the_rate_is_zero(tmp_path):
    path = write_schedule(tmp_path, TEST_SCHEDULE.replace("gst_percent = 18", "gst_percent = 0"))

    note = price_new_connection("domestic", "single", "3", "rural", schedule=path)

    # 750 + 300 + 1000 + 75
    assert note.total == Decimal("2125")
    assert [item.code for item in note.items] == [
        "security_deposit",
        "service_line",
        "meter",
        "processing_fee",
    ]


def test_record_is_json_safe(schedule_file):
    note = price_new_connection("domestic", "single", 3, "rural", schedule=schedule_file)

    record = note.to_record()

    assert json.loads(json.dumps(record)) == record
    assert record["total"] == "2373"
    assert record["load_kw"] == "3"
    assert record["sample"] is True


@pytest.mark.parametrize(
    ("category", "phase", "load", "area", "total"),
    [
        # 400 × 5 = 2000; line 900; meter 1200; fee 100; GST 18 % of 2200 = 396
        ("domestic", "single", "5", "urban", 4596),
        # flat 1500; line 3000; meter 3800; fee 100; GST 18 % of 6900 = 1242
        ("agricultural", "three", "10", "rural", 9642),
        # 2000 × 25 = 50000; line 10000; meter 3800; fee 500; GST 18 % of 14300 = 2574
        ("industrial", "three", "25", "urban", 66874),
        # 750 × 2.5 = 1875; line 1000; meter 1200; fee 200; GST 18 % of 2400 = 432
        ("non_domestic", "single", "2.5", "rural", 4707),
    ],
)
def test_shipped_sample_schedule_prices_as_its_comments_say(category, phase, load, area, total):
    note = price_new_connection(category, phase, load, area)

    assert note.total == Decimal(total)
    assert note.sample is True


@pytest.mark.parametrize("discom", ["cspdcl", "avvnl", "sbpdcl"])
def test_shipped_schedule_prices_every_load_the_forms_accept(discom):
    profile = discom_profile(discom)
    for rule in profile.categories.values():
        highest = {"single": min(rule.max_kw, profile.three_phase_above_kw), "three": rule.max_kw}
        for phase, high in highest.items():
            for area in ("urban", "rural"):
                # Bands are contiguous, so pricing both ends proves the range between.
                for load in (rule.min_kw, high):
                    assert price_new_connection(rule.code, phase, load, area).total > 0


def test_shipped_schedule_is_marked_as_sample():
    schedule = load_schedule()

    assert schedule.sample is True
    assert "SAMPLE" in schedule.title_en


def test_charges_file_comes_from_app_config(form_app, schedule_file):
    form_app.config["CHARGES_FILE"] = str(schedule_file)

    with form_app.app_context():
        note = price_new_connection("domestic", "single", "3", "rural")

    assert note.total == Decimal("2373")


def test_an_edited_schedule_is_read_again(schedule_file):
    before = price_new_connection("domestic", "single", "3", "rural", schedule=schedule_file)
    schedule_file.write_text(
        TEST_SCHEDULE.replace("single = 1000", "single = 1100"), encoding="utf-8"
    )
    stat = schedule_file.stat()
    os.utime(schedule_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))

    after = price_new_connection("domestic", "single", "3", "rural", schedule=schedule_file)

    # meter 100 more, and 18 % GST on it: 2373 + 100 + 18
    assert after.total - before.total == Decimal("118")


# ---------------------------------------------------------------- what cannot be priced


def test_unknown_category_is_a_named_error(schedule_file):
    with pytest.raises(UnknownCategoryError, match="no charges for category 'industrial'") as e:
        price_new_connection("industrial", "three", "10", "urban", schedule=schedule_file)

    assert e.value.localized("hi") == "श्रेणी 'industrial' के लिए शुल्क अनुसूची में कोई शुल्क नहीं है।"


@pytest.mark.parametrize(("load", "area"), [("7.01", "urban"), ("7.5", "rural"), ("30", "urban")])
def test_load_out_of_band_is_a_named_error(schedule_file, load, area):
    with pytest.raises(LoadOutOfBandError):
        price_new_connection("domestic", "single", load, area, schedule=schedule_file)


def test_load_out_of_band_says_which_loads_are_covered(schedule_file):
    with pytest.raises(LoadOutOfBandError) as caught:
        price_new_connection("domestic", "single", "8", "urban", schedule=schedule_file)

    assert caught.value.localized("en") == (
        "A load of 8 kW is outside the schedule's bands for this connection (above 0 up to 7 kW)."
    )


@pytest.mark.parametrize("load", ["0", "-3", "NaN", "Infinity"])
def test_non_positive_loads_are_out_of_band(schedule_file, load):
    with pytest.raises(LoadOutOfBandError):
        price_new_connection("domestic", "single", load, "urban", schedule=schedule_file)


def test_a_load_that_is_not_a_number_is_a_pricing_error(schedule_file):
    with pytest.raises(PricingError, match="not a number"):
        price_new_connection("domestic", "single", "five", "urban", schedule=schedule_file)


@pytest.mark.parametrize(
    ("category", "phase", "area"),
    [
        ("agricultural", "single", "rural"),
        ("domestic", "two", "urban"),
        ("domestic", "single", "metro"),
    ],
)
def test_connection_kinds_without_bands_are_named_errors(schedule_file, category, phase, area):
    with pytest.raises(NoChargeBandError):
        price_new_connection(category, phase, "3", area, schedule=schedule_file)


# ---------------------------------------------------------------- malformed schedules


@pytest.mark.parametrize(
    ("old", "new", "complaint"),
    [
        ("[schedule]", "[schedule", "not valid TOML"),
        (
            '[items.gst]\nlabel_hi = "जीएसटी"\nlabel_en = "GST"\ntaxable = false',
            "",
            r"\[gst\] is missing",
        ),
        ("service_line = 500", 'service_line = "500"', "'service_line' must be a number"),
        ("three = 3000", "three = -3000", "'three' must be zero or more"),
        ("single = 1000\nthree = 3000", "single = 1000", "missing three"),
        ("above_kw = 2\n", "above_kw = 1.5\n", "overlap"),
        ("above_kw = 2\n", "above_kw = 3\n", "leave a gap"),
        ("up_to_kw = 2\n", "up_to_kw = 0\n", "up_to_kw 0 must exceed above_kw 0"),
        (
            "security_deposit_per_kw = 333",
            "security_deposit_per_kw = 333\nsecurity_deposit_flat = 100",
            "exactly one of",
        ),
        ("security_deposit_per_kw = 333\n", "", "exactly one of"),
        ("service_line = 500", "servce_line = 500", "unknown keys servce_line"),
        (
            'phase = "single"\narea_type = "rural"',
            'phase = "two"\narea_type = "rural"',
            "'phase' must be one of single, three",
        ),
        ("agricultural = 150", "", "category 'agricultural' has no \\[processing_fee\\]"),
        ("gst_percent = 18", "gst_percent = 118", "gst_percent 118 is above 100"),
        ("sample = true\n", "", "'sample' must be true or false"),
        (
            'label_en = "GST"\ntaxable = false',
            'label_en = "GST"\ntaxable = true',
            "GST cannot be taxed itself",
        ),
        ("[[bands]]", "[[band]]", "unknown keys band"),
    ],
)
def test_malformed_schedule_fails_loudly_at_load(tmp_path, old, new, complaint):
    assert old in TEST_SCHEDULE
    path = write_schedule(tmp_path, TEST_SCHEDULE.replace(old, new, 1))

    with pytest.raises(ScheduleError, match=complaint):
        load_schedule(path)


def test_missing_schedule_file_is_a_schedule_error(tmp_path):
    with pytest.raises(ScheduleError, match="cannot read"):
        load_schedule(tmp_path / "nowhere.toml")


def test_malformed_configured_schedule_fails_when_pricing(form_app, tmp_path):
    form_app.config["CHARGES_FILE"] = str(write_schedule(tmp_path, "[schedule]\n"))

    with form_app.app_context(), pytest.raises(ScheduleError):
        price_new_connection("domestic", "single", "3", "rural")
