# postcenter_email: `make run` serves Odoo with the addon; `make test` runs every test.
.PHONY: setup run test bench clean

setup:
	@scripts/setup.sh

run: setup
	@scripts/run.sh

test: setup
	@scripts/test.sh

bench: setup
	@scripts/bench.sh

clean:
	rm -rf .venv .venv-browser .data test-artifacts
