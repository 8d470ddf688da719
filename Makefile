# Quick start: `make demo` (the main job, on local files) and `make test` (every test).
# Both install what they need first (scripts/install-deps.sh, idempotent).

SWIFT      ?= swift
# One libvips for every build: the quick start, the tests, the Lambda bundle, the fuzzer and the
# benchmarks all link the single-file libvips 8.18 from PyPI's pyvips-binary
# (scripts/fetch-libvips-wheel.sh), in one build folder (.build). HEIC goes through Debian's
# libheif + libde265, opened when one arrives (Sources/CHeif), JPEG XL through Debian's libjxl
# (Sources/CJxl). VIPS=debian links Debian's
# libvips 8.14 instead, in .build-debian: an opt-in, slower at start-up and per image.
VIPS       ?= wheel
ifeq ($(VIPS),wheel)
SCRATCH    := .build
VIPS_ENV   := PKG_CONFIG_PATH=$(CURDIR)/.vips-wheel/pkgconfig
VIPS_LINK  := -Xlinker -rpath -Xlinker $(CURDIR)/.vips-wheel/lib
VIPS_FETCH := scripts/fetch-libvips-wheel.sh
else
SCRATCH    := .build-debian
VIPS_ENV   :=
VIPS_LINK  :=
VIPS_FETCH := true
endif
# The CLI links the Swift runtime statically: ~10 ms less start-up per process (see README).
RELEASE    := -c release --static-swift-stdlib --scratch-path $(SCRATCH) $(VIPS_LINK)
DEBUG      := --scratch-path $(SCRATCH) $(VIPS_LINK)
IMGFN      := $(SCRATCH)/release/imgfn
DEMO_OUT   := out/demo

.PHONY: all deps build demo test lint format fuzz asan unit-test lint-template lambda lambda-test clean fixtures matrix-fixtures \
        bench bench-quick bench-baseline bench-prepare

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@$(VIPS_FETCH)
	$(VIPS_ENV) $(SWIFT) build $(RELEASE) --product imgfn
	$(VIPS_ENV) $(SWIFT) build $(RELEASE) --product imgfn-service

# The main job on the embedded default store: an S3 upload event for a photo in a local
# "bucket" directory becomes its derivative set and manifest beside it.
demo: build
	@rm -rf $(DEMO_OUT) && mkdir -p $(DEMO_OUT)/bucket/uploads/2024
	@cp Fixtures/photos/storm.jpg $(DEMO_OUT)/bucket/uploads/2024/storm.jpg
	@$(IMGFN) events s3-put --bucket demo --key uploads/2024/storm.jpg \
	  --size $$(stat -c %s Fixtures/photos/storm.jpg) > $(DEMO_OUT)/event.json
	@echo "S3 put event for s3://demo/uploads/2024/storm.jpg ($(DEMO_OUT)/event.json), store: $(DEMO_OUT)/bucket"
	@$(IMGFN) invoke --event $(DEMO_OUT)/event.json --store $(DEMO_OUT)/bucket
	@echo "Wrote:"; cd $(DEMO_OUT)/bucket && find derived -type f | sort | xargs ls -l | awk '{printf "  %8d bytes  $(DEMO_OUT)/bucket/%s\n", $$5, $$9}'

# Every test: the layer and format checks, the Swift suites, the deployment template's lint,
# then the Lambda bundle run in an empty root (needs root).
test: lint unit-test lint-template lambda-test

# Imports point down the layers (scripts/check-layers.sh); the code is as `swift format` writes
# it (.swift-format): `make format` rewrites it so.
lint:
	scripts/check-layers.sh
	$(SWIFT) format lint --strict -r Sources Tests Benchmarks/Sources Fuzz/Sources Package.swift

format:
	$(SWIFT) format format -i -r Sources Tests Benchmarks/Sources Fuzz/Sources Package.swift

lint-template: deps
	cfn-lint template.yaml

# IMGFN_EXPECT_LIBVIPS: a test checks the binaries under test linked that libvips.
unit-test: deps matrix-fixtures
	@$(VIPS_FETCH)
	$(VIPS_ENV) $(SWIFT) build --build-tests $(DEBUG)
	IMGFN_EXPECT_LIBVIPS=$(if $(filter wheel,$(VIPS)),$$(sed -n 's/^Version: //p' .vips-wheel/pkgconfig/vips.pc),) \
	  $(SWIFT) test --skip-build --disable-xctest $(DEBUG)

