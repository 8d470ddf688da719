// swift-tools-version:6.1
import PackageDescription

// The core (`ImagePipeline`) links only libvips through `CVips`; heavier dependencies live in the
// shells or in small targets of their own so the core and its tests stay quick to build and start.
let package = Package(
    name: "imgfn",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ImagePipeline", targets: ["ImagePipeline"]),
        .library(name: "S3Store", targets: ["S3Store"]),
        .executable(name: "imgfn", targets: ["imgfn"]),
        .executable(name: "bootstrap", targets: ["ResizeFunction"]),
        .executable(name: "imgfn-bench", targets: ["imgfn-bench"]),
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
        .target(
            name: "ImagePipeline",
            dependencies: ["CVips"]
        ),
        // The S3 client (SigV4, REST, retries) in its own target so the core and the benchmarks
        // do not link AsyncHTTPClient and swift-crypto.
        .target(
            name: "S3Store",
            dependencies: [
                "ImagePipeline",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The AWS Lambda custom runtime `bootstrap`: Runtime API client, event routing, logs and
        // metrics around the same Handler `imgfn invoke` runs.
        .executableTarget(
            name: "ResizeFunction",
            dependencies: [
                "ImagePipeline",
                "S3Store",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "imgfn",
            dependencies: [
                "ImagePipeline",
                "S3Store",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The benchmark harness (`make bench`): the core in-process, the CLI, the bundled
        // `bootstrap` and peer tools as processes. Links only the core and HdrHistogram.
        .executableTarget(
            name: "imgfn-bench",
            dependencies: [
                "ImagePipeline",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Benchmarks/Sources/imgfn-bench"
        ),
        .testTarget(
            name: "ImagePipelineTests",
            dependencies: ["ImagePipeline"]
        ),
        .testTarget(
            name: "S3StoreTests",
            // Also runs the built `imgfn invoke` against the S3-protocol server.
            dependencies: [
                "S3Store", "ImagePipeline", "imgfn",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            exclude: ["sigv4-test-suite", "botocore_sign.py", "fault_proxy.py"]
        ),
        .testTarget(
            name: "ResizeFunctionTests",
            // Runs the built `bootstrap` binary against a Runtime API server in the tests.
            dependencies: [
                "ResizeFunction", "ImagePipeline",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "BenchTests",
            // The benchmark harness's gate and report, on hand-made results.
            dependencies: ["imgfn-bench"]
        ),
        .testTarget(
            name: "imgfnTests",
            // Runs the built `imgfn` binary as a child process.
            dependencies: ["imgfn", "ImagePipeline"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
