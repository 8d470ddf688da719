import ImgfnBase

/// An AWS access key pair, with the session token that temporary credentials (STS, Lambda) carry.
///
/// Its `description` and mirror never show the secret or the token, so a credentials value (or
/// a configuration holding one) can end up in a log line, `dump` or an error message without
/// leaking them.
public struct AWSCredentials: Sendable, Equatable, CustomStringConvertible, CustomReflectable {
    /// The access key ID (`AKIA…`, `ASIA…` for temporary credentials); not secret.
    public var accessKeyID: String
    /// The secret key; only ever used to derive signing keys.
    public var secretAccessKey: String
    /// Sent as `X-Amz-Security-Token`; nil for long-term keys.
    public var sessionToken: String?

    /// Credentials from their parts.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// The credentials in `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and (optionally)
    /// `AWS_SESSION_TOKEN`, or nil when the key pair is not set. Lambda sets all three.
    public static func fromEnvironment(_ environment: [String: String]) -> AWSCredentials? {
        guard let id = environment["AWS_ACCESS_KEY_ID"], !id.isEmpty,
            let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty
        else { return nil }
        let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token)
    }

    /// The access key ID, with the secret and the token redacted.
    public var description: String {
        "AWSCredentials(accessKeyID: \(accessKeyID), secretAccessKey: <redacted>"
            + (sessionToken == nil ? ")" : ", sessionToken: <redacted>)")
    }

    /// Redacted like `description`, so `dump` and debuggers do not show the secrets either.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "accessKeyID": accessKeyID, "secretAccessKey": "<redacted>",
                "sessionToken": sessionToken == nil ? "nil" : "<redacted>",
            ])
    }
}

extension AWSCredentials {
    /// `given`, else the environment's; a missing key pair is an error that says which
    /// variables to set.
    static func resolve(_ given: AWSCredentials?, environment: [String: String]) throws(ImgfnError) -> AWSCredentials {
        guard let credentials = given ?? fromEnvironment(environment) else {
            throw ImgfnError(
                .invalidOptions, "no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
        }
        return credentials
    }

    /// `given`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else `us-east-1`.
    static func region(_ given: String?, environment: [String: String]) -> String {
        given ?? [environment["AWS_REGION"], environment["AWS_DEFAULT_REGION"]].compactMap { $0 }.first { !$0.isEmpty }
            ?? "us-east-1"
    }
}
