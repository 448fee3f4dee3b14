"""What operators read: rupiah, bucket labels, chart geometry, filters in the URL."""

from __future__ import annotations

from datetime import date

from starlette.datastructures import QueryParams

from curhat.web.control_center import charts, labels
from curhat.web.control_center.failed_pairings import Filters, parse_filters, safe_back
from curhat.web.control_center.sessions import safe_next


def test_rupiah_uses_dots_and_no_decimals() -> None:
    assert labels.rupiah(15000) == "Rp 15.000"
    assert labels.rupiah(0) == "Rp 0"
    assert labels.rupiah(1_250_000) == "Rp 1.250.000"


def test_bucket_labels() -> None:
    assert labels.bucket_labels((5, 10, 60)) == ["< 5 s", "5 s–10 s", "10 s–1 min", "≥ 1 min"]


def test_bars_scale_to_the_largest_value() -> None:
    chart = charts.columns("t", ["a", "b", "c"], [0, 5, 10])
    heights = [b.height for b in chart.bars]
    assert heights[0] == 0 and heights[2] == 2 * heights[1] > 0
    assert chart.summary == "t: a 0, b 5, c 10" and not chart.empty
    assert charts.rows("r", [("x", 0, "bad")]).empty


def test_filters_round_trip_through_the_url() -> None:
    f = Filters(("no_mitra_available", "customer_cancelled"), date(2025, 3, 1), date(2025, 3, 31), True, 2)
    parsed, errors = parse_filters(QueryParams(f.query()))
    assert parsed == f and errors == []


def test_bad_filter_values_are_reported_not_applied() -> None:
    parsed, errors = parse_filters(
        QueryParams("cause_tags=nope&date_from=2025-03-31&date_to=2025-03-01&page=x")
    )
    assert parsed == Filters() and len(errors) == 2


def test_redirect_targets_stay_inside_the_control_center() -> None:
    assert safe_next("/cc/mitras?page=2") == "/cc/mitras?page=2"
    for bad in ("https://evil.example", "//evil.example", "/internal/config", "/cc\\..", None, ""):
        assert safe_next(bad) == "/cc/dashboard"
    assert safe_back("/cc/failed-pairings?page=3") == "/cc/failed-pairings?page=3"
    assert safe_back("/cc/mitras") == "/cc/failed-pairings"
