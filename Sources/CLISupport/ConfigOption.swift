import ArgumentParser
import ImagePipeline
import ImageService

/// `--config FILE`, for every command that runs the pipeline configuration.
public struct ConfigOption: ParsableArguments {
    public init() {}

    @Option(help: "Pipeline configuration (JSON). Default: the built-in configuration.")
    public var config: String?

    /// Loads and validates the configuration after `adjust`; exits 78 naming the problem.
    public func loadPipeline(adjust: (inout PipelineConfig) -> Void = { _ in }) throws -> Pipeline {
        let source = config.map { PipelineSource.file(path: $0) } ?? .builtIn
        do {
            return try source.load(adjust: adjust)
        } catch {
            throw ExitStatus.report(error, subject: config ?? "configuration")
        }
    }
}
