// swift-tools-version:6.1
import PackageDescription

// The core (`ImagePipeline`) links only libvips through `CVips`; heavier dependencies live in the
// shells or in small targets of their own so the core and its tests stay quick to build and start.
let package = Package(
    name: "imgfn",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ImagePipeline", targets: ["ImagePipeline"]),
        .executable(name: "imgfn", targets: ["imgfn"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
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
            name: "imgfnTests",
            // Runs the built `imgfn` binary as a child process.
            dependencies: ["imgfn", "ImagePipeline"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
