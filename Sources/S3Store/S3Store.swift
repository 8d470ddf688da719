// The S3 blob store: SigV4 signing and an S3 REST client on AsyncHTTPClient.
