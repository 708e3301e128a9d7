"""login failures: wrong passwords counted per e-mail address, for growing sign-in delays

Revision ID: hard_0002
Revises: hard_0001
Create Date: 2026-12-05 11:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import portal.db


# revision identifiers, used by Alembic.
revision = 'hard_0002'
down_revision = 'hard_0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_failures',
    sa.Column('email_sha256', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', portal.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('email_sha256', name=op.f('pk_login_failures'))
    )


def downgrade():
    op.drop_table('login_failures')
