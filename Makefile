# incmodel: PGXS is the authority for building, installing and installcheck.
# C++17 sources under src/core (PostgreSQL-free) and src/pg (the adapter).

EXTENSION = incmodel
# The version is written once, as incmodel.control's default_version: the C++ gets it as
# INCMODEL_VERSION (src/core/version.hpp), CMakeLists.txt reads the same line, and test/run-all
# checks that META.json agrees (test/check-version).
EXTVERSION := $(shell sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" incmodel.control)
ifeq ($(EXTVERSION),)
$(error incmodel.control has no default_version)
endif
MODULE_big = incmodel

CORE_SRCS = $(sort $(wildcard src/core/*.cpp))
PG_SRCS   = $(sort $(wildcard src/pg/*/*.cpp))
CORE_OBJS = $(CORE_SRCS:.cpp=.o)
PG_OBJS   = $(PG_SRCS:.cpp=.o)
OBJS = $(CORE_OBJS) $(PG_OBJS)

DATA = $(sort $(wildcard sql/ext/incmodel--*.sql))

# pg_regress: the schedule lists every test in sql/ (expected output in expected/).
REGRESS = --schedule=test/regress_schedule
REGRESS_OPTS = --temp-instance=tmp_check --inputdir=. --outputdir=. --encoding=UTF8 --no-locale \
               --temp-config=test/regress.conf

# isolationtester specs under test/isolation/specs, expected output in test/isolation/expected.
ISOLATION = $(basename $(notdir $(sort $(wildcard test/isolation/specs/*.spec))))
ISOLATION_OPTS = --temp-instance=tmp_check_iso --inputdir=test/isolation --outputdir=output_iso \
                 --encoding=UTF8 --no-locale \
                 --temp-config=test/isolation.conf

PG_CONFIG ?= pg_config
PG_CPPFLAGS = -isystem $(shell $(PG_CONFIG) --includedir-server) -Isrc \
              -DINCMODEL_VERSION='"$(EXTVERSION)"'
PG_CXXFLAGS = -std=c++17 -MMD -MP
# Warnings. The core's are listed once, in src/core/warning_flags, which CMakeLists.txt reads too:
# the core compiles with the same warnings in both builds. The adapter (src/pg) uses them less
# what PostgreSQL's headers and fmgr conventions trip (unused fcinfo, partly initialized structs,
# casts of function pointers, fall-through in its macros).
CORE_WARNINGS := $(shell sed -e 's/\#.*//' src/core/warning_flags)
ADAPTER_WARNINGS := $(CORE_WARNINGS) -Wno-unused-parameter -Wno-missing-field-initializers \
                    -Wno-cast-function-type -Wno-implicit-fallthrough
$(CORE_OBJS): override CXXFLAGS += $(CORE_WARNINGS)
$(PG_OBJS): override CXXFLAGS += $(ADAPTER_WARNINGS)
SHLIB_LINK = -lfmt -lstdc++
EXTRA_CLEAN = build output_iso results regression.diffs regression.out tmp_check tmp_check_iso log

# The server is built with LLVM, but incmodel ships no JIT bitcode.
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Header dependencies (-MMD): a changed header rebuilds every object that includes it; a new
# version in incmodel.control or a new warning list rebuilds every object (both are on their
# command lines).
-include $(OBJS:.o=.d)
$(OBJS): incmodel.control src/core/warning_flags
EXTRA_CLEAN += $(OBJS:.o=.d)

# The synthetic event generator used by the demo, tests and benchmarks (not part of the extension).
include tools/eventgen/Makefile.inc
all: $(EVENTGEN_BIN)
clean: clean-eventgen
clean-eventgen:
	rm -f $(EVENTGEN_CLEAN)

# The `incmodel` command-line tool (libpq), when present.
-include cli/Makefile.inc

# Unit tests of the PostgreSQL-free core (GoogleTest through CMake; also writes compile_commands.json).
.PHONY: unittest clean-eventgen FORCE
unittest:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build build -j2
	cd build && ctest --output-on-failure

# The regression cluster's settings, with the absolute path of the event generator so that
# tests can load synthetic events with COPY ... FROM PROGRAM.
# SHARED_DATA: the shared/data folder beside the checkout (the test runner passes it when it runs
# from a copy of the repository).
SHARED_DATA ?= $(abspath ../shared/data)
test/regress.conf: test/regress.conf.in $(EVENTGEN_BIN) FORCE
	sed -e 's|@EVENTGEN@|$(abspath $(EVENTGEN_BIN))|g' -e 's|@SHARED_DATA@|$(SHARED_DATA)|g' $< > $@
FORCE:
# Isolation clusters run without the preloaded workers (they would look for contrib_regression).
test/isolation.conf: test/regress.conf
	grep -v -e '^shared_preload_libraries' -e '^cron\.' -e '^incmodel.maintenance' $< > $@
installcheck: test/regress.conf test/isolation.conf $(EVENTGEN_BIN)
EXTRA_CLEAN += test/regress.conf test/isolation.conf
