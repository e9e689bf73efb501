# StreamQuery: build, run, test, bench, package.
#
#   make          build bin/host (and bin/host.so for stock lua5.4 specs)
#   make run      the main job: the sample packs, no AWS account needed
#   make test     every test; the last line says "N passed, N failed"
#   make bench    benchmarks (figures, never pass/fail on time)
#   make package  the Lambda zip
#
# Missing Debian packages are installed when run as root; otherwise the
# exact command is printed.

CC      ?= cc
PKGS    := lua5.4 libcurl openssl sqlite3
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -Wall -Wextra -Werror -fPIC -D_GNU_SOURCE
CFLAGS  += $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lz -lm
# The module for stock lua5.4 must not carry a second copy of Lua.
SO_LIBS := $(filter-out -llua5.4,$(LDLIBS))

# Primitives: each file is one Lua module "host.NAME".
HOST_SOURCES := host/clock.c host/fs.c host/kinesis.c host/http.c host/runtime.c host/sigv4.c host/sqlite.c host/memory.c host/results.c
MAIN_SOURCE  := host/main.c

OBJECTS     := $(HOST_SOURCES:host/%.c=build/%.o)
MAIN_OBJECT := build/main.o

BUILD_DEBS := lua5.4 liblua5.4-dev lua-cjson lua-cjson-dev \
              libcurl4-openssl-dev libssl-dev libsqlite3-dev zlib1g-dev \
              ca-certificates pkg-config gcc make
TEST_DEBS  := lua-busted lua-check valgrind cppcheck zip unzip jq openssl curl

.PHONY: all deps test-deps run test bench package lint clean c-tests

all: deps bin/host bin/host.so

bin/host: $(MAIN_OBJECT) $(OBJECTS) | bin
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

bin/host.so: $(OBJECTS) | bin
	$(CC) $(CFLAGS) -shared -o $@ $^ $(LDFLAGS) $(SO_LIBS)

build/%.o: host/%.c host/*.h | build
	$(CC) $(CFLAGS) -c -o $@ $<

bin build build/tests:
	mkdir -p $@

# C unit tests: spec/c/test_NAME.c, linked against the primitives.
C_TESTS := $(patsubst spec/c/%.c,build/tests/%,$(wildcard spec/c/test_*.c))

c-tests: $(C_TESTS)

build/tests/%: spec/c/%.c $(OBJECTS) | build/tests
	$(CC) $(CFLAGS) -Ihost -o $@ $^ $(LDFLAGS) $(LDLIBS)

# deps: install (as root) or name (otherwise) the missing Debian packages.
deps:
	@sh spec/support/ensure-debs.sh $(BUILD_DEBS)

test-deps: deps
	@sh spec/support/ensure-debs.sh $(TEST_DEBS)
	@sh spec/support/ensure-node.sh

run: all
	@bin/host run --engine local --data samples/data --clock 2020-02-13T22:06:20Z

test: all test-deps
	@sh spec/run

bench: all test-deps
	@sh spec/bench/run

# The Lambda zip (dist/streamquery-lambda.zip); see deploy/package.sh.
package: all
	@sh spec/support/ensure-debs.sh zip binutils
	sh deploy/package.sh

lint: all
	luacheck -q lua spec scheduled_queries
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
	  --std=c11 host

clean:
	rm -rf bin build dist
