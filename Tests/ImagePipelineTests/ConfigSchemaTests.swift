import Foundation
import TestSupport
import Testing

@testable import ImagePipeline

/// Keeps `Schemas/pipeline-config.schema.json` and the configuration loader in step: a config
/// built from every property of the schema (with its example value) must load, and the keys the
/// loader asked for must be exactly the schema's properties.
@Suite struct ConfigSchemaTests {
    nonisolated(unsafe) static let schema: [String: Any] = {
        let url = URL(fileURLWithPath: Fixtures.root).deletingLastPathComponent().appendingPathComponent(
            "Schemas/pipeline-config.schema.json")
        return (try? JSONSerialization.jsonObject(with: Data(contentsOf: url))) as? [String: Any] ?? [:]
    }()

    /// A value using every property of `schema`, from its examples.
    static func maximal(_ schema: [String: Any]) -> Any {
        if let props = schema["properties"] as? [String: [String: Any]] {
            return props.mapValues { maximal($0) }
        }
        if schema["type"] as? String == "array", let items = schema["items"] as? [String: Any] {
            if let variants = items["oneOf"] as? [[String: Any]] { return variants.map { maximal($0) } }
            if items["properties"] != nil { return [maximal(items)] }
        }
        if let examples = schema["examples"] as? [Any], let first = examples.first { return first }
        if let constant = schema["const"] { return constant }
        return NSNull()
    }

    /// `path.key` for every property, with step variants as `steps[]<op>`.
    static func keys(_ schema: [String: Any], _ path: String = "") -> Set<String> {
        var result: Set<String> = []
        for (key, child) in schema["properties"] as? [String: [String: Any]] ?? [:] {
            let childPath = path.isEmpty ? key : "\(path).\(key)"
            if path.hasSuffix(">") && key == "op" { continue }  // the op selects the step; not a parameter
            result.insert(childPath)
            result.formUnion(keys(child, childPath))
            if let items = child["items"] as? [String: Any] {
                if let variants = items["oneOf"] as? [[String: Any]] {
                    for variant in variants {
                        let op =
                            ((variant["properties"] as? [String: Any])?["op"] as? [String: Any])?["const"] as? String
                            ?? "?"
                        result.formUnion(keys(variant, "\(childPath)[]<\(op)>"))
                    }
                } else {
                    result.formUnion(keys(items, "\(childPath)[]"))
                }
            }
        }
        return result
    }

    @Test func theSchemaDescribesExactlyWhatTheLoaderReads() throws {
        #expect(!Self.schema.isEmpty)
        let document = try JSONSerialization.data(withJSONObject: Self.maximal(Self.schema))
        let pipeline = try Pipeline(json: [UInt8](document), baseDirectory: Fixtures.root)
        #expect(pipeline.config.derivatives.first?.steps.count == StepRegistry.builtIn.ops.count)

        let schemaKeys = Self.keys(Self.schema)
        // Other tests run in the same process and may register steps of their own.
        let builtIn = Set(StepRegistry.builtIn.ops)
        let codeKeys = ConfigReader.queriedKeys.filter { key in
            guard let open = key.firstIndex(of: "<"), let close = key.firstIndex(of: ">") else { return true }
            return builtIn.contains(String(key[key.index(after: open)..<close]))
        }
        #expect(schemaKeys.subtracting(codeKeys).sorted() == [], "in the schema but never read")
        #expect(codeKeys.subtracting(schemaKeys).sorted() == [], "read but missing from the schema")
    }

    @Test func everyBuiltInStepIsInTheSchema() throws {
        let derivative = (Self.schema["properties"] as? [String: Any]).flatMap { $0["derivatives"] as? [String: Any] }
        let steps =
            ((derivative?["items"] as? [String: Any])?["properties"] as? [String: Any])?["steps"] as? [String: Any]
        let variants = (steps?["items"] as? [String: Any])?["oneOf"] as? [[String: Any]] ?? []
        let ops = variants.compactMap {
            (($0["properties"] as? [String: Any])?["op"] as? [String: Any])?["const"] as? String
        }
        #expect(ops.sorted() == StepRegistry.builtIn.ops)
    }

    @Test func schemaEnumsMatchTheCode() {
        let props = Self.schema["properties"] as? [String: Any]
        let derivative =
            ((props?["derivatives"] as? [String: Any])?["items"] as? [String: Any])?["properties"] as? [String: Any]
        func values(_ name: String) -> [String] { (derivative?[name] as? [String: Any])?["enum"] as? [String] ?? [] }
        #expect(values("fit") == Fit.allCases.map(\.rawValue))
        #expect(values("gravity") == Gravity.allCases.map(\.rawValue))
        let formats = ((derivative?["formats"] as? [String: Any])?["items"] as? [String: Any])?["enum"] as? [String]
        #expect(formats == OutputFormat.allCases.map(\.rawValue))
        let keep =
            (((props?["metadata"] as? [String: Any])?["properties"] as? [String: Any])?["keep"] as? [String: Any])
        #expect((keep?["items"] as? [String: Any])?["enum"] as? [String] == MetadataPolicy.names.map(\.0))
    }
}
