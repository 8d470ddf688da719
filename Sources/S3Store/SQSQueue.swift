import AsyncHTTPClient
import ImgfnBase

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One SQS queue that messages are sent to (`SendMessageBatch` on SQS's JSON protocol, SigV4).
///
/// `imgfn backfill --enqueue` and the scheduled reconcile hand stale sources to the function
/// this way: one S3-notification-shaped message per source, so the deployed function's own
/// queue, retries and dead-letter queue do the work.
public struct SQSQueue: MessageQueue {
    /// `https://sqs.REGION.amazonaws.com/ACCOUNT/NAME` (or a local server's queue URL).
    public let url: String
    let client: AWSJSONClient

    /// SQS's limits for one `SendMessageBatch`.
    public static let maxBatchEntries = 10
    public static let maxBatchBytes = 256 * 1024

    /// - Parameters:
    ///   - url: the queue URL; requests go to its host.
    ///   - region: the signing region; default the one in an AWS queue URL
    ///     (`sqs.REGION.amazonaws.com`), else `AWS_REGION`, `AWS_DEFAULT_REGION`, `us-east-1`.
    ///   - credentials: nil reads `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`.
    /// - Throws: `.invalidOptions` for a URL that is not `http(s)://host/…/NAME` or when there
    ///   are no credentials.
    public init(
        url: String, region: String? = nil, credentials: AWSCredentials? = nil,
        retryPolicy: S3RetryPolicy = S3RetryPolicy(), requestTimeout: Duration = .seconds(20),
        environment: [String: String] = ProcessInfo.processInfo.environment, httpClient: HTTPClient = .shared
    ) throws(ImgfnError) {
        let (scheme, host, port) = try AWSJSONClient.endpoint(of: url, what: "SQS queue URL")
        guard let path = URL(string: url)?.path, path.split(separator: "/").count >= 2 else {
            throw ImgfnError(.invalidOptions, "SQS queue URL \"\(url)\" has no /ACCOUNT/NAME path")
        }
        let credentials = try AWSCredentials.resolve(credentials, environment: environment)
        let labels = host.split(separator: ".")
        let fromHost =
            labels.count >= 4 && labels[0] == "sqs" && host.hasSuffix(".amazonaws.com") ? String(labels[1]) : nil
        let region = AWSCredentials.region(region ?? fromHost, environment: environment)
        self.url = url
        client = AWSJSONClient(
            scheme: scheme, host: host, port: port, region: region, service: "sqs", targetPrefix: "AmazonSQS",
            jsonVersion: "1.0", credentials: credentials, retryPolicy: retryPolicy, requestTimeout: requestTimeout,
            httpClient: httpClient)
    }

    /// Sends one message per body, ten to a request, up to eight requests at once.
    /// Entries SQS fails on its side are sent again under the retry policy; an entry it refuses
    /// as the sender's fault (too large, bad characters) fails the call at once.
    /// - Throws: the first failure, after every batch has been tried (a rerun sends again what
    ///   may not have arrived; the handler's idempotency makes a duplicate cheap).
    public func send(_ bodies: [String]) async throws(ImgfnError) { try await send(bodies, concurrency: 8) }

    /// `send(_:)`, with up to `concurrency` requests in flight.
    public func send(_ bodies: [String], concurrency: Int) async throws(ImgfnError) {
        var batches: [[String]] = []
        var batch: [String] = []
        var batchBytes = 0
        for body in bodies {
            let size = body.utf8.count
            guard size <= Self.maxBatchBytes else {
                throw ImgfnError(.invalidOptions, "an SQS message of \(size) bytes is over SQS's 256 KiB limit")
            }
            if batch.count == Self.maxBatchEntries || batchBytes + size > Self.maxBatchBytes {
                batches.append(batch)
                (batch, batchBytes) = ([], 0)
            }
            batch.append(body)
            batchBytes += size
        }
        if !batch.isEmpty { batches.append(batch) }
        let failure: ImgfnError? = await withTaskGroup(of: ImgfnError?.self) { group in
            var pending = batches[...]
            var first: ImgfnError?
            for _ in 0..<min(max(1, concurrency), pending.count) {
                let batch = pending.removeFirst()
                group.addTask { await self.sendResult(batch) }
            }
            for await result in group {
                if first == nil, let result { first = result }
                if let batch = pending.popFirst() { group.addTask { await self.sendResult(batch) } }
            }
            return first
        }
        if let failure { throw failure }
    }

    private func sendResult(_ batch: [String]) async -> ImgfnError? {
        do { try await sendBatch(batch) } catch { return error }
        return nil
    }

    /// One `SendMessageBatch` of at most ten bodies, its server-side failures retried.
    func sendBatch(_ bodies: [String]) async throws(ImgfnError) {
        // SQS's member names are PascalCase.
        struct Entry: Encodable {
            var id: String, messageBody: String
            enum CodingKeys: String, CodingKey {
                case id = "Id"
                case messageBody = "MessageBody"
            }
        }
        struct Request: Encodable {
            var queueURL: String, entries: [Entry]
            enum CodingKeys: String, CodingKey {
                case queueURL = "QueueUrl"
                case entries = "Entries"
            }
        }
        struct Failed: Decodable {
            var id: String, senderFault: Bool?, code: String?, message: String?
            enum CodingKeys: String, CodingKey {
                case id = "Id"
                case senderFault = "SenderFault"
                case code = "Code"
                case message = "Message"
            }
        }
        struct Response: Decodable {
            var failed: [Failed]?
            enum CodingKeys: String, CodingKey { case failed = "Failed" }
        }
        let what = "SendMessageBatch \(url)"
        var pending = Array(bodies.enumerated().map { Entry(id: String($0.offset), messageBody: $0.element) })
        var attempt = 1
        while true {
            let body: [UInt8]
            do { body = Array(try JSONEncoder().encode(Request(queueURL: url, entries: pending))) } catch {
                throw ImgfnError(.invalidOptions, "\(what): cannot encode the batch: \(error)")
            }
            let answer = try await client.call("SendMessageBatch", body: body, what: what)
            let failed = (try? JSONDecoder().decode(Response.self, from: Data(answer)))?.failed ?? []
            if let refused = failed.first(where: { $0.senderFault == true }) {
                throw ImgfnError(
                    .outputUnwritable,
                    "\(what): SQS refused a message: \(refused.code ?? "error") \(refused.message ?? "")")
            }
            guard !failed.isEmpty else { return }
            let retry = Set(failed.map(\.id))
            pending = pending.filter { retry.contains($0.id) }
            guard attempt < client.retryPolicy.maxAttempts else {
                throw ImgfnError(
                    .storeUnavailable,
                    "\(what): \(pending.count) messages not accepted after \(attempt) attempts: \(failed[0].code ?? "error")"
                )
            }
            do { try await client.retryPolicy.sleep(client.retryPolicy.delay(beforeRetry: attempt)) } catch {
                throw ImgfnError(.storeUnavailable, "\(what): cancelled while waiting to retry")
            }
            attempt += 1
        }
    }
}