# build/lambda/function.zip for provided.al2023 (see scripts/package-lambda.sh).
lambda: deps
	scripts/package-lambda.sh

lambda-test: lambda matrix-fixtures
	python3 Tests/LambdaBundle/empty_root_test.py build/lambda/function.zip

# Benchmarks (README "Performance"): ours against vipsthumbnail, ImageMagick, Pillow and the
# libjpeg-turbo floor in the same run, the Lambda bundle's cold start, warm in-process latency.
# Ours is the build the quick start makes and the bundle ships (the one libvips, .build).
# `bench` is the full run (also a Debian-linked bootstrap, and updates README's table);
# `bench-quick` the bounded CI run, gated on Benchmarks/baseline.json; `bench-baseline`
# rewrites that baseline: each figure's median over three quick runs.
BENCH_TOOLS := build/bench-tools
BENCH_ARGS  := --imgfn .build/release/imgfn --bundle build/lambda/root --tools $(BENCH_TOOLS)

bench-prepare: deps lambda matrix-fixtures
	@scripts/install-deps.sh --bench
	@scripts/fetch-bench-photos.sh
	@mkdir -p $(BENCH_TOOLS)
	gcc -O2 -Wall -o $(BENCH_TOOLS)/timed-run Benchmarks/tools/timed-run.c
	gcc -O2 -Wall -o $(BENCH_TOOLS)/next-client Benchmarks/tools/next-client.c
	$(MAKE) --no-print-directory build VIPS=wheel
	$(VIPS_ENV) $(SWIFT) build $(RELEASE) --product imgfn-bench

bench: bench-prepare
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-debian --product bootstrap
	.build/release/imgfn-bench $(BENCH_ARGS) --debian-bootstrap .build-debian/release/bootstrap --update-readme

bench-quick: bench-prepare
	.build/release/imgfn-bench $(BENCH_ARGS) --quick --gate

bench-baseline: bench-prepare
	.build/release/imgfn-bench $(BENCH_ARGS) --quick --write-baseline

# The realistic inputs of the every-input-through-every-path test (Tests/imgfnTests/InputMatrixTests):
# 12 MP sideways phone photos and other large shapes, made from the fetched photos (not committed).
matrix-fixtures: deps
	@scripts/fetch-bench-photos.sh
	@python3 Fixtures/make-matrix-fixtures.py

# The decode path under libFuzzer and AddressSanitizer (Fuzz/Sources/imgfn-fuzz), seeded from the
# fixtures, for FUZZ_SECONDS (CI: 120); an input that crashes, hangs or blows memory fails it.
FUZZ_SECONDS ?= 120
FUZZ_BUILD   := -c release --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xcc -DFUZZING
# Linked with the libvips every other build uses (its own build folder: other flags).
fuzz: deps matrix-fixtures
	@$(VIPS_FETCH)
	$(VIPS_ENV) $(SWIFT) build $(FUZZ_BUILD) $(VIPS_LINK) --product imgfn-fuzz
	scripts/fuzz.sh $(FUZZ_SECONDS)

# The imaging core's tests under AddressSanitizer (our Swift code instrumented; libvips is not).
# Builds every test target with ASan in .build-asan: slow (minutes), so not part of make test.
asan: deps matrix-fixtures
	@$(VIPS_FETCH)
	$(VIPS_ENV) $(SWIFT) build --build-tests --scratch-path .build-asan --sanitize=address $(VIPS_LINK)
	ASAN_OPTIONS=detect_leaks=0 $(SWIFT) test --skip-build --scratch-path .build-asan --sanitize=address \
	  --disable-xctest --filter ImagePipelineTests

# Regenerates Fixtures/ from Fixtures/photos (needs libvips-tools, imagemagick, exiftool, libheif-examples).
fixtures:
	Fixtures/make-fixtures.sh

clean:
	rm -rf .build .build-debian .build-fuzz .build-asan .vips-wheel out build
