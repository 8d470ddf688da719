import ImgfnBase

/// S3 Batch Operations manifests (CSV): one line per object, `BUCKET,KEY` or
/// `BUCKET,KEY,VERSION_ID`, the key URL-encoded as S3 Batch Operations requires (`%20` for a
/// space, so no reader takes `+` for one).
public enum BatchManifest {
    /// One CSV line, without the line break.
    public static func line(bucket: String, key: String, versionId: String? = nil) -> String {
        bucket + "," + KeyEncoding.encode(key, spaceAsPlus: false) + (versionId.map { "," + $0 } ?? "")
    }
}
