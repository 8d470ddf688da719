/// One removed object, whatever event shape announced it: a delete, a delete marker, a
/// lifecycle expiration.
public struct ObjectRemoved: Sendable, Equatable, Codable {
    public var bucket: String
    /// The real key (S3 notifications' form encoding already undone).
    public var key: String
    /// The version removed (a permanent delete in a versioned bucket), or the delete marker's
    /// version (`isDeleteMarker`); nil in an unversioned bucket.
    public var versionId: String?
    /// The object is still there under a delete marker: its current version is gone.
    public var isDeleteMarker: Bool
    /// S3's ordering token for events on the same key.
    public var sequencer: String?
    public var eventTime: String?
    /// `ObjectRemoved:Delete`, `LifecycleExpiration:DeleteMarkerCreated`, `Object Deleted`, …
    public var eventName: String

    public init(
        bucket: String, key: String, versionId: String? = nil, isDeleteMarker: Bool = false, sequencer: String? = nil,
        eventTime: String? = nil, eventName: String = "ObjectRemoved:Delete"
    ) {
        self.bucket = bucket
        self.key = key
        self.versionId = versionId
        self.isDeleteMarker = isDeleteMarker
        self.sequencer = sequencer
        self.eventTime = eventTime
        self.eventName = eventName
    }
}
