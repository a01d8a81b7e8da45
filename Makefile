# The two commands a newcomer needs: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Development defaults; production sets DEBUG=false and the variables in README.md.
export DEBUG ?= true

.PHONY: run test lint check-deploy install migrate demo messages messages-check compilemessages clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit("dtiplan needs Python 3.11 or newer; run e.g. make run PYTHON=python3.12") if sys.version_info < (3, 11) else None'
	@# A half-made virtualenv (e.g. python3-venv missing on Debian) must not pass for a good one.
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); echo "Could not create $(VENV): on Debian/Ubuntu install python3-venv." >&2; exit 1; }

$(VENV)/.installed: requirements.txt | $(BIN)/python
	@echo "Installing requirements.txt into $(VENV) ..."
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

install: $(VENV)/.installed

# The SQLite database, broker folders, mail files and development secret key live here.
var:
	mkdir -p var

# Without compiled .mo files the Vietnamese UI silently falls back to English. The .mo files are
# committed (a fresh machine may lack GNU gettext); one older than its .po is recompiled here.
PO_FILES := $(wildcard locale/*/LC_MESSAGES/*.po locale_overrides/*/LC_MESSAGES/*.po */locale/*/LC_MESSAGES/*.po)
compilemessages: $(PO_FILES:.po=.mo)

%.mo: %.po
	@if command -v msgfmt >/dev/null 2>&1; then \
		echo "msgfmt $<"; msgfmt --check-format -o $@ $<; \
	else \
		echo "WARNING: GNU gettext (msgfmt) is not installed; $@ is missing or older than $<." >&2; \
	fi

migrate: install | var
	$(BIN)/python manage.py migrate --no-input

demo: migrate
	$(BIN)/python manage.py load_demo

run: compilemessages demo
	@echo "dtiplan: http://127.0.0.1:8000/admin/  e-mails: var/mail/  (Ctrl-C stops the web server, worker and schedule)"
	$(BIN)/honcho --procfile Procfile start

# pytest exits 5 when no test ran: make fails then too.
test: install compilemessages | var
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/python -m ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run

# Production settings must pass Django's deployment checks with nothing to report.
check-deploy: install
	DEBUG=false ALLOWED_HOSTS=dti.example.vn SITE_URL=https://dti.example.vn \
	EMAIL_HOST=smtp.example.vn REDIS_URL=redis://127.0.0.1:6379/0 \
	SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

messages: install
	$(BIN)/python manage.py makemessages --locale vi --ignore=.venv --ignore=var --ignore=tests --ignore=bench --no-obsolete
	$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=var

# Removes queued background work and written e-mails; keeps the database and the secret key.
# Fails when the code holds a message the Vietnamese catalogue lacks: it refreshes the .po from
# the code (as `make messages` does), then checks that nothing is untranslated or fuzzy.
messages-check: install
	$(BIN)/python manage.py makemessages --locale vi --ignore=.venv --ignore=var --ignore=tests --ignore=bench --no-obsolete
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_i18n.py -k every_message

clean:
	rm -rf var/broker var/mail
