# The commands people type. `make run` and `make test` need only Python 3.11+ and make.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
PYTEST_ARGS ?=
# ../shared/tools/import_circles.py prints the files that import each other (ARCHITECTURE.md).
IMPORT_CIRCLES ?= ../shared/tools/import_circles.py

.PHONY: run test lint lint-check format worker sweep db-upgrade seed messages translations bench clean vendor-swagger-ui vendor-leaflet vendor-markercluster

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Нужен Python 3.11 или новее")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@

translations: $(VENV)/.installed
	@$(VENV)/bin/pybabel compile --use-fuzzy -d participation/translations >/dev/null

## run: set up, migrate, load the demo region and serve http://127.0.0.1:5000 (SQLite, in-process jobs)
run: translations
	$(FLASK) db upgrade
	$(FLASK) demo seed
	@echo "Откройте http://127.0.0.1:5000"
	$(FLASK) jobs sweep & trap 'kill $$! 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host 127.0.0.1 --port 5000

## test: set up and run the test suite (SQLite; PostgreSQL + Redis when TEST_DATABASE_URL / TEST_REDIS_URL are set)
test: translations
	$(PY) -m pytest $(PYTEST_ARGS)

## lint: ruff, formatting, and no two files under participation/ importing each other
lint: lint-check
	$(VENV)/bin/ruff format --check .

lint-check: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(PYTHON) $(IMPORT_CIRCLES) .

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

db-upgrade: $(VENV)/.installed
	$(FLASK) db upgrade

seed: $(VENV)/.installed
	$(FLASK) demo seed

## worker: an RQ worker (needs REDIS_URL)
worker: translations
	$(FLASK) jobs worker

## sweep: periodic checks (deadlines, outbox catch-up), every SWEEP_INTERVAL_SECONDS
sweep: translations
	$(FLASK) jobs sweep

## messages: extract strings and update the ru/en catalogues
messages: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 -o participation/translations/messages.pot --no-location --sort-output --width 100 --project participation .
	$(VENV)/bin/pybabel update -i participation/translations/messages.pot -d participation/translations --no-fuzzy-matching --ignore-obsolete --width 100

## vendor-swagger-ui: refresh the API docs page's Swagger UI from the npm registry (committed files)
SWAGGER_UI_VERSION ?= 5.35.0
SWAGGER_UI_DIR := participation/static/vendor/swagger-ui
vendor-swagger-ui:
	@tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent swagger-ui-dist@$(SWAGGER_UI_VERSION) >/dev/null \
	  && tar xzf swagger-ui-dist-$(SWAGGER_UI_VERSION).tgz && cd - >/dev/null \
	  && mkdir -p $(SWAGGER_UI_DIR) \
	  && cp $$tmp/package/swagger-ui-bundle.js $$tmp/package/swagger-ui-bundle.js.LICENSE.txt \
	     $$tmp/package/swagger-ui.css $$tmp/package/LICENSE $$tmp/package/NOTICE $(SWAGGER_UI_DIR)/ \
	  && sed -i '/sourceMappingURL/d' $(SWAGGER_UI_DIR)/swagger-ui.css $(SWAGGER_UI_DIR)/swagger-ui-bundle.js \
	  && echo "swagger-ui-dist $(SWAGGER_UI_VERSION) (npm), Apache-2.0; refreshed by \`make vendor-swagger-ui\`" \
	     > $(SWAGGER_UI_DIR)/VERSION && rm -rf $$tmp

## vendor-leaflet: refresh the map component's Leaflet from the npm registry (committed files)
LEAFLET_VERSION ?= 1.9.4
LEAFLET_DIR := participation/static/vendor/leaflet
vendor-leaflet:
	@tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent leaflet@$(LEAFLET_VERSION) >/dev/null \
	  && tar xzf leaflet-$(LEAFLET_VERSION).tgz && cd - >/dev/null \
	  && rm -rf $(LEAFLET_DIR) && mkdir -p $(LEAFLET_DIR) \
	  && cp -r $$tmp/package/dist/leaflet.js $$tmp/package/dist/leaflet.css $$tmp/package/dist/images \
	     $$tmp/package/LICENSE $(LEAFLET_DIR)/ \
	  && sed -i '/sourceMappingURL/d' $(LEAFLET_DIR)/leaflet.js \
	  && echo "leaflet $(LEAFLET_VERSION) (npm), BSD-2-Clause; refreshed by \`make vendor-leaflet\`" \
	     > $(LEAFLET_DIR)/VERSION && rm -rf $$tmp

## vendor-markercluster: refresh the map component's point clustering (Leaflet.markercluster) from npm
MARKERCLUSTER_VERSION ?= 1.5.3
MARKERCLUSTER_DIR := participation/static/vendor/leaflet.markercluster
vendor-markercluster:
	@tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent leaflet.markercluster@$(MARKERCLUSTER_VERSION) >/dev/null \
	  && tar xzf leaflet.markercluster-$(MARKERCLUSTER_VERSION).tgz && cd - >/dev/null \
	  && rm -rf $(MARKERCLUSTER_DIR) && mkdir -p $(MARKERCLUSTER_DIR) \
	  && cp $$tmp/package/dist/leaflet.markercluster.js $$tmp/package/dist/MarkerCluster.css \
	     $$tmp/package/dist/MarkerCluster.Default.css $$tmp/package/MIT-LICENCE.txt $(MARKERCLUSTER_DIR)/ \
	  && sed -i '/sourceMappingURL/d' $(MARKERCLUSTER_DIR)/leaflet.markercluster.js \
	  && echo "leaflet.markercluster $(MARKERCLUSTER_VERSION) (npm), MIT; refreshed by \`make vendor-markercluster\`" \
	     > $(MARKERCLUSTER_DIR)/VERSION && rm -rf $$tmp

bench: translations
	@ls bench/*.py | grep -v _common | while read b; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) instance .pytest_cache
