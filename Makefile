# postcenter_email: `make run` serves Odoo with the addon; `make test` runs every test.
.PHONY: setup run test lint bench wheel clean

setup:
	@scripts/setup.sh

run: setup
	@scripts/run.sh

test: setup
	@scripts/test.sh

lint: setup
	@scripts/lint.sh

bench: setup
	@scripts/bench.sh

wheel: setup
	@scripts/wheel.sh build

clean:
	rm -rf .venv .venv-browser .venv-py3 .venv-lint .venv-build .venv-wheel .data test-artifacts dist
