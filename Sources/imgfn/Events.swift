import ArgumentParser
import ImageService

/// `imgfn events`: sample events in the shapes AWS sends.
struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Print a sample event, like `sam local generate-event`.",
        discussion:
            "Shapes: \(EventSamples.Shape.allCases.map(\.rawValue).joined(separator: ", ")). Keys are form-encoded the way S3 does."
    )

    @Argument(help: "The event shape: \(EventSamples.Shape.allCases.map(\.rawValue).joined(separator: ", ")).")
    var shape: String

    @Option(help: "Bucket name.")
    var bucket: String

    @Option(help: "Object key (as stored; it is encoded for S3 notifications).")
    var key: String

    @Option(help: "Object size in bytes.")
    var size: Int = 1024

    @Option(help: "Object ETag (without quotes).")
    var etag = "0123456789abcdef0123456789abcdef"

    @Option(
        name: .customLong("version-id"),
        help: "Object version ID, as a versioned bucket's events carry it (the delete marker's for s3-delete-marker).")
    var versionId: String?

    func validate() throws {
        guard EventSamples.Shape(rawValue: shape) != nil else {
            throw ValidationError(
                "unknown shape \"\(shape)\"; one of \(EventSamples.Shape.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
    }

    func run() throws {
        print(
            EventSamples.make(
                EventSamples.Shape(rawValue: shape)!, bucket: bucket, key: key, size: size, etag: etag,
                versionId: versionId))
    }
}
