// The AWS Lambda custom runtime `bootstrap`: see LambdaBootstrap.
await LambdaBootstrap.run()
