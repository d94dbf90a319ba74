# bk-ssm-secrets. On a fresh machine `make demo` and `make test` do all the
# set-up themselves: system packages the tests use, npm packages, the build.
BUN := node_modules/.bin/bun
ARCH := $(shell uname -m | sed -e 's/x86_64/x64/' -e 's/aarch64/arm64/')
BIN := dist/bk-ssm-secrets-linux-$(ARCH)
SOURCES := $(shell find src -name '*.ts') build.ts package.json
SHELL_SCRIPTS := $(shell find hooks -type f) src/install/install.sh .ci/run test/support/install-deps.sh

.PHONY: all build test lint demo bench deps system-deps clean

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

# Not part of `make test` (test/bench.test.ts runs a short smoke of it).
# Installs Debian's AWS CLI for the side-by-side comparison when missing.
bench: build
	@command -v /usr/bin/aws >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends awscli >/dev/null; }
	$(BUN) test/bench/bench.ts

clean:
	rm -rf dist
