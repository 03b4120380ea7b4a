# Set-up and the two entry points: `make demo` and `make test`.
# Everything installs on first use: a virtualenv in .venv with fraudwall and its
# test tools, and (for the tests) the Debian packages of the real consumers.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Debian packages whose real programs the tests drive: BIND's named-checkzone, Squid,
# nft and ipset, Unbound (server and unbound-checkconf), dnsmasq, BIND's named, PowerDNS Recursor,
# Knot Resolver.
TEST_DEB_PACKAGES := bind9-utils squid nftables ipset unbound dnsmasq-base bind9 pdns-recursor knot-resolver redis-server chromium
TEST_COMMANDS     := named-checkzone squid nft ipset unbound unbound-checkconf dnsmasq named pdns_recursor kresd redis-server chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test install system-packages clean

demo: $(STAMP) ## Crawl the built-in demo site and write blocklists to demo-out/
	$(BIN)/fraudwall demo --out demo-out

test: $(STAMP) system-packages ## Run the whole test suite
	$(BIN)/python -m pytest

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	@$(PYTHON) -m venv --help >/dev/null 2>&1 && $(PYTHON) -c 'import ensurepip' 2>/dev/null || \
	  { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3-venv; }
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,render]'
	touch $@

# Installed resolvers must not start as services: a running recursor primes itself from the
# root servers. policy-rc.d (exit 101) tells Debian's maintainer scripts not to start anything;
# one is put in place for the install only, where the machine has none.
INSTALL_WITHOUT_STARTING := \
	added=; if [ ! -e /usr/sbin/policy-rc.d ]; then \
	  printf "\#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && added=yes; fi; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(TEST_DEB_PACKAGES); \
	status=$$?; [ -z "$$added" ] || rm -f /usr/sbin/policy-rc.d; exit $$status

system-packages:
	@missing=""; for c in $(TEST_COMMANDS); do command -v $$c >/dev/null 2>&1 || missing=yes; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $(TEST_DEB_PACKAGES)"; \
	  $(SUDO) sh -c '$(INSTALL_WITHOUT_STARTING)'; \
	fi

clean:
	rm -rf $(VENV) demo-out *.egg-info
