import pytest
from hypothesis import given
from hypothesis import strategies as st

from curhat.auth.phone import normalise_phone


@pytest.mark.parametrize(
    "raw",
    ["081234567890", "6281234567890", "+6281234567890", "0812-3456-7890", " 0812 3456 7890 ", "81234567890"],
)
def test_indonesian_mobile_forms_normalise_to_e164(raw: str) -> None:
    assert normalise_phone(raw) == "+6281234567890"


@pytest.mark.parametrize("raw", ["", "12345", "0212345678", "+14155552671", "08abc", "+62812"])
def test_non_mobile_numbers_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        normalise_phone(raw)


@given(st.text(max_size=20))
def test_normalised_output_is_always_e164_or_refused(raw: str) -> None:
    try:
        out = normalise_phone(raw)
    except ValueError:
        return
    assert out.startswith("+628") and out[1:].isdigit()
    assert normalise_phone(out) == out
