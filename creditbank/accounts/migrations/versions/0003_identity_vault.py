"""Learners' identities sealed under per-learner data keys (issue 9 item 9).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import json
import secrets

import sqlalchemy as sa
from alembic import op
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learner_data_keys",
        sa.Column("learner_id", sa.String(length=128), nullable=False),
        sa.Column("data_key", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("learner_id"),
    )
    op.create_table(
        "learner_sealed_identities",
        sa.Column("learner_id", sa.String(length=128), nullable=False),
        sa.Column("nonce", sa.LargeBinary(length=12), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("learner_id"),
    )
    _seal_existing()


def _seal_existing() -> None:
    """Identities stored in plaintext before this revision are sealed, and the plaintext deleted."""
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT learner_id, name, id_number, salt FROM learner_identities"))
    for learner_id, name, id_number, salt in list(rows):
        key = AESGCM.generate_key(bit_length=256)
        nonce = secrets.token_bytes(12)
        plain = json.dumps(
            {"id_number": id_number, "name": name, "salt": salt}, ensure_ascii=False
        ).encode()
        bind.execute(
            sa.text("INSERT INTO learner_data_keys (learner_id, data_key) VALUES (:id, :key)"),
            {"id": learner_id, "key": key},
        )
        bind.execute(
            sa.text(
                "INSERT INTO learner_sealed_identities (learner_id, nonce, ciphertext) "
                "VALUES (:id, :nonce, :sealed)"
            ),
            {
                "id": learner_id,
                "nonce": nonce,
                "sealed": AESGCM(key).encrypt(nonce, plain, learner_id.encode()),
            },
        )
    bind.execute(sa.text("DELETE FROM learner_identities"))


def downgrade() -> None:
    op.drop_table("learner_sealed_identities")
    op.drop_table("learner_data_keys")
