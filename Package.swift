// swift-tools-version:6.1

import PackageDescription

// Layers, arrows pointing down only (README "Data flow", checked by scripts/check-layers.sh):
//   shells       imgfn (CLI) and imgfn-service (its invoke/backfill), ResizeFunction (Lambda
//                bootstrap), imgfn-bench
//   CLI          CLISupport: what the two CLI binaries share
//   wiring       ServiceWiring: store locations and the store, queue and event-bus factories
//   requests     ImageRequests: an HTTP request (signed imgproxy-style URL or preset) → response
//   service      ImageService: events, handler, output keys, manifest, filesystem store
//   libraries    ImagePipeline (imaging, links libvips)   S3Store (SigV4 + S3, links AsyncHTTPClient)
//   base         ImgfnBase: the error type, SourceBytes, AtomicFile, the BlobStore protocol
//   C            CVips, CHeif and CJxl (HEIC and JPEG XL through the system's libheif and libjxl,
//                opened only when one arrives)
// Heavy dependencies stay in the targets that need them, so the imaging core, the service and
// the benchmarks build and start without an HTTP client, and S3Store without libvips.
let package = Package(
    name: "imgfn",
    // Linux only: the stores and the function use glibc (O_TMPFILE, st_mtim, mallopt, /proc).
    products: [
        .library(name: "ImagePipeline", targets: ["ImagePipeline"]),
        .library(name: "ImageService", targets: ["ImageService"]),
        .library(name: "S3Store", targets: ["S3Store"]),
        .executable(name: "imgfn", targets: ["imgfn"]),
        .executable(name: "imgfn-service", targets: ["imgfn-service"]),
        .executable(name: "bootstrap", targets: ["ResizeFunction"]),
        .executable(name: "imgfn-bench", targets: ["imgfn-bench"]),
        .executable(name: "imgfn-fuzz", targets: ["imgfn-fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CVips",
            pkgConfig: "vips",
            providers: [.apt(["libvips-dev"])]
        ),
        // HEIC decoding through the system's libheif + libde265, dlopen'ed on the first HEIC
        // (the single-file libvips has no HEVC decoder). Compiles against libheif-dev's header
        // and links nothing of libheif.
        .target(name: "CHeif"),
        // JPEG XL decoding through the system's libjxl, dlopen'ed on the first JPEG XL (the
        // single-file libvips is built without libjxl). Compiles against libjxl-dev's headers.
        .target(name: "CJxl"),
        // What every layer shares and nothing heavy: no libvips, no HTTP client.
        .target(name: "ImgfnBase"),
        // Imaging only: libvips, decode, derive, encode, the pipeline configuration.
        .target(
            name: "ImagePipeline",
            dependencies: ["CVips", "CHeif", "CJxl", "ImgfnBase"]
        ),
        // The S3 client (SigV4, REST, retries) and S3BlobStore, without libvips.
        .target(
            name: "S3Store",
            dependencies: [
                "ImgfnBase",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The service both shells run: events in, derivative sets and manifests out.
        .target(
            name: "ImageService",
            dependencies: ["ImagePipeline", "ImgfnBase"]
        ),
        // The pull side: an HTTP request (imgproxy-style signed URL, or a preset) in, an image
        // response out, one function (`RequestHandler.handle`) that `imgfn serve` and the Lambda
        // bootstrap's HTTP events both call. HMAC-SHA256 for signatures from swift-crypto.
        .target(
            name: "ImageRequests",
            dependencies: [
                "ImageService", "ImagePipeline", "ImgfnBase",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // What both shells would otherwise each wire up: store locations (`--store`,
        // `IMGFN_STORE`) and the store, queue and event-bus factories.
        .target(
            name: "ServiceWiring",
            dependencies: ["ImageService", "ImagePipeline", "ImgfnBase", "S3Store"]
        ),
        // The AWS Lambda custom runtime `bootstrap`: Runtime API client, logs and metrics around
        // the same Handler `imgfn invoke` runs.
        .executableTarget(
            name: "ResizeFunction",
            dependencies: [
                "ServiceWiring", "ImageRequests", "ImageService", "ImagePipeline", "ImgfnBase", "S3Store",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            // The tests' store faults (IMGFN_TEST_*) exist only in debug builds, never in the bundle.
            swiftSettings: [.define("IMGFN_FAULT_INJECTION", .when(configuration: .debug))]
        ),
        // What both CLI binaries share: exit codes and error lines, input and limit options,
        // `--config`.
        .target(
            name: "CLISupport",
            dependencies: [
                "ImageService", "ImagePipeline", "ImgfnBase",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The CLI: image commands in-process; `invoke` and `backfill` exec `imgfn-service`.
        .executableTarget(
            name: "imgfn",
            dependencies: [
                "CLISupport", "ImageService", "ImagePipeline", "ImgfnBase",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // `imgfn invoke` / `imgfn backfill`: the handler against any store, S3 and SQS included;
        // `imgfn serve`: the request handler behind an HTTP/1.1 server on SwiftNIO.
        .executableTarget(
            name: "imgfn-service",
            dependencies: [
                "CLISupport", "ServiceWiring", "ImageRequests", "ImageService", "ImagePipeline", "ImgfnBase", "S3Store",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The benchmark harness (`make bench`): the core in-process, the CLI, the bundled
        // `bootstrap` and peer tools as processes. Links no HTTP client.
        .executableTarget(
            name: "imgfn-bench",
            dependencies: [
                "ImageService", "ImagePipeline", "ImgfnBase",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Benchmarks/Sources/imgfn-bench"
        ),
        // The decode path under libFuzzer (`make fuzz`: built with -sanitize=fuzzer and
        // -DFUZZING), or replaying files (a plain build).
        .executableTarget(
            name: "imgfn-fuzz",
            dependencies: ["ImagePipeline", "ImgfnBase", "CFuzzMain"],
            path: "Fuzz/Sources/imgfn-fuzz"
        ),
        .target(name: "CFuzzMain", path: "Fuzz/Sources/CFuzzMain"),
        // Helpers every test target shares: fixture paths and loaders, temporary directories.
        .target(
            name: "TestSupport",
            dependencies: ["ImagePipeline", "ImgfnBase"],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "ImagePipelineTests",
            dependencies: ["ImagePipeline", "ImgfnBase", "TestSupport"]
        ),
        .testTarget(
            name: "ImageServiceTests",
            dependencies: ["ImageService", "ImagePipeline", "ImgfnBase", "TestSupport"]
        ),
        .testTarget(
            name: "S3StoreTests",
            // Also runs the built `imgfn invoke` against the S3-protocol server.
            dependencies: [
                "S3Store", "ImageService", "ImagePipeline", "ImgfnBase", "TestSupport", "imgfn",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            exclude: ["sigv4-test-suite", "botocore_sign.py", "fault_proxy.py"]
        ),
        .testTarget(
            name: "ResizeFunctionTests",
            // Runs the built `bootstrap` binary against a Runtime API server in the tests.
            dependencies: [
                "ResizeFunction", "ServiceWiring", "ImageService", "ImagePipeline", "ImgfnBase", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "ImageRequestsTests",
            // The request handler in-process on the filesystem store, and `imgfn serve` over
            // real sockets on 127.0.0.1.
            dependencies: [
                "ImageRequests", "ImageService", "ImagePipeline", "ImgfnBase", "TestSupport", "imgfn-service",
            ]
        ),
        .testTarget(
            name: "BenchTests",
            // The benchmark harness's gate and report, on hand-made results.
            dependencies: ["imgfn-bench"]
        ),
        .testTarget(
            name: "imgfnTests",
            // Runs the built `imgfn` and `imgfn-service` binaries as child processes.
            dependencies: ["imgfn", "imgfn-service", "ImageService", "ImagePipeline", "ImgfnBase", "TestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
