# bk-ssm-secrets. On a fresh machine `make demo` and `make test` do all the
# set-up themselves: system packages the tests use, npm packages, the build.
BUN := node_modules/.bin/bun
ARCH := $(shell uname -m | sed -e 's/x86_64/x64/' -e 's/aarch64/arm64/')
BIN := dist/bk-ssm-secrets-linux-$(ARCH)
SOURCES := $(shell find src -name '*.ts') build.ts package.json
SHELL_SCRIPTS := $(shell find hooks -type f) src/install.sh .ci/run test/support/install-deps.sh

.PHONY: all build test lint demo deps system-deps clean

all: build

system-deps:
	@bash test/support/install-deps.sh

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.package-lock.json

dist/.built: node_modules/.package-lock.json $(SOURCES)
	$(BUN) build.ts
	@touch $@

build: dist/.built

lint: deps system-deps
	node_modules/.bin/tsc -p .
	shellcheck -x $(SHELL_SCRIPTS)

test: build lint
	$(BUN) test/run.ts

demo: build
	$(BUN) test/support/demo.ts $(BIN)

clean:
	rm -rf dist
