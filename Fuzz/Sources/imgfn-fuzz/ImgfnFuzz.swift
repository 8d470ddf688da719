// imgfn-fuzz: the decode path under libFuzzer (`make fuzz`), and the same path over files given
// on the command line (replaying a crash, or a corpus) when built without the fuzzer.
//
// One input: header and limits, the decode, one resize, one encode — what every upload goes
// through. Any outcome but a crash, a hang or unbounded memory is fine: a refusal is an
// ImgfnError. libvips itself is not instrumented (only our Swift code is), so coverage
// guidance sees our branches; AddressSanitizer and libFuzzer's time and memory limits still
// catch what goes wrong below.
import CFuzzMain
import ImagePipeline
import ImgfnBase

#if canImport(Glibc)
    import Glibc
#endif

/// Small limits, so that an input cannot spend the fuzzer's time on a legitimately huge image.
let limits = DecodeLimits(maxPixels: 4_000_000, maxBytes: 1 << 20, maxFrames: 8)

func runOne(_ bytes: UnsafeRawBufferPointer) -> Result<EncodedImage, ImgfnError> {
    let source = SourceBytes(bytes)
    return Result { () throws(ImgfnError) in
        try ImageResizer.resize(
            source, ResizeOptions(width: 64, height: 64, fit: .cover), encode: EncodeOptions(format: .webp),
            limits: limits)
    }
}

#if FUZZING
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        _ = runOne(UnsafeRawBufferPointer(start: data, count: size))
        return 0
    }
#else
    /// Replay: each file through the same path, one line each. Exits 1 when an outcome breaks the
    /// rules (an empty or multi-line reason, an empty output).
    @main struct Replay {
        static func main() {
            var broken = 0
            for path in CommandLine.arguments.dropFirst() {
                let outcome = Result { () throws(ImgfnError) in try SourceBytes.read(path: path, maxBytes: 64 << 20) }
                    .flatMap { bytes in bytes.withUnsafeBytes(runOne) }
                switch outcome {
                case .success(let image):
                    let fine = !image.bytes.isEmpty
                    if !fine { broken += 1 }
                    print(
                        "\(fine ? "ok   " : "BAD  ") \(path): \(image.width)×\(image.height), \(image.bytes.count) bytes"
                    )
                case .failure(let error):
                    let fine = !error.message.isEmpty && !error.message.contains("\n")
                    if !fine { broken += 1 }
                    print("\(fine ? "no   " : "BAD  ") \(path): \(error.code): \(error.message)")
                }
            }
            if broken > 0 {
                print("\(broken) outcomes broke the rules")
                exit(1)
            }
        }
    }
#endif
