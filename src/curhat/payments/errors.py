"""Payment-session errors: one class per stable code (api.md)."""

from __future__ import annotations

from curhat.errors import BadRequest, Conflict, NotFound


class PaymentSessionNotFound(NotFound):
    code = "payment_session_not_found"
    message = "Sesi pembayaran tidak ditemukan."


class PaymentSessionNotConfirmed(Conflict):
    code = "payment_session_not_confirmed"
    message = "Sesi pembayaran belum dikonfirmasi."


class PaymentSessionExpired(Conflict):
    code = "payment_session_expired"
    message = "Sesi pembayaran sudah kedaluwarsa."


class PaymentSessionNotPending(Conflict):
    code = "payment_session_not_pending"
    message = "Sesi pembayaran ini tidak lagi menunggu pembayaran."


class PaymentSessionAlreadyUsed(Conflict):
    code = "payment_session_already_used"
    message = "Sesi pembayaran ini sudah dipakai."


class FreeTrialAlreadyUsed(Conflict):
    code = "free_trial_already_used"
    message = "Uji coba gratis sudah pernah dipakai."


class FallbackNotAvailable(Conflict):
    code = "fallback_not_available"
    message = "Sesi pembayaran ini tidak bisa dialihkan ke pencarian umum."


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    message = "Idempotency-Key ini sudah dipakai untuk permintaan lain."


class ChatSessionNotActive(BadRequest):
    code = "chat_session_not_active"
    message = "Perpanjangan hanya untuk sesi curhat yang sedang berjalan."
