# Calico-TS. The two commands of the README's Quick start are `make lab` and `make test`;
# each installs what it needs (Debian packages, npm packages) idempotently first.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.PHONY: help deps system-deps node-deps build lint test test-unit test-system lab bench clean

help:
	@echo "make lab    - install, build, start the 3-node demo lab (root)"
	@echo "make test   - install, build, lint and run every test (root)"
	@echo "make bench  - run the benchmarks under bench/"

system-deps:
	@bash scripts/install-deps.sh

# npm ci only when package-lock.json changed since the last install.
node_modules/.install-stamp: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

node-deps: node_modules/.install-stamp

deps: system-deps node-deps

build: node-deps
	npm run build

lint: node-deps
	npm run lint

test-unit: build
	npm run test:unit

test-system: build system-deps
	npm run test:system

test: deps build lint
	npm test

lab: deps build
	./dist/bin/calico-lab demo

bench: deps build
	@for b in bench/*/run.ts; do echo "== $$b"; node --import tsx $$b || exit 1; done

clean:
	rm -rf dist node_modules

# manifests/calico.yaml from src/k8s/manifests (a unit test fails when the committed file is stale).
.PHONY: manifests image
manifests: node-deps
	node --import tsx src/k8s/manifests/generate.ts

# The image the manifests name, built with buildah from a debootstrapped Debian base (root; not part of `make test`).
image: build
	bash build/image/build.sh
