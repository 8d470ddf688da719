import AsyncHTTPClient
import ImgfnBase

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// An EventBridge event bus that imgfn's events are put on (`PutEvents`, the JSON protocol,
/// SigV4), source `imgfn`.
public struct EventBridgeBus: EventSink {
    /// The bus's name or ARN.
    public let name: String
    let client: AWSJSONClient

    /// EventBridge's limit of entries per `PutEvents`.
    public static let maxEntries = 10

    /// - Parameters:
    ///   - endpoint: `http(s)://host[:port]` of an EventBridge-compatible service; nil for
    ///     AWS (`https://events.REGION.amazonaws.com`).
    ///   - region: default `AWS_REGION`, `AWS_DEFAULT_REGION`, else `us-east-1`.
    /// - Throws: `.invalidOptions` for an empty name, a bad endpoint, or no credentials.
    public init(
        name: String, endpoint: String? = nil, region: String? = nil, credentials: AWSCredentials? = nil,
        retryPolicy: S3RetryPolicy = S3RetryPolicy(), requestTimeout: Duration = .seconds(10),
        environment: [String: String] = ProcessInfo.processInfo.environment, httpClient: HTTPClient = .shared
    ) throws(ImgfnError) {
        guard !name.isEmpty else { throw ImgfnError(.invalidOptions, "the event bus name is empty") }
        let credentials = try AWSCredentials.resolve(credentials, environment: environment)
        let region = AWSCredentials.region(region, environment: environment)
        let (scheme, host, port) = try AWSJSONClient.endpoint(
            of: endpoint ?? "https://events.\(region).amazonaws.com", what: "EventBridge endpoint")
        self.name = name
        client = AWSJSONClient(
            scheme: scheme, host: host, port: port, region: region, service: "events", targetPrefix: "AWSEvents",
            jsonVersion: "1.1", credentials: credentials, retryPolicy: retryPolicy, requestTimeout: requestTimeout,
            httpClient: httpClient)
    }

    /// Puts the events ten to a request; entries EventBridge fails (throttled, internal) are
    /// put again under the retry policy.
    public func publish(_ events: [PublishedEvent]) async throws(ImgfnError) {
        var rest = events[...]
        while !rest.isEmpty {
            try await put(Array(rest.prefix(Self.maxEntries)))
            rest = rest.dropFirst(Self.maxEntries)
        }
    }

    func put(_ events: [PublishedEvent]) async throws(ImgfnError) {
        struct Entry: Encodable {
            var source = "imgfn", detailType: String, detail: String, eventBusName: String, resources: [String]
            enum CodingKeys: String, CodingKey {
                case source = "Source"
                case detailType = "DetailType"
                case detail = "Detail"
                case eventBusName = "EventBusName"
                case resources = "Resources"
            }
        }
        struct Request: Encodable {
            var entries: [Entry]
            enum CodingKeys: String, CodingKey { case entries = "Entries" }
        }
        struct Result: Decodable {
            var errorCode: String?, errorMessage: String?
            enum CodingKeys: String, CodingKey {
                case errorCode = "ErrorCode"
                case errorMessage = "ErrorMessage"
            }
        }
        struct Response: Decodable {
            var failedEntryCount: Int?
            var entries: [Result]?
            enum CodingKeys: String, CodingKey {
                case failedEntryCount = "FailedEntryCount"
                case entries = "Entries"
            }
        }
        let what = "PutEvents \(name)"
        var pending = events.map {
            Entry(detailType: $0.detailType, detail: $0.detail, eventBusName: name, resources: $0.resources)
        }
        var attempt = 1
        while true {
            let body: [UInt8]
            do { body = Array(try JSONEncoder().encode(Request(entries: pending))) } catch {
                throw ImgfnError(.invalidOptions, "\(what): cannot encode the events: \(error)")
            }
            let answer = try await client.call("PutEvents", body: body, what: what)
            guard let response = try? JSONDecoder().decode(Response.self, from: Data(answer)),
                let results = response.entries, results.count == pending.count
            else {
                throw ImgfnError(.storeUnavailable, "\(what): an answer that does not say which events were put")
            }
            // Entries answer in request order; a failed one carries an error code.
            let failed = zip(pending, results).filter { $0.1.errorCode != nil }
            guard let first = failed.first?.1 else {
                if (response.failedEntryCount ?? 0) > 0 {
                    throw ImgfnError(.storeUnavailable, "\(what): \(response.failedEntryCount ?? 0) events not put")
                }
                return
            }
            if first.errorCode == "ValidationException" || first.errorCode == "MalformedDetail" {
                throw ImgfnError(.invalidOptions, "\(what): \(first.errorCode ?? ""): \(first.errorMessage ?? "")")
            }
            pending = failed.map(\.0)
            guard attempt < client.retryPolicy.maxAttempts else {
                throw ImgfnError(
                    .storeUnavailable,
                    "\(what): \(pending.count) events not put after \(attempt) attempts: \(first.errorCode ?? "error")")
            }
            do { try await client.retryPolicy.sleep(client.retryPolicy.delay(beforeRetry: attempt)) } catch {
                throw ImgfnError(.storeUnavailable, "\(what): cancelled while waiting to retry")
            }
            attempt += 1
        }
    }
}
