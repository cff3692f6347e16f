# SPDX-License-Identifier: GPL-2.0-or-later
# Two entry points that do all setup on a fresh Debian 12 machine:
#   make run    install missing packages, build, sync the shipped CVE sample
#               into an embedded (SQLite) database and print it
#   make check  install, build, run every test (unit, integration, both
#               database backends) normally and under ASan+UBSan
# Everything else is plain meson: see README.md.

PACKAGES := build-essential meson ninja-build pkg-config git python3 \
	libgit2-dev libsqlite3-dev libpq-dev libjansson-dev libcurl4-openssl-dev \
	libcmocka-dev zlib1g-dev libssl-dev libmicrohttpd-dev libdw-dev libelf-dev \
	dpkg-dev xz-utils flex bison bc dwarves patch openssl \
	qemu-system-x86 busybox-static cpio jq \
	postgresql postgresql-common util-linux ca-certificates time wrk faketime

BUILD ?= build
BUILD_ASAN ?= build-asan
RUN_DIR := $(BUILD)/run
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build run check check-asan bench clean

all: build

deps:
	@missing=""; \
	for p in $(PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' "$$p" 2>/dev/null | grep -q '^install ok installed$$' || missing="$$missing $$p"; \
	done; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# The main job on the embedded default: a vulns-style git repository built
# from the real CNA records shipped in tests/data, synced into SQLite under
# $(RUN_DIR), then the KEV sample, then the list and one record.
run: build
	@rm -rf $(RUN_DIR) && mkdir -p $(RUN_DIR)
	sh tools/mk-sample-vulns.sh tests/data/cve-records $(RUN_DIR)/sample-vulns
	TUXTAPE_CORE_DATA_DIR=$(RUN_DIR)/data $(BUILD)/src/cli/tuxtape cve sync \
		--source $(RUN_DIR)/sample-vulns --kev tests/data/kev/kev-kernel-subset.json \
		--epss tests/data/epss/epss_scores-2026-09-29.EXCERPT.csv
	TUXTAPE_CORE_DATA_DIR=$(RUN_DIR)/data $(BUILD)/src/cli/tuxtape cve list
	TUXTAPE_CORE_DATA_DIR=$(RUN_DIR)/data $(BUILD)/src/cli/tuxtape cve show CVE-2024-53104
	TUXTAPE_CORE_DATA_DIR=$(RUN_DIR)/data $(BUILD)/src/cli/tuxtape kernel add sample-6.1.100 \
		--version 6.1.100 --config tests/data/kernel/sample.config \
		--profile tests/data/kernel/sample.profile
	TUXTAPE_CORE_DATA_DIR=$(RUN_DIR)/data $(BUILD)/src/cli/tuxtape kernel cves sample-6.1.100 --summary
	TUXTAPE_CORE_DATA_DIR=$(RUN_DIR)/data $(BUILD)/src/cli/tuxtape cve rank --kernel sample-6.1.100 --explain -n 3

$(BUILD_ASAN)/build.ninja:
	meson setup $(BUILD_ASAN) -Db_sanitize=address,undefined -Db_lundef=false

# Every test, twice (plain and ASan+UBSan), against SQLite and a throwaway
# PostgreSQL cluster that pg_virtualenv starts and removes.
check: deps $(BUILD)/build.ninja $(BUILD_ASAN)/build.ninja
	ninja -C $(BUILD)
	ninja -C $(BUILD_ASAN)
	sh tools/run-tests.sh $(BUILD) $(BUILD_ASAN)

bench: build
	sh bench/cve-sync.sh
	sh bench/gauge-rank.sh
	sh bench/klog.sh
	sh bench/archive-publish.sh
	sh bench/archive-serve.sh

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
