import ImagePipeline
import ImageService
import ImgfnBase

extension RequestHandler {
    /// `/_page/{key}`: an HTML page showing the source through a `<picture>` element whose
    /// sources are this server's preset URLs, one `<source>` per modern format and `srcset`
    /// entries per derivative width, taken from the source's manifest when it has a current one
    /// (else from the configuration). What a site would write from a manifest, served to try
    /// the negotiation and the sizes in a real browser; a script puts what the browser chose
    /// (`currentSrc`, `naturalWidth`) into `#result`.
    func page(for key: String) async -> HTTPResponse {
        let source: ObjectInfo
        switch await head(key) {
        case .success(let info): source = info
        case .failure(let refusal): return refusal.response
        }
        let config = pipeline.config
        let keys = OutputKeys(sourceKey: key, sourcePrefix: config.source.prefix, output: config.output)
        let manifest = try? await Manifest.read(from: outputs, key: keys.manifestKey)
        let current = manifest.flatMap { $0.isCurrent(for: source, configHash: pipeline.configHash) ? $0 : nil }
        // (derivative, format, width) of every file: the manifest's, else what the configuration
        // would make (widths as configured).
        var files: [(name: String, format: OutputFormat, width: Int)] = []
        if let current {
            files = current.derivatives.map { ($0.name, $0.format, $0.width) }
        } else {
            for derivative in config.derivatives {
                guard let width = derivative.resize.width else { continue }
                files += derivative.formats.map { (derivative.name, $0, width) }
            }
        }
        let encodedKey = KeyEncoding.encode(key, spaceAsPlus: false)
        let file = key.split(separator: "/").last ?? ""
        // A key with its own extension takes a format extension after it; one without is
        // negotiated from Accept instead.
        let explicit = file.contains(".")
        func srcset(_ format: OutputFormat) -> String {
            var seen: Set<Int> = []
            return files.filter { $0.format == format && seen.insert($0.width).inserted }
                .sorted { $0.width < $1.width }
                .map {
                    "/\(Self.escape($0.name))/\(encodedKey)\(explicit ? "." + format.fileExtension : "") \($0.width)w"
                }
                .joined(separator: ", ")
        }
        let fallback: OutputFormat = files.contains { $0.format == .jpeg } ? .jpeg : files.first?.format ?? .jpeg
        var sources = ""
        if explicit {
            for format in [OutputFormat.avif, .webp] where files.contains(where: { $0.format == format }) {
                sources += "<source type=\"\(format.contentType)\" srcset=\"\(srcset(format))\" sizes=\"640px\">\n"
            }
        }
        let smallest = files.filter { $0.format == fallback }.min { $0.width < $1.width }
        let src =
            smallest.map { "/\(Self.escape($0.name))/\(encodedKey)\(explicit ? "." + fallback.fileExtension : "")" }
            ?? ""
        let width = current?.source.width ?? 640
        let height = current?.source.height ?? 427
        let html = """
            <!doctype html>
            <html><head><meta charset="utf-8"><title>imgfn: \(Self.escape(key))</title>
            <style>body{margin:0;background:#fff}img{display:block;width:640px;height:auto}</style></head>
            <body><picture>
            \(sources)<img id="photo" src="\(src)" srcset="\(srcset(fallback))" sizes="640px" width="\(width)" height="\(height)" alt="\(Self.escape(key))">
            </picture>
            <pre id="result"></pre>
            <script>
            const img = document.getElementById('photo');
            function report() {
              document.getElementById('result').textContent =
                JSON.stringify({currentSrc: img.currentSrc, naturalWidth: img.naturalWidth, complete: img.complete});
            }
            if (img.complete) { report(); } else { img.addEventListener('load', report); img.addEventListener('error', report); }
            </script></body></html>

            """
        return HTTPResponse(
            status: 200,
            headers: [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-cache")],
            body: Array(html.utf8))
    }

    /// Text made safe for HTML content and attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
