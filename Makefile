# phpeekd: a PID 1 process supervisor for PHP containers.
# GNU make; `make V=1` shows the commands.

PREFIX ?=	/usr/local
SBINDIR ?=	$(PREFIX)/sbin
MANDIR ?=	$(PREFIX)/share/man
SHAREDIR ?=	$(PREFIX)/share/phpeekd
INSTALL ?=	install

CC ?=		cc
PKG_CONFIG ?=	pkg-config
PKGS =		libevent libevent_openssl openssl yaml-0.1 libbsd-overlay json-c \
		libcurl libseccomp libpcre2-8

# Small over fast: a supervisor waits in the kernel, and every page of
# its text is paid for once per role.  The log pipeline is the one hot
# path of its own: built for speed below.
CFLAGS ?=	-Os -g
CFLAGS +=	-std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
		-Wstrict-prototypes -Wmissing-prototypes \
		-Wmissing-declarations -Wshadow -Wpointer-arith \
		-Wsign-compare -Wno-unused-parameter
CFLAGS +=	$(shell $(PKG_CONFIG) --cflags $(PKGS))
ifeq ($(SANITIZE),1)
CFLAGS +=	-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
		-fno-sanitize-recover=undefined
LDFLAGS +=	-fsanitize=address,undefined
endif
LDLIBS +=	$(shell $(PKG_CONFIG) --libs $(PKGS))
# The daemon links neither libcurl nor OpenSSL: the one role that needs
# each opens it by its soname (phpeekd/dl.c).
PHPEEKD_PKGS =	libevent yaml-0.1 libbsd-overlay json-c libseccomp libpcre2-8
PHPEEKD_LDLIBS = $(shell $(PKG_CONFIG) --libs $(PHPEEKD_PKGS))
soname =	$(shell objdump -p "$$($(PKG_CONFIG) --variable=libdir $(1))/$(2).so" \
		    2>/dev/null | sed -n 's/^ *SONAME *//p')
SONAMES =	-DCURL_SONAME='"$(call soname,libcurl,libcurl)"' \
		-DEVSSL_SONAME='"$(call soname,libevent_openssl,libevent_openssl)"'
CFLAGS +=	$(SONAMES)
CHECK_CFLAGS =	$(shell $(PKG_CONFIG) --cflags check)
CHECK_LIBS =	$(shell $(PKG_CONFIG) --libs check)

ifeq ($(V),1)
Q =
else
Q =		@
endif

PHPEEKD_SRCS =	phpeekd/phpeekd.c phpeekd/proc.c phpeekd/imsg.c \
		phpeekd/log.c phpeekd/config.c phpeekd/parse.c \
		phpeekd/engine.c phpeekd/process.c phpeekd/logpipe.c \
		phpeekd/api.c phpeekd/spawn.c phpeekd/util.c \
		phpeekd/sandbox.c phpeekd/order.c phpeekd/state.c \
		phpeekd/control.c phpeekd/listen.c phpeekd/watch.c phpeekd/sample.c \
		phpeekd/health.c phpeekd/curlev.c phpeekd/hook.c phpeekd/cron.c phpeekd/notify.c phpeekd/metrics.c phpeekd/sched.c phpeekd/heartbeat.c phpeekd/acl.c phpeekd/autotune.c phpeekd/apitls.c phpeekd/edit.c phpeekd/run.c phpeekd/framework.c phpeekd/fcgi.c phpeekd/fpm.c phpeekd/logintel.c \
		phpeekd/logframe.c phpeekd/dl.c phpeekd/readyfile.c \
		phpeekd/apihttp.c
PHPEEKD_OBJS =	$(PHPEEKD_SRCS:.c=.o)
PHPEEKCTL_SRCS = phpeekctl/phpeekctl.c
PHPEEKCTL_OBJS = $(PHPEEKCTL_SRCS:.c=.o)

