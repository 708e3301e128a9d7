"""One unit of work per request and per command: the mechanism, and that nothing else commits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from sqlalchemy import Integer, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from portal import unit_of_work
from portal.extensions import db
from portal.problems import PortalError, describe, describes


class NoteBase(DeclarativeBase):
    """Apart from the portal's metadata, which the migrations must match."""


class Note(NoteBase):
    __tablename__ = "uow_test_notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(String(40), unique=True)


@dataclass
class NoteRefused(PortalError):
    text: str
    code: str = "note_refused"


@describes(NoteRefused)
def _note_refused(error: NoteRefused) -> str:
    return f"refused: {error.text}"


def _add(text: str) -> None:
    db.session.add(Note(text=text))
    db.session.flush()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = unit_of_work.PortalApp(__name__)
    app.config.update(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'uow.sqlite'}", SECRET_KEY="test", TESTING=True)
    db.init_app(app)
    unit_of_work.init_app(app)
    app.register_error_handler(IntegrityError, lambda error: ("conflict", 409))

    @app.get("/")
    def index() -> str:
        return render_template_string("{{ get_flashed_messages(with_categories=true)|tojson }}")

    @app.post("/notes/<text>")
    def add(text: str) -> str:
        _add(text)
        return "added"

    @app.post("/notes/<text>/then-fail")
    def add_then_fail(text: str) -> str:
        _add(text)
        raise RuntimeError("after the flush")

    @app.post("/notes/<text>/then-refuse")
    @unit_of_work.refusals_go_to("index")
    def add_then_refuse(text: str) -> str:
        _add(text)
        raise NoteRefused(text)

    @app.post("/notes/<text>/shown-on-form")
    def add_then_show(text: str) -> tuple[str, int]:
        _add(text)
        unit_of_work.refused()
        return "form with errors", 200

    @app.post("/notes/<text>/twice")
    def add_twice(text: str) -> str:
        db.session.add(Note(text=text))
        db.session.add(Note(text=text))
        return "not reached"

    with app.app_context():
        NoteBase.metadata.create_all(db.engine)
    yield app
    with app.app_context():
        db.engine.dispose()


def _texts(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Note.text).order_by(Note.id)))


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_a_view_that_returns_is_committed(app: Flask, client: FlaskClient) -> None:
    assert client.post("/notes/kept").status_code == 200
    assert _texts(app) == ["kept"]


def test_an_exception_after_a_flush_keeps_nothing(app: Flask, client: FlaskClient) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.post("/notes/lost/then-fail").status_code == 500
    assert _texts(app) == []


def test_a_refusal_is_a_flash_and_a_redirect_and_keeps_nothing(app: Flask, client: FlaskClient) -> None:
    response = client.post("/notes/x/then-refuse")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert _texts(app) == []
    assert json.loads(client.get("/").get_data(as_text=True)) == [["error", "refused: x"]]


def test_a_refusal_shown_on_the_form_keeps_nothing(app: Flask, client: FlaskClient) -> None:
    assert client.post("/notes/y/shown-on-form").status_code == 200
    assert _texts(app) == []
    # The next request commits again: the mark belongs to one request only.
    client.post("/notes/z")
    assert _texts(app) == ["z"]


def test_a_commit_the_database_refuses_reaches_the_error_handlers(app: Flask, client: FlaskClient) -> None:
    response = client.post("/notes/dup/twice")
    assert (response.status_code, response.get_data(as_text=True)) == (409, "conflict")
    assert _texts(app) == []
    client.post("/notes/after")
    assert _texts(app) == ["after"]


def test_a_command_commits_once_or_not_at_all(app: Flask) -> None:
    @unit_of_work.command
    def works() -> None:
        _add("command")

    @unit_of_work.command
    def exits() -> None:
        _add("exited")
        raise SystemExit(1)

    with app.app_context():
        works()
        with pytest.raises(SystemExit):
            exits()
    assert _texts(app) == ["command"]


def test_describe_uses_the_nearest_describer() -> None:
    class Unregistered(PortalError):
        code = "other"

    app = Flask(__name__)
    from portal.extensions import babel

    babel.init_app(app)
    with app.test_request_context():
        assert describe(NoteRefused("q")) == "refused: q"
        assert describe(Unregistered()) == "This change is not possible."
    assert NoteRefused("q").data == {"text": "q"}
