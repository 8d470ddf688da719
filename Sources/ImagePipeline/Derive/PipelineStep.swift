import ImgfnBase

/// One operation in a derivative's pipeline, after its resize: sharpen, watermark, …
///
/// A step is made once, when the configuration is loaded, from its JSON object (`op` plus its
/// own keys, read through `ConfigReader` so a wrong or unknown key is reported with its path),
/// and then applied to every image. Register your own with `StepRegistry.register(_:)`.
public protocol PipelineStep: Sendable {
    /// The `op` name that selects this step in configuration.
    static var op: String { get }
    /// Reads and validates the step's parameters; report problems with `parameters.fail`.
    init(parameters: ConfigReader) throws(ImgfnError)
    /// Returns the transformed image. `image` is upright 8-bit sRGB (or grey), possibly with alpha.
    func apply(to image: VipsImage, context: StepContext) throws(ImgfnError) -> VipsImage
}

/// What a step may need to know besides the image.
public struct StepContext: Sendable {
    /// The derivative's background colour (padding, flattening).
    public var background: RGBColour
    /// The derivative's name.
    public var derivative: String
}

/// Maps `op` names to step types. `StepRegistry.builtIn` has every built-in step; copy it and
/// register more to extend the pipeline.
public struct StepRegistry: Sendable {
    private var types: [String: any PipelineStep.Type] = [:]

    public init() {}

    /// Adds (or replaces) the step type under its `op` name.
    public mutating func register(_ type: any PipelineStep.Type) {
        types[type.op] = type
    }

    /// The registered `op` names, sorted.
    public var ops: [String] { types.keys.sorted() }

    func type(for op: String) -> (any PipelineStep.Type)? { types[op] }

    public static let builtIn: StepRegistry = {
        var registry = StepRegistry()
        for type: any PipelineStep.Type in [
            ResizeStep.self, ExtractStep.self, RotateStep.self, FlipStep.self, SharpenStep.self, BlurStep.self,
            GrayscaleStep.self, FlattenStep.self, WatermarkStep.self,
        ] {
            registry.register(type)
        }
        return registry
    }()
}
