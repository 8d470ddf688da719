# Quick start: `make demo` (the main job, on local files) and `make test` (every test).
# Both install what they need first (scripts/install-deps.sh, idempotent).

SWIFT      ?= swift
# The CLI links the Swift runtime statically: ~10 ms less start-up per process (see README).
RELEASE    := -c release --static-swift-stdlib
# VIPS=debian (default) links Debian's libvips 8.14; VIPS=wheel links the single-file libvips
# 8.18 from PyPI's pyvips-binary (much faster start-up, no HEVC decoder: no HEIC input).
VIPS       ?= debian
ifeq ($(VIPS),wheel)
SCRATCH    := .build-wheel
WHEEL_ENV  := PKG_CONFIG_PATH=$(CURDIR)/.vips-wheel/pkgconfig
RELEASE    += --scratch-path $(SCRATCH) -Xlinker -rpath -Xlinker $(CURDIR)/.vips-wheel/lib
else
SCRATCH    := .build
endif
IMGFN      := $(SCRATCH)/release/imgfn
DEMO_OUT   := out/demo

.PHONY: all deps build demo test clean fixtures

all: build

deps:
	@scripts/install-deps.sh

build: deps
ifeq ($(VIPS),wheel)
	@scripts/fetch-libvips-wheel.sh
endif
	$(WHEEL_ENV) $(SWIFT) build $(RELEASE) --product imgfn

demo: build
	@mkdir -p $(DEMO_OUT)
	@echo "Resizing Fixtures/photos/storm.jpg (1920×1280) into $(DEMO_OUT)/:"
	@for w in 320 640 1280; do \
	  $(IMGFN) resize Fixtures/photos/storm.jpg --width $$w -o $(DEMO_OUT)/storm-$${w}w.jpg >/dev/null; \
	  $(IMGFN) resize Fixtures/photos/storm.jpg --width $$w -o $(DEMO_OUT)/storm-$${w}w.webp >/dev/null; \
	done
	@$(IMGFN) resize Fixtures/photos/storm.jpg --width 1280 --format avif -o $(DEMO_OUT)/storm-1280w.avif >/dev/null
	@$(IMGFN) resize Fixtures/photos/storm.jpg --width 256 --height 256 --fit cover --gravity attention \
	  -o $(DEMO_OUT)/storm-256sq.jpg >/dev/null
	@echo "Wrote:"; ls -l $(DEMO_OUT) | awk 'NR>1 {printf "  %8d bytes  %s\n", $$5, $$9}'

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-xctest

# Regenerates Fixtures/ from Fixtures/photos (needs libvips-tools, imagemagick, exiftool, libheif-examples).
fixtures:
	Fixtures/make-fixtures.sh

clean:
	rm -rf .build .build-wheel .vips-wheel out
