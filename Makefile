# The two commands: `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CATALOGUES := $(wildcard portal/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGUES:.po=.mo)
# Front-end packages (package-lock.json) and what `make assets` copies from them into the portal.
NODE_STAMP := node_modules/.package-lock.json
GOV := node_modules/@gov-design-system-ce/styles/lib/html
GOV_CSS := $(GOV)/tokens.css $(GOV)/styles.css $(GOV)/layout.css $(GOV)/components/gov-message.css
ROBOTO := $(foreach w,400 500 700,$(foreach s,latin latin-ext,node_modules/@fontsource/roboto/files/roboto-$(s)-$(w)-normal.woff2))
ASSETS_DIR ?= portal/static/gov
export PORTAL_DEV_DATABASE ?= sqlite:///$(CURDIR)/var/portal.sqlite

.PHONY: run test lint pytest translations extract-messages update-catalogues clean bench-feed bench-firewall drill assets assets-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

portal/translations/%/LC_MESSAGES/messages.mo: portal/translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

translations: $(COMPILED)

## make run: the portal on http://127.0.0.1:5000 with demo data (SQLite under var/, mail printed to the console),
## the election-night simulator on :8081 and the feed proxy on :8080 in front of it
run: $(STAMP) translations
	@mkdir -p var
	PORTAL_DATABASE_URL=$${PORTAL_DATABASE_URL:-$(PORTAL_DEV_DATABASE)} PORTAL_MAIL_BACKEND=$${PORTAL_MAIL_BACKEND:-console} \
	  $(BIN)/portal db upgrade
	@PORTAL_DATABASE_URL=$${PORTAL_DATABASE_URL:-$(PORTAL_DEV_DATABASE)} $(BIN)/portal seed demo
	@PORTAL_DATABASE_URL=$${PORTAL_DATABASE_URL:-$(PORTAL_DEV_DATABASE)} $(BIN)/portal demo feed-snapshot --folder var/demo-feed
	@echo
	@echo "Portal:           http://127.0.0.1:5000/   (Ctrl+C stops everything)"
	@echo "Election night:   http://127.0.0.1:5000/staff/night   (staff; the proxy's statistics every 15 s)"
	@echo "Simulator:        http://127.0.0.1:8081/pls/prez2023/vysledky   (counts 0-100 % in 30 minutes)"
	@echo "Feed proxy:       http://127.0.0.1:8080/pls/prez2023/vysledky   and   http://127.0.0.1:8080/whoami"
	@echo "                  (the demo allowlist admits this computer, 127.0.0.1, with a test-only switch)"
	@echo "Signed submissions: download an application's PDF, then sign it with the demo qualified"
	@echo "certificate: .venv/bin/portal demo sign FILE.pdf   (writes FILE-signed.pdf to upload)"
	@echo
	@# Everything runs in the background so that the trap fires at once on Ctrl+C or SIGTERM; it stops all
	@# of them and waits. The outbox sender prints the mails here; the snapshot is written again every 10 s.
	@export PORTAL_DATABASE_URL=$${PORTAL_DATABASE_URL:-$(PORTAL_DEV_DATABASE)} \
	    PORTAL_MAIL_BACKEND=$${PORTAL_MAIL_BACKEND:-console}; \
	  for setting in $$($(BIN)/portal demo pki --folder var/demo-pki); do export "$$setting"; done; \
	  trap 'kill -TERM $$pids 2>/dev/null; wait $$pids; exit 0' INT TERM; \
	  $(BIN)/portal outbox send --interval 2 & pids="$$!"; \
	  $(BIN)/feedproxy simulate --election prez2023 --duration 1800 --listen 127.0.0.1:8081 & pids="$$pids $$!"; \
	  $(BIN)/feedproxy serve --upstream http://127.0.0.1:8081 --snapshot var/demo-feed/snapshot.json \
	    --public-key var/demo-feed/allowlist-public.pem --allow-documentation-ranges --allow-loopback-clients \
	    --listen 127.0.0.1:8080 --workers 1 & pids="$$pids $$!"; \
	  $(BIN)/portal demo feed-snapshot --folder var/demo-feed --every 10 >/dev/null & pids="$$pids $$!"; \
	  $(BIN)/portal feed collect --proxy http://127.0.0.1:8080 --interval 15 & pids="$$pids $$!"; \
	  $(BIN)/portal run --host 127.0.0.1 --port 5000 & server=$$!; pids="$$pids $$server"; \
	  wait $$server; status=$$?; kill -TERM $$pids 2>/dev/null; wait $$pids; exit $$status

