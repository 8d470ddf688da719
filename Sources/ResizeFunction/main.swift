// ResizeFunction — the Lambda shell (layer 5): the custom runtime `bootstrap`. It reads its
// environment once (FunctionConfiguration), talks to the Runtime API (RuntimeAPI/), runs the
// service's handler per invocation (Invocation/) and writes JSON logs and EMF metrics
// (Logging/). It links no HTTP server framework: its cold start is gated. See LambdaBootstrap.
await LambdaBootstrap.run()
