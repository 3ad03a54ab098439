# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# requirements.txt: runtime (what the production image installs); requirements-dev.txt adds the
# test and lint tools. The stamp changes when either file does.
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: run test setup lint typecheck format messages bench clean

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (found %s)" % sys.version.split()[0])'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

setup: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py load_divisions
	$(PY) manage.py setup_demo --i-know-this-is-not-production

run: setup
	$(PY) manage.py serve

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# mypy with django-stubs; which files, and which are strict, is [tool.mypy] in pyproject.toml.
typecheck: $(STAMP)
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Rebuild the English catalogue after changing translatable strings (needs GNU gettext):
# source strings are Chinese; English comes from locale/glossary/*.tsv ("中文<TAB>English").
messages: $(STAMP)
	$(PY) manage.py makemessages --locale en --ignore '.venv/*' --ignore 'var/*' --ignore 'tests/*' --ignore 'bench/*' --no-obsolete
	$(PY) manage.py fill_translations
	$(PY) manage.py compilemessages --locale en --ignore '.venv/*'

clean:
	rm -rf var/staticfiles var/celery var/test*.sqlite3