## make test: ruff, then the whole pytest suite (SQLite; PORTAL_TEST_DATABASE_URL selects PostgreSQL)
test: lint assets-check pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

pytest: $(STAMP) translations $(NODE_STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

## make drill: replay an election end to end with real processes, namespaces and nft (root, PostgreSQL on
## 127.0.0.1:5432); installs nftables and iproute2 if missing; report in test-artifacts/drill/
drill: $(STAMP) translations
	@command -v nft >/dev/null && command -v ip >/dev/null || \
	  (export DEBIAN_FRONTEND=noninteractive; apt-get update -q && apt-get install -y -q --no-install-recommends nftables iproute2)
	$(BIN)/python -m drill $(DRILL_ARGS)

## make bench-feed: nginx against the feed proxy with wrk (installs nginx and wrk from Debian if missing)
bench-feed: $(STAMP)
	@command -v nginx >/dev/null && command -v wrk >/dev/null || \
	  (export DEBIAN_FRONTEND=noninteractive; apt-get update -q && apt-get install -y -q --no-install-recommends nginx wrk)
	$(BIN)/feedproxy bench --rounds 3

## make bench-firewall: render and apply 10,000 entries (root; installs nftables and iproute2 if missing)
bench-firewall: $(STAMP)
	@command -v nft >/dev/null && command -v ip >/dev/null || \
	  (export DEBIAN_FRONTEND=noninteractive; apt-get update -q && apt-get install -y -q --no-install-recommends nftables iproute2)
	$(BIN)/python bench/firewall.py

## make assets: npm ci from package-lock.json (the design system, Roboto, axe-core for the browser tests), then
## copy what the portal serves into portal/static/gov/ (committed, so `make run` needs no Node; assets-check
## proves the committed copy is what the lockfile gives)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

assets: $(NODE_STAMP)
	@mkdir -p $(ASSETS_DIR)/fonts
	@{ printf '/* @gov-design-system-ce/styles %s (EUPL-1.2), lib/html: %s. Generated by `make assets`. */\n' \
	    "$$(node -p 'require("./node_modules/@gov-design-system-ce/styles/package.json").version')" \
	    "$(notdir $(GOV_CSS))"; \
	  for f in $(GOV_CSS); do sed -e '1s/^\xEF\xBB\xBF//' $$f; printf '\n'; done; } > $(ASSETS_DIR)/gov.css
	@cp $(ROBOTO) $(ASSETS_DIR)/fonts/ && cp node_modules/@fontsource/roboto/LICENSE $(ASSETS_DIR)/fonts/LICENSE-OFL-1.1.txt
	@echo "assets: $(ASSETS_DIR)/gov.css and $(words $(ROBOTO)) Roboto fonts"

## make assets-check: fails when the committed portal/static/gov/ differs from what `make assets` makes
assets-check: $(NODE_STAMP)
	@rm -rf .assets-check && $(MAKE) -s assets ASSETS_DIR=.assets-check >/dev/null
	@diff -r .assets-check portal/static/gov >/dev/null || { rm -rf .assets-check; echo "portal/static/gov/ is not what make assets makes from package-lock.json: run make assets and commit"; exit 1; }
	@rm -rf .assets-check; echo "assets-check: portal/static/gov/ matches package-lock.json"

extract-messages: $(STAMP)
	$(BIN)/pybabel extract --no-location --sort-output -F babel.cfg -k _l -k lazy_gettext -o portal/translations/messages.pot .

update-catalogues: extract-messages
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -i portal/translations/messages.pot -d portal/translations

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache $(COMPILED)