UNIT_TESTS =	$(patsubst %.c,%,$(wildcard regress/unit/*_test.c))
imsg_test_OBJS = phpeekd/imsg.o
cron_test_OBJS = phpeekd/cron.o phpeekd/util.o phpeekd/log.o
acl_test_OBJS = phpeekd/acl.o phpeekd/util.o phpeekd/log.o
autotune_test_OBJS = phpeekd/autotune.o phpeekd/log.o
logintel_test_OBJS = phpeekd/logintel.o
fcgi_test_OBJS = phpeekd/fcgi.o
parse_test_OBJS = phpeekd/parse.o phpeekd/config.o phpeekd/util.o phpeekd/cron.o phpeekd/acl.o phpeekd/edit.o phpeekd/logintel.o \
		phpeekd/log.o phpeekd/imsg.o phpeekd/proc.o phpeekd/sandbox.o

MANPAGES =	man/phpeekd.8 man/phpeekd.yaml.5 man/phpeekctl.8

.PHONY: all clean deps test unit regress lint demo fuzz test-sanitize \
		install uninstall


# libFuzzer targets, built with clang; each runs FUZZ_SECONDS in `make test`
FUZZ_CC ?=	clang
FUZZ_SECONDS ?=	10
FUZZ_CFLAGS =	-g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
		$(shell $(PKG_CONFIG) --cflags $(PKGS)) -Iphpeekd $(SONAMES)
FUZZERS =	regress/fuzz/imsg_fuzz regress/fuzz/parse_fuzz \
		regress/fuzz/cron_fuzz regress/fuzz/logframe_fuzz \
		regress/fuzz/api_fuzz regress/fuzz/fcgi_fuzz \
		regress/fuzz/logintel_fuzz
api_fuzz_SRCS =	$(filter-out phpeekd/phpeekd.c,$(PHPEEKD_SRCS))
cron_fuzz_SRCS = phpeekd/cron.c phpeekd/util.c phpeekd/log.c
logframe_fuzz_SRCS = phpeekd/logframe.c
logintel_fuzz_SRCS = phpeekd/logintel.c
fcgi_fuzz_SRCS = phpeekd/fcgi.c
imsg_fuzz_SRCS = phpeekd/imsg.c
parse_fuzz_SRCS = phpeekd/parse.c phpeekd/config.c phpeekd/util.c phpeekd/cron.c phpeekd/acl.c phpeekd/edit.c phpeekd/logintel.c \
		phpeekd/log.c phpeekd/imsg.c phpeekd/proc.c phpeekd/sandbox.c

all: phpeekd/phpeekd phpeekctl/phpeekctl

# The same daemon with a sandbox-violation trigger, for regress only.
phpeekd/phpeekd-regress: $(PHPEEKD_SRCS) phpeekd/phpeekd.h phpeekd/imsg.h \
    phpeekd/log.h
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) -DPHPEEKD_REGRESS $(LDFLAGS) -o $@ \
	    $(PHPEEKD_SRCS) $(PHPEEKD_LDLIBS)

phpeekd/phpeekd: $(PHPEEKD_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(PHPEEKD_OBJS) $(PHPEEKD_LDLIBS)

phpeekctl/phpeekctl.o: phpeekctl/phpeekctl.c
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -DPHPEEKD_SHAREDIR=\"$(SHAREDIR)\" -c -o $@ $<

phpeekctl/phpeekctl: $(PHPEEKCTL_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(PHPEEKCTL_OBJS) $(LDLIBS)

phpeekd/logintel.o phpeekd/logframe.o: CFLAGS += -O2

%.o: %.c phpeekd/phpeekd.h phpeekd/imsg.h phpeekd/log.h
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

.SECONDEXPANSION:
regress/unit/%_test: regress/unit/%_test.c $$(%_test_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(CHECK_CFLAGS) -Iphpeekd -o $@ $< \
	    $($*_test_OBJS) $(LDLIBS) $(CHECK_LIBS)

.SECONDEXPANSION:
regress/fuzz/%_fuzz: regress/fuzz/%_fuzz.c $$(%_fuzz_SRCS) phpeekd/phpeekd.h
	@echo "  FUZZ    $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $($*_fuzz_SRCS) $(LDLIBS)

fuzz: $(FUZZERS)
	$(Q)set -e; for f in $(FUZZERS); do \
	    n=$${f##*/}; n=$${n%_fuzz}; c=regress/fuzz/corpus-$$n; \
	    mkdir -p $$c; \
	    echo "== $$f ($(FUZZ_SECONDS)s)"; \
	    ./$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 \
	        $$c regress/fuzz/seeds-$$n 2>$$c.log || \
	        { tail -n 30 $$c.log; exit 1; }; \
	    tail -n 1 $$c.log; \
	done

deps:
	$(Q)sh regress/deps.sh

unit: $(UNIT_TESTS)
	$(Q)set -e; for t in $(UNIT_TESTS); do echo "== $$t"; ./$$t; done

regress: all phpeekd/phpeekd-regress
	$(Q)sh regress/config/run.sh
	$(Q)set -e; for f in etc/phpeekd.yaml share/examples/*.yaml; do \
	    ./phpeekd/phpeekd -n -f $$f; done
	$(Q)sh regress/run.sh

lint:
	$(Q)mandoc -Tlint -Wwarning $(MANPAGES)
	@echo "mandoc -Tlint: clean"

test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory unit
	$(Q)$(MAKE) --no-print-directory lint
	$(Q)$(MAKE) --no-print-directory regress
	$(Q)$(MAKE) --no-print-directory fuzz

# The whole suite again, built with AddressSanitizer and UBSan.  Leak
# checking needs ptrace, which the roles' seccomp filters refuse, so
# it runs in the unit tests only.
test-sanitize: deps
	$(Q)$(MAKE) --no-print-directory clean >/dev/null
	$(Q)$(MAKE) --no-print-directory SANITIZE=1 all unit
	$(Q)ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
	    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    $(MAKE) --no-print-directory SANITIZE=1 regress
	$(Q)$(MAKE) --no-print-directory clean >/dev/null

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	./phpeekd/phpeekd -d -f etc/phpeekd.yaml

install: all
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SHAREDIR)/examples
	$(INSTALL) -m 0755 phpeekd/phpeekd phpeekctl/phpeekctl \
	    $(DESTDIR)$(SBINDIR)
	$(INSTALL) -m 0644 man/phpeekd.yaml.5 $(DESTDIR)$(MANDIR)/man5
	$(INSTALL) -m 0644 man/phpeekd.8 man/phpeekctl.8 \
	    $(DESTDIR)$(MANDIR)/man8
	$(INSTALL) -m 0644 etc/phpeekd.yaml $(DESTDIR)$(SHAREDIR)/phpeekd.yaml
	$(INSTALL) -m 0644 share/examples/*.yaml \
	    $(DESTDIR)$(SHAREDIR)/examples

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/phpeekd $(DESTDIR)$(SBINDIR)/phpeekctl \
	    $(DESTDIR)$(MANDIR)/man5/phpeekd.yaml.5 \
	    $(DESTDIR)$(MANDIR)/man8/phpeekd.8 \
	    $(DESTDIR)$(MANDIR)/man8/phpeekctl.8
	rm -rf $(DESTDIR)$(SHAREDIR)

clean:
	rm -f $(PHPEEKD_OBJS) $(PHPEEKCTL_OBJS) phpeekd/phpeekd \
	    phpeekd/phpeekd-regress \
	    phpeekctl/phpeekctl $(UNIT_TESTS) regress/unit/*.o $(FUZZERS)
