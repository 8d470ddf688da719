/// Where imgfn announces what it did (`Derivatives Created`, `Derivatives Removed`): an
/// EventBridge bus (`EventBridgeBus`, in S3Store), or a test's. Off unless configured.
public protocol EventSink: Sendable {
    /// Publishes every event; throws (`.storeUnavailable` when transient, after the sink's own
    /// retries) when one could not be published.
    func publish(_ events: [PublishedEvent]) async throws(ImgfnError)
}

/// One event: its `detail-type` and its `detail` (a JSON object, as text); the source is
/// always `imgfn`.
public struct PublishedEvent: Sendable, Equatable {
    public var detailType: String
    public var detail: String
    /// ARNs the event is about (the source object's).
    public var resources: [String]

    public init(detailType: String, detail: String, resources: [String] = []) {
        self.detailType = detailType
        self.detail = detail
        self.resources = resources
    }
}
