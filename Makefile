# The two commands of the README. Both install what they need first (idempotent).
.PHONY: run test setup-rust setup-test wasm

# Build everything and serve the API and the web page on http://127.0.0.1:25441/
run:
	bash scripts/run.sh

# Install what the tests need and run every test suite.
test:
	bash scripts/test.sh

wasm:
	bash scripts/build-wasm.sh
