# The front door: `make run` brings Steward up with demo data, `make test` runs every check.
VENV := .venv
BIN := $(VENV)/bin

# First interpreter >= 3.12 on PATH, else one installed through pyenv.
FIND_PYTHON := for c in python3.14 python3.13 python3.12 python3 python \
	$$(ls -d "$$(pyenv root 2>/dev/null)"/versions/3.1[2-9]*/bin/python3 2>/dev/null); do \
	  if "$$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then echo "$$c"; break; fi; \
	done

.PHONY: run test lint venv clean-data mypy-baseline

$(BIN)/.installed: pyproject.toml
	@py="$$($(FIND_PYTHON))"; \
	if [ -z "$$py" ]; then \
	  echo "Steward needs Python >= 3.12 and found none on PATH or through pyenv; install Python 3.12 or newer and try again." >&2; \
	  exit 1; \
	fi; \
	if [ ! -x $(BIN)/python ] || ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	  echo "Creating $(VENV) with $$py"; rm -rf $(VENV); "$$py" -m venv $(VENV) || exit 1; \
	fi; \
	echo "Installing Steward and its dependencies into $(VENV)…"; \
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip && \
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]' && touch $@

venv: $(BIN)/.installed

## Start embedded PostgreSQL + Redis (unless DATABASE_URL / REDIS_URL are set), migrate, seed the
## demo organisation, then run the web server, a Celery worker and Celery beat until Ctrl-C.
run: $(BIN)/.installed
	@$(BIN)/python -m config.stack run

## Lint, migration check and the whole test suite (embedded services unless the URLs are set).
test: $(BIN)/.installed
	@$(BIN)/python -m config.stack test $(PYTEST_ARGS)

## Write mypy-baseline.txt anew after fixing type errors (the list may only shrink).
mypy-baseline: $(BIN)/.installed
	$(BIN)/python -m config.typecheck --sync

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## Forget the embedded databases (demo data is seeded again on the next `make run`).
clean-data:
	rm -rf .steward
