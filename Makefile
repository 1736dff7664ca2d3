# usersync: see README.md. `make run` and `make test` are the two commands
# a newcomer needs.
GO       ?= go
BIN      ?= bin/usersync
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
USERS    ?= users.example.json
IMAGE    ?= usersync:$(VERSION)
COMPOSE  ?= docker compose

.PHONY: build build-static image dev run test fuzz vet fmt clean bench

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/usersync

# The image's build command, word for word (deploy/image_test.go checks the
# Dockerfile runs the same one): a static binary with no libc to link.
build-static:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/usersync

# The init-container image (Dockerfile); needs a Docker engine.
image:
	docker build --build-arg VERSION=$(VERSION) -t $(IMAGE) .

# Local development stack: PostgreSQL, then `usersync up` with
# users.example.json (docker-compose.yml); needs a Docker engine.
dev:
	$(COMPOSE) up --build

# Runs `usersync up` on the embedded SQLite default (barycenter.db here)
# with the example users file.
run: build
	./$(BIN) up --users-file $(USERS)

vet:
	$(GO) vet ./...

# PostgreSQL tests use TEST_DATABASE_URL (default: postgres://postgres@127.0.0.1:5432/postgres);
# they skip when no server answers, except under CI=true.
# -timeout 30m: on a cold build cache the chart tests first build Helm from
# source (about 4 minutes), inside the deploy package's test binary.
test: vet
	$(GO) test -race -count=1 -timeout 30m ./...

# Fuzzes the users file parser (seed corpus: internal/userfile/testdata/fuzz-seed).
# CI runs it for 30s; run longer by hand: make fuzz FUZZTIME=10m
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./internal/userfile/

# The benchmark harness (README, "Performance"): Go benchmarks, then the
# driver that times the built binary on SQLite and PostgreSQL and prints the
# markdown table. BENCH_SIZES and BENCH_BULK choose the numbers of users.
BENCH_SIZES ?= 1000,10000
BENCH_BULK  ?= 100000
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 3x ./internal/reconcile/
	$(GO) run ./cmd/usersync-bench -bin $(BIN) -sizes $(BENCH_SIZES) -bulk $(BENCH_BULK)

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin barycenter.db
