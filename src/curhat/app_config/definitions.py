"""Every config key: type, range, default, and the control center's Indonesian copy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ConfigValue = int | str


@dataclass(frozen=True)
class ConfigKey:
    key: str
    type: Literal["int", "enum"]
    default: ConfigValue
    label: str
    description: str
    min: int | None = None
    max: int | None = None
    choices: tuple[str, ...] | None = None

    def parse(self, raw: object) -> ConfigValue:
        """Validate a value from the database or the API; raises ValueError with a reason."""
        if self.type == "int":
            if isinstance(raw, bool):
                raise ValueError("harus berupa bilangan bulat")
            if isinstance(raw, str):
                try:
                    raw = int(raw.strip())
                except ValueError:
                    raise ValueError("harus berupa bilangan bulat") from None
            if not isinstance(raw, int):
                raise ValueError("harus berupa bilangan bulat")
            assert self.min is not None and self.max is not None
            if not self.min <= raw <= self.max:
                raise ValueError(f"harus antara {self.min} dan {self.max}")
            return raw
        if not isinstance(raw, str) or raw not in (self.choices or ()):
            raise ValueError(f"harus salah satu dari: {', '.join(self.choices or ())}")
        return raw


CONFIG_KEYS: dict[str, ConfigKey] = {
    k.key: k
    for k in [
        ConfigKey(
            "pairing_blast_timeout_seconds",
            "int",
            60,
            "Batas waktu pencarian bestie (detik)",
            "Berapa lama permintaan curhat ditawarkan ke semua bestie sebelum dianggap gagal.",
            10,
            600,
        ),
        ConfigKey(
            "payment_session_timeout_minutes",
            "int",
            20,
            "Batas waktu sesi pembayaran (menit)",
            "Sesi pembayaran yang belum dipakai kedaluwarsa setelah waktu ini.",
            1,
            120,
        ),
        ConfigKey(
            "returning_chat_confirmation_timeout_seconds",
            "int",
            20,
            "Batas waktu konfirmasi Curhat lagi (detik)",
            "Berapa lama bestie yang dituju punya waktu untuk menerima permintaan Curhat lagi.",
            5,
            120,
        ),
        ConfigKey(
            "extension_default_action_on_timeout",
            "enum",
            "auto_approve",
            "Tindakan otomatis perpanjangan",
            "Jika bestie tidak menjawab permintaan perpanjangan: setujui otomatis (hanya bila "
            "bestie masih terhubung) atau tolak otomatis.",
            choices=("auto_approve", "auto_reject"),
        ),
        ConfigKey(
            "extension_timeout_seconds",
            "int",
            10,
            "Batas waktu jawaban perpanjangan (detik)",
            "Berapa lama bestie punya waktu untuk menjawab permintaan perpanjangan.",
            5,
            60,
        ),
        ConfigKey(
            "max_customers_per_mitra",
            "int",
            3,
            "Maksimal pelanggan per bestie",
            "Jumlah sesi curhat yang boleh berjalan bersamaan untuk satu bestie.",
            1,
            10,
        ),
        ConfigKey(
            "free_trial_max_duration_minutes",
            "int",
            15,
            "Durasi maksimal uji coba gratis (menit)",
            "Paket dengan durasi sampai batas ini gratis untuk pelanggan baru; 0 mematikan uji coba gratis.",
            0,
            60,
        ),
        ConfigKey(
            "chat_end_warning_seconds",
            "int",
            60,
            "Peringatan sebelum sesi berakhir (detik)",
            "Kedua pihak diberi tahu sekian detik sebelum sesi curhat berakhir.",
            0,
            600,
        ),
    ]
}

ENUM_LABELS = {"auto_approve": "Auto-approve", "auto_reject": "Auto-reject"}
