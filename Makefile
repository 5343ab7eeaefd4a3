# lgcn - LightGCN movie recommender toolkit.
#   make            build bin/lgcn-*
#   make check      build and run the tests (SANITIZE=1: under ASan/UBSan)
#   make demo       the main job on real MovieLens data
#   make bench      benchmarks (scripts/bench)

CC      ?= cc
ARCH    ?= -march=native
OPT     ?= -O3
CFLAGS  ?= $(OPT) $(ARCH) -g
CFLAGS  += -std=gnu11 -Wall -Wextra -fopenmp -Icore
LDLIBS  += -lcsv -lopenblas -lm -fopenmp -lpthread
# link only the libraries a command uses: lgcn-recommend then starts without
# OpenBLAS and its thread pool
LDFLAGS += -Wl,--as-needed

ifeq ($(SANITIZE),1)
CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
BUILD   ?= build/sanitize
BINDIR  ?= $(BUILD)/bin
else
BUILD   ?= build/release
BINDIR  ?= bin
endif

CMDS    := prep train eval recommend rate
BINS    := $(CMDS:%=$(BINDIR)/lgcn-%)
CORE_SRC := $(wildcard core/*.c)
CORE_OBJ := $(CORE_SRC:core/%.c=$(BUILD)/core/%.o)
LIB     := $(BUILD)/liblgcn.a
TEST_SRC := $(wildcard tests/test_*.c)
TESTS   := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

all: deps-check $(BINS)

# Install missing Debian packages (scripts/install-deps) before building.
deps-check:
	@scripts/install-deps --check 2>/dev/null || scripts/install-deps

$(BUILD)/core/%.o: core/%.c $(wildcard core/*.h) | $(BUILD)/core
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIB): $(CORE_OBJ)
	rm -f $@
	ar rcs $@ $^

# Release binaries go to bin/, sanitized ones to build/sanitize/bin/.
$(BINDIR)/lgcn-%: cmd/lgcn-%.c cmd/cmdutil.h $(LIB) | $(BINDIR)
	$(CC) $(CFLAGS) -Icmd $(LDFLAGS) -o $@ $< $(BUILD)/cmd/cmdutil.o $(LIB) $(LDLIBS)

$(BUILD)/cmd/cmdutil.o: cmd/cmdutil.c cmd/cmdutil.h $(wildcard core/*.h) | $(BUILD)/cmd
	$(CC) $(CFLAGS) -Icmd -c -o $@ $<

$(BINS): $(BUILD)/cmd/cmdutil.o

$(BUILD)/tests/%: tests/%.c tests/test.h $(LIB) | $(BUILD)/tests
	$(CC) $(CFLAGS) -Itests $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(BUILD)/core $(BUILD)/cmd $(BUILD)/tests $(BINDIR):
	mkdir -p $@

check: all $(TESTS)
	@LGCN_BIN=$(BINDIR) tests/run $(TESTS)

demo: all
	scripts/demo

bench: all
	scripts/bench

PREFIX  ?= /usr/local
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/

clean:
	rm -rf build bin

.PHONY: all deps-check check demo bench install clean
.DELETE_ON_ERROR:
