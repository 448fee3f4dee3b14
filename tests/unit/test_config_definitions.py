import pytest

from curhat.app_config.definitions import CONFIG_KEYS


def test_every_seeded_key_has_indonesian_copy_and_a_valid_default() -> None:
    assert set(CONFIG_KEYS) == {
        "pairing_blast_timeout_seconds",
        "payment_session_timeout_minutes",
        "returning_chat_confirmation_timeout_seconds",
        "extension_default_action_on_timeout",
        "extension_timeout_seconds",
        "max_customers_per_mitra",
        "free_trial_max_duration_minutes",
        "chat_end_warning_seconds",
    }
    for d in CONFIG_KEYS.values():
        assert d.label and d.description
        assert d.parse(d.default) == d.default


@pytest.mark.parametrize(
    ("key", "value", "ok"),
    [
        ("pairing_blast_timeout_seconds", 10, True),
        ("pairing_blast_timeout_seconds", 9, False),
        ("pairing_blast_timeout_seconds", 600, True),
        ("pairing_blast_timeout_seconds", 601, False),
        ("max_customers_per_mitra", "5", True),
        ("max_customers_per_mitra", True, False),
        ("max_customers_per_mitra", 2.5, False),
        ("free_trial_max_duration_minutes", 0, True),
        ("extension_default_action_on_timeout", "auto_reject", True),
        ("extension_default_action_on_timeout", "maybe", False),
        ("extension_default_action_on_timeout", 1, False),
    ],
)
def test_ranges_and_types(key: str, value: object, ok: bool) -> None:
    d = CONFIG_KEYS[key]
    if ok:
        d.parse(value)
    else:
        with pytest.raises(ValueError):
            d.parse(value)
