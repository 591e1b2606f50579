# The two commands: `make run` and `make test`. Both set up what they need first.
VENV ?= .venv
# PYTHON (optional) is the interpreter to make the virtualenv with; scripts/make-venv
# otherwise prefers the distribution's optimised python3 to one from PATH.
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask
STAMP := $(VENV)/.installed-$(shell (cat requirements.txt requirements-dev.txt system-packages.txt scripts/make-venv; echo "$(PYTHON)") 2>/dev/null | cksum | cut -d' ' -f1)
export FLASK_APP := app

.PHONY: setup run migrate test test-services bench lint prompts clean translations-extract

# The console's catalogues (Flask-Babel): English is the source, each .po a language.
TRANSLATIONS := callcenter/translations
PYBABEL := $(VENV)/bin/pybabel
CATALOGUES := $(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGUES:.po=.mo)

setup: $(STAMP) $(COMPILED)

$(STAMP): requirements.txt requirements-dev.txt
	scripts/install-system-packages
	PYTHON="$(PYTHON)" scripts/make-venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

## Collect the console's strings (babel.cfg) into messages.pot and add the new ones to each
## catalogue; translate them in the .po (tests/callcenter/test_language.py fails while one
## is missing). `setup` (so `run` and `test`) compiles each .po into the .mo read at run
## time. The .mo are not committed: a compiled copy goes stale the moment a .po is edited
## without compiling, two branches' binaries cannot be merged, and compiling takes a second.
translations-extract: $(STAMP)
	$(PYBABEL) -q extract -F babel.cfg -k _l -k lazy_gettext -k N_ --no-location \
		--sort-output --project=Sampark -o $(TRANSLATIONS)/messages.pot .
	$(PYBABEL) -q update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) \
		--no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date

$(COMPILED): %.mo: %.po $(STAMP)
	$(PYBABEL) -q compile -i $< -o $@

migrate: setup
	$(FLASK) db upgrade

## Run web, worker, sweeper and the embedded Redis in the foreground; Ctrl-C stops them all.
run: migrate
	SAMPARK_DEV=1 $(FLASK) dev

## Run the whole suite on SQLite and the embedded Redis (or DATABASE_URL / REDIS_URL).
test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

## Load-test the webhooks against a bare Flask endpoint under the same server settings,
## then take-next under 50 claimers, a campaign's pace and bulk SMS (BENCH_ARGS="--only
## claim-next", "--only campaign-pace" or "--only bulk-sms" runs that alone);
## the figures go to bench/results/ and README.md.
bench: setup
	$(PY) -m bench --write-readme $(BENCH_ARGS)

lint: setup
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) instance .pytest_cache
