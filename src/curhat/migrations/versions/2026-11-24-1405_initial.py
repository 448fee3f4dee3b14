"""initial schema: accounts, config, pricing, payments, pairing, chat, extensions

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-24 14:05
"""

from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

DDL = """
CREATE TABLE users (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  phone TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE mitras (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  phone TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  is_active BOOLEAN NOT NULL DEFAULT true,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE cc_users (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  email TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE app_config (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_by UUID REFERENCES cc_users(id)
);

CREATE TABLE price_tiers (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  duration_minutes INTEGER NOT NULL CHECK (duration_minutes > 0),
  amount INTEGER NOT NULL CHECK (amount >= 0),
  is_active BOOLEAN NOT NULL DEFAULT true,
  sort_order INTEGER NOT NULL DEFAULT 0,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX uq_price_tiers_active_duration ON price_tiers(duration_minutes) WHERE is_active;

-- seed DDL (Phase 3.7 plan 1.1), plus is_extension, voided, chat_session_id
CREATE TABLE payment_sessions (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  customer_id UUID NOT NULL REFERENCES users(id),
  amount INTEGER NOT NULL DEFAULT 0,
  duration_minutes INTEGER NOT NULL,
  is_free_trial BOOLEAN NOT NULL DEFAULT false,
  status TEXT NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending','confirmed','consumed','failed_pairing','abandoned','expired','voided')),
  targeted_mitra_id UUID REFERENCES mitras(id),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  confirmed_at TIMESTAMPTZ,
  consumed_at TIMESTAMPTZ,
  expires_at TIMESTAMPTZ NOT NULL,
  is_extension BOOLEAN NOT NULL DEFAULT false,
  chat_session_id UUID,
  CONSTRAINT ck_payment_sessions_free_trial_amount CHECK ((amount = 0) = is_free_trial),
  CONSTRAINT ck_payment_sessions_extension_not_free CHECK (NOT (is_extension AND is_free_trial))
);
CREATE INDEX idx_payment_sessions_customer ON payment_sessions(customer_id);
CREATE INDEX idx_payment_sessions_status_expires ON payment_sessions(status, expires_at);
-- invariant 9: one consumed free trial per customer, ever
CREATE UNIQUE INDEX uq_payment_sessions_one_free_trial ON payment_sessions(customer_id)
  WHERE is_free_trial AND status = 'consumed';

CREATE TABLE pairing_failures (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  payment_session_id UUID NOT NULL REFERENCES payment_sessions(id) ON DELETE CASCADE,
  customer_id UUID NOT NULL REFERENCES users(id),
  targeted_mitra_id UUID REFERENCES mitras(id),
  cause_tag TEXT NOT NULL
    CHECK (cause_tag IN (
      'no_mitra_available',
      'all_mitras_rejected',
      'targeted_mitra_offline',
      'targeted_mitra_rejected',
      'targeted_mitra_timeout',
      'payment_session_expired',
      'customer_cancelled'
    )),
  amount INTEGER NOT NULL,
  operator_action TEXT
    CHECK (operator_action IS NULL OR operator_action IN ('refunded','credited','no_action')),
  actioned_by UUID REFERENCES cc_users(id),
  actioned_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_pairing_failures_created_at ON pairing_failures(created_at DESC);
CREATE INDEX idx_pairing_failures_cause ON pairing_failures(cause_tag);
CREATE INDEX idx_pairing_failures_unactioned ON pairing_failures(created_at DESC) WHERE operator_action IS NULL;
-- invariant 2: exactly one failure row per failed session
CREATE UNIQUE INDEX uq_pairing_failures_payment_session ON pairing_failures(payment_session_id);

CREATE TABLE chat_sessions (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  customer_id UUID NOT NULL REFERENCES users(id),
  mitra_id UUID NOT NULL REFERENCES mitras(id),
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','ended')),
  started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  ends_at TIMESTAMPTZ NOT NULL,
  ended_at TIMESTAMPTZ,
  end_reason TEXT CHECK (end_reason IS NULL OR end_reason IN ('time_up','customer_ended','mitra_ended')),
  duration_minutes INTEGER NOT NULL,
  warned_for TIMESTAMPTZ
);
ALTER TABLE chat_sessions ADD COLUMN IF NOT EXISTS payment_session_id UUID REFERENCES payment_sessions(id);
CREATE INDEX IF NOT EXISTS idx_chat_sessions_payment ON chat_sessions(payment_session_id);
CREATE UNIQUE INDEX uq_chat_sessions_payment ON chat_sessions(payment_session_id) WHERE payment_session_id IS NOT NULL;
CREATE INDEX idx_chat_sessions_customer ON chat_sessions(customer_id, started_at DESC);
CREATE INDEX idx_chat_sessions_mitra ON chat_sessions(mitra_id, started_at DESC);
CREATE INDEX idx_chat_sessions_active_ends ON chat_sessions(ends_at) WHERE status = 'active';

ALTER TABLE payment_sessions ADD CONSTRAINT fk_payment_sessions_chat_session
  FOREIGN KEY (chat_session_id) REFERENCES chat_sessions(id);

CREATE TABLE chat_messages (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  chat_session_id UUID NOT NULL REFERENCES chat_sessions(id),
  sender_role TEXT NOT NULL CHECK (sender_role IN ('customer','mitra')),
  body TEXT NOT NULL CHECK (char_length(body) BETWEEN 1 AND 2000),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  client_msg_id TEXT
);
CREATE INDEX idx_chat_messages_session ON chat_messages(chat_session_id, created_at, id);
CREATE UNIQUE INDEX uq_chat_messages_client_msg ON chat_messages(chat_session_id, sender_role, client_msg_id)
  WHERE client_msg_id IS NOT NULL;

CREATE TABLE pairing_requests (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  payment_session_id UUID NOT NULL REFERENCES payment_sessions(id),
  customer_id UUID NOT NULL REFERENCES users(id),
  request_type TEXT NOT NULL CHECK (request_type IN ('blast','returning')),
  targeted_mitra_id UUID REFERENCES mitras(id),
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open','accepted','failed','cancelled')),
  cause_tag TEXT,
  accepted_mitra_id UUID REFERENCES mitras(id),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  expires_at TIMESTAMPTZ NOT NULL,
  closed_at TIMESTAMPTZ
);
CREATE INDEX idx_pairing_requests_payment ON pairing_requests(payment_session_id, created_at DESC);
CREATE INDEX idx_pairing_requests_open_expires ON pairing_requests(expires_at) WHERE status = 'open';
CREATE UNIQUE INDEX uq_pairing_requests_one_open ON pairing_requests(payment_session_id) WHERE status = 'open';

CREATE TABLE pairing_offers (
  pairing_request_id UUID NOT NULL REFERENCES pairing_requests(id) ON DELETE CASCADE,
  mitra_id UUID NOT NULL REFERENCES mitras(id),
  offered_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  response TEXT CHECK (response IS NULL OR response IN ('accepted','rejected')),
  responded_at TIMESTAMPTZ,
  PRIMARY KEY (pairing_request_id, mitra_id)
);
CREATE INDEX idx_pairing_offers_mitra_open ON pairing_offers(mitra_id) WHERE response IS NULL;

CREATE TABLE extension_requests (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  chat_session_id UUID NOT NULL REFERENCES chat_sessions(id),
  payment_session_id UUID NOT NULL UNIQUE REFERENCES payment_sessions(id),
  duration_minutes INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','approved','rejected')),
  resolution TEXT CHECK (resolution IS NULL OR resolution IN ('mitra','auto_approve','auto_reject','mitra_offline')),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  expires_at TIMESTAMPTZ NOT NULL,
  resolved_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX uq_extension_requests_one_pending ON extension_requests(chat_session_id) WHERE status = 'pending';
CREATE INDEX idx_extension_requests_pending_expires ON extension_requests(expires_at) WHERE status = 'pending';

CREATE TABLE idempotency_keys (
  customer_id UUID NOT NULL REFERENCES users(id),
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  response JSONB,
  status_code INTEGER,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (customer_id, key)
);
CREATE INDEX idx_idempotency_keys_created ON idempotency_keys(created_at);

INSERT INTO app_config (key, value) VALUES
  ('pairing_blast_timeout_seconds', '60'),
  ('payment_session_timeout_minutes', '20'),
  ('returning_chat_confirmation_timeout_seconds', '20'),
  ('extension_default_action_on_timeout', 'auto_approve'),
  ('extension_timeout_seconds', '10'),
  ('max_customers_per_mitra', '3'),
  ('free_trial_max_duration_minutes', '15'),
  ('chat_end_warning_seconds', '60')
ON CONFLICT (key) DO NOTHING;

INSERT INTO price_tiers (duration_minutes, amount, sort_order) VALUES
  (15, 15000, 1),
  (30, 25000, 2),
  (60, 45000, 3);
"""

TABLES = [
    "idempotency_keys",
    "extension_requests",
    "pairing_offers",
    "pairing_requests",
    "chat_messages",
    "pairing_failures",
]


def upgrade() -> None:
    # asyncpg runs one statement per call.
    for statement in DDL.split(";\n"):
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    op.execute("ALTER TABLE payment_sessions DROP CONSTRAINT IF EXISTS fk_payment_sessions_chat_session")
    for table in [
        "chat_sessions",
        "payment_sessions",
        "price_tiers",
        "app_config",
        "cc_users",
        "mitras",
        "users",
    ]:
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
