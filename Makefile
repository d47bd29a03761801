# postcenter_email: `make run` serves Odoo with the addon; `make test` runs every test.
.PHONY: setup run test bench wheel clean

setup:
	@scripts/setup.sh

run: setup
	@scripts/run.sh

test: setup
	@scripts/test.sh

bench: setup
	@scripts/bench.sh

wheel: setup
	@scripts/wheel.sh build

clean:
	rm -rf .venv .venv-browser .venv-py3 .venv-build .venv-wheel .data test-artifacts dist
