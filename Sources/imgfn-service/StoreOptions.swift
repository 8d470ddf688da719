import ArgumentParser
import CLISupport
import FoundationEssentials
import ImagePipeline
import ImgfnBase
import ServiceWiring

/// `--event-bus`, for the commands that run the handler: its events go where the function's do.
struct EventBusOption: ParsableArguments {
    @Option(
        name: .customLong("event-bus"),
        help:
            "Put Derivatives Created / Removed events on this EventBridge bus (IMGFN_EVENTS_ENDPOINT: another endpoint)."
    )
    var eventBus: String?

    /// The bus, or nil; exits 64 naming the problem when it cannot be used.
    func makeSink(region: String?) throws -> (any EventSink)? {
        guard let eventBus else { return nil }
        let environment = ProcessInfo.processInfo.environment
        do {
            return try EventBusFactory.make(
                name: eventBus, endpoint: environment["IMGFN_EVENTS_ENDPOINT"], region: region, environment: environment
            )
        } catch {
            throw ExitStatus.report(error, subject: "--event-bus")
        }
    }
}

/// `--endpoint`, `--path-style` and `--region`: how to reach S3 when a store is on S3.
struct S3Options: ParsableArguments {
    @Option(help: "S3-compatible endpoint URL (MinIO, R2, a local server), e.g. http://127.0.0.1:9000.")
    var endpoint: String?

    @Flag(name: .customLong("path-style"), help: "Path-style S3 addressing (https://host/BUCKET/KEY).")
    var pathStyle = false

    @Option(help: "S3 region (default: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1).")
    var region: String?

    /// The bucket → store function for `store` (a directory or s3://…); exits 64 naming the
    /// problem when the S3 settings are unusable.
    func makeStores(_ store: String) throws -> @Sendable (String) -> any BlobStore {
        do {
            let location = try StoreLocation(parsing: store, plainPaths: true)
            let settings = S3Settings(endpoint: endpoint, pathStyle: pathStyle, region: region)
            return try StoreFactory.make(location, s3: settings, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw ExitStatus.report(error, subject: store)
        }
    }
}

/// `--store` and the S3 settings, for every command that reads and writes a store.
struct StoreOptions: ParsableArguments {
    @Option(
        help: "The store: a directory (the embedded filesystem store), s3://BUCKET, or s3:// for each event's bucket.")
    var store: String

    @OptionGroup var s3: S3Options

    var region: String? { s3.region }

    func validate() throws {
        do { _ = try StoreLocation(parsing: store, plainPaths: true) } catch {
            throw ValidationError("--store \(error.message)")
        }
    }

    /// The SQS queue at `url` (signed for `--region`); exits 64 naming `subject` and the problem
    /// when the URL or the credentials are unusable.
    func makeQueue(url: String, subject: String) throws -> any MessageQueue {
        do {
            return try QueueFactory.make(url: url, region: region, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw ExitStatus.report(error, subject: subject)
        }
    }

    /// The bucket → store function; exits 64 naming the problem when the S3 settings are unusable.
    func makeStores() throws -> @Sendable (String) -> any BlobStore { try s3.makeStores(store) }
}
