"""access policy: token scopes, the four-eyes election setting, how a data-box delivery was recorded

Existing tokens get the scopes their owner's role allows (docs/permissions.md):
applicant -> applications; reviewer -> review; admin -> review allowlist:read allowlist:report;
ops -> allowlist:read allowlist:report. Ops should replace theirs with allowlist-only tokens as needed.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 11:00:00

"""

from alembic import op
import sqlalchemy as sa


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

SCOPES_BY_ROLE = {
    "applicant": "applications",
    "reviewer": "review",
    "admin": "review allowlist:read allowlist:report",
    "ops": "allowlist:read allowlist:report",
}


def upgrade():
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("scopes", sa.String(length=200), nullable=False, server_default=""))
    tokens = sa.table("api_tokens", sa.column("user_id", sa.Integer), sa.column("scopes", sa.String))
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("role", sa.String))
    for role, scopes in SCOPES_BY_ROLE.items():
        owners = sa.select(users.c.id).where(users.c.role == role)
        op.execute(tokens.update().where(tokens.c.user_id.in_(owners)).values(scopes=scopes))
    with op.batch_alter_table("elections") as batch:
        batch.add_column(sa.Column("four_eyes", sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table("submission_records") as batch:
        batch.add_column(sa.Column("databox_from_zfo", sa.Boolean(), nullable=True))


def downgrade():
    with op.batch_alter_table("submission_records") as batch:
        batch.drop_column("databox_from_zfo")
    with op.batch_alter_table("elections") as batch:
        batch.drop_column("four_eyes")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("scopes")
