# The two commands: `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CATALOGUES := $(wildcard portal/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGUES:.po=.mo)
export PORTAL_DEV_DATABASE ?= sqlite:///$(CURDIR)/var/portal.sqlite

.PHONY: run test lint pytest translations extract-messages update-catalogues clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

portal/translations/%/LC_MESSAGES/messages.mo: portal/translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

translations: $(COMPILED)

## make run: the portal on http://127.0.0.1:5000 with demo data (SQLite under var/, mail printed to the console)
run: $(STAMP) translations
	@mkdir -p var
	PORTAL_DATABASE_URL=$${PORTAL_DATABASE_URL:-$(PORTAL_DEV_DATABASE)} PORTAL_MAIL_BACKEND=$${PORTAL_MAIL_BACKEND:-console} \
	  $(BIN)/portal db upgrade
	@PORTAL_DATABASE_URL=$${PORTAL_DATABASE_URL:-$(PORTAL_DEV_DATABASE)} $(BIN)/portal seed demo
	@echo
	@echo "Portal: http://127.0.0.1:5000/   (Ctrl+C stops it and the mail sender)"
	@echo "Signed submissions: download an application's PDF, then sign it with the demo qualified"
	@echo "certificate: .venv/bin/portal demo sign FILE.pdf   (writes FILE-signed.pdf to upload)"
	@echo
	@# The outbox sender runs next to the portal and prints the mails here. Both run in the background so
	@# that the trap fires at once on Ctrl+C or SIGTERM; it stops both and waits for them.
	@export PORTAL_DATABASE_URL=$${PORTAL_DATABASE_URL:-$(PORTAL_DEV_DATABASE)} \
	    PORTAL_MAIL_BACKEND=$${PORTAL_MAIL_BACKEND:-console}; \
	  for setting in $$($(BIN)/portal demo pki --folder var/demo-pki); do export "$$setting"; done; \
	  trap 'kill -TERM $$sender $$server 2>/dev/null; wait $$sender $$server; exit 0' INT TERM; \
	  $(BIN)/portal outbox send --interval 2 & sender=$$!; \
	  $(BIN)/portal run --host 127.0.0.1 --port 5000 & server=$$!; \
	  wait $$server; status=$$?; kill -TERM $$sender 2>/dev/null; wait $$sender; exit $$status

## make test: ruff, then the whole pytest suite (SQLite; PORTAL_TEST_DATABASE_URL selects PostgreSQL)
test: lint pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

pytest: $(STAMP) translations
	$(BIN)/pytest $(PYTEST_ARGS)

extract-messages: $(STAMP)
	$(BIN)/pybabel extract --no-location --sort-output -F babel.cfg -k _l -k lazy_gettext -o portal/translations/messages.pot .

update-catalogues: extract-messages
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -i portal/translations/messages.pot -d portal/translations

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache $(COMPILED)
