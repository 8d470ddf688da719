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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
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
        .executableTarget(
            name: "imgfn",
            dependencies: [
                "ImagePipeline",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "ImagePipelineTests",
            dependencies: ["ImagePipeline"]
        ),
        .testTarget(
            name: "S3StoreTests",
            dependencies: ["S3Store", "ImagePipeline"]
        ),
        .testTarget(
            name: "imgfnTests",
            // Runs the built `imgfn` binary as a child process.
            dependencies: ["imgfn", "ImagePipeline"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
