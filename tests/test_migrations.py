"""The Alembic migrations build exactly the schema the models describe, on this run's database."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from portal import create_app
from portal.extensions import db
from tests.conftest import portal_test_config, uses_postgresql


def test_upgrade_on_an_empty_database_matches_the_models(tmp_path, database_url):
    if uses_postgresql():
        # A database of its own, so the suite's schema is left alone.
        admin = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text("DROP DATABASE IF EXISTS portal_migration_check"))
            connection.execute(sa.text("CREATE DATABASE portal_migration_check"))
        admin.dispose()
        url = database_url.rsplit("/", 1)[0] + "/portal_migration_check"
    else:
        url = f"sqlite:///{tmp_path / 'migrated.sqlite'}"
    app = create_app(portal_test_config(url, 25))
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
        assert differences == []
        downgrade(revision="base")
        assert sa.inspect(db.engine).get_table_names() == ["alembic_version"]
        db.engine.dispose()
