import CVips
import ImgfnBase

#if canImport(Glibc)
    import Glibc
#endif

/// SSIMULACRA2, Cloudinary's perceptual image-quality metric (as defined by libjxl's
/// `tools/ssimulacra2.cc`): 100 for identical images, about 90 where a difference is no longer
/// visible at 1:1, 70 "high quality", 50 "medium", and falling to negative values.
///
/// Both images go to linear sRGB, then to XYB (JPEG XL's opsin space); at six scales (each
/// half the last, box-downsampled in linear light) it compares Gaussian-blurred (σ 1.5) means,
/// variances and covariance per channel (an SSIM map) and the edge strength of each image
/// against its blur (one map for edges the distorted image adds — ringing, blocking — and one
/// for edges it loses — blur); the 1- and 4-norms of the maps, weighted by the metric's 108
/// fitted weights and mapped through its polynomial, give the score. Images with alpha are
/// blended onto a dark and a light grey and the worse score is kept.
///
/// Boundaries follow the PyPI `ssimulacra2` package 0.3 (the harness's cross-check), which
/// blurs its planes transposed: beyond the left and right edges counts as zero, beyond the top
/// and bottom is mirrored. Cost: about 0.2 µs per pixel (optimised build, one core); memory: six
/// `Float` planes (both images in linear light) and a few dozen rows.
public enum Ssimulacra2 {
    /// The score of `distorted` against `reference`. Both are converted to sRGB; any band
    /// format is read (the reference may be a float resize, values 0…255).
    /// - Throws: `.invalidOptions` when the sizes differ.
    public static func score(reference: VipsImage, distorted: VipsImage) throws(ImgfnError) -> Double {
        try Reference(reference).score(distorted)
    }

    /// A reference converted once, for scoring several candidates against it.
    struct Reference {
        let planes: LinearPlanes

        init(_ image: VipsImage) throws(ImgfnError) { planes = try LinearPlanes(image) }

        func score(_ distorted: VipsImage) throws(ImgfnError) -> Double {
            guard planes.width == distorted.width, planes.height == distorted.height else {
                throw ImgfnError(
                    .invalidOptions,
                    "cannot compare a \(distorted.width)×\(distorted.height) image with a "
                        + "\(planes.width)×\(planes.height) reference")
            }
            let other = try LinearPlanes(distorted)
            guard planes.alpha != nil || other.alpha != nil else { return Ssimulacra2.score(planes, other) }
            return Swift.min(
                Ssimulacra2.score(planes.blended(onto: 0.1), other.blended(onto: 0.1)),
                Ssimulacra2.score(planes.blended(onto: 0.9), other.blended(onto: 0.9)))
        }
    }

    /// Scale-by-scale statistics of one comparison, then the score.
    static func score(_ reference: LinearPlanes, _ distorted: LinearPlanes) -> Double {
        var a = reference
        var b = distorted
        var scales: [ScaleStatistics] = []
        for scale in 0..<6 {
            if a.width < 8 || a.height < 8 { break }
            // The next scale's planes come from this one's linear light, before it is reused.
            let next = scale < 5 ? (a.halved(), b.halved()) : nil
            scales.append(ScaleStatistics(a, b))
            guard let next else { break }
            (a, b) = next
        }
        return Self.score(of: scales)
    }

    /// The metric's pooling: the weighted sum of every norm, then its fitted polynomial.
    static func score(of scales: [ScaleStatistics]) -> Double {
        var sum = 0.0
        var i = 0
        for c in 0..<3 {
            for scale in scales {
                for n in 0..<2 {
                    sum += weights[i] * abs(scale.ssim[c * 2 + n])
                    sum += weights[i + 1] * abs(scale.edge[c * 4 + n])
                    sum += weights[i + 2] * abs(scale.edge[c * 4 + n + 2])
                    i += 3
                }
            }
        }
        var s = sum * 0.9562382616834844
        s = 2.326765642916932 * s - 0.020884521182843837 * s * s + 6.248496625763138e-05 * s * s * s
        return s > 0 ? 100 - 10 * pow(s, 0.6276336467831387) : 100
    }

    /// The 108 weights: channel (X, Y, B) × scale (1…6) × norm (1, 4) × map (SSIM, ringing, blur).
    static let weights: [Double] = [
        0.0, 0.0007376606707406586, 0.0, 0.0, 0.0007793481682867309, 0.0, 0.0, 0.0004371155730107379, 0.0,
        1.1041726426657346, 0.00066284834129271, 0.00015231632783718752, 0.0, 0.0016406437456599754, 0.0,
        1.8422455520539298, 11.441172603757666, 0.0, 0.0007989109436015163, 0.000176816438078653, 0.0,
        1.8787594979546387, 10.94906990605142, 0.0, 0.0007289346991508072, 0.9677937080626833, 0.0,
        0.00014003424285435884, 0.9981766977854967, 0.00031949755934435053, 0.0004550992113792063, 0.0, 0.0,
        0.0013648766163243398, 0.0, 0.0, 0.0, 0.0, 0.0, 7.466890328078848, 0.0, 17.445833984131262,
        0.0006235601634041466, 0.0, 0.0, 6.683678146179332, 0.00037724407979611296, 1.027889937768264,
        225.20515300849274, 0.0, 0.0, 19.213238186143016, 0.0011401524586618361, 0.001237755635509985,
        176.39317598450694, 0.0, 0.0, 24.43300999870476, 0.28520802612117757, 0.0004485436923833408, 0.0, 0.0,
        0.0, 34.77906344483772, 44.835625328877896, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        0.0008680556573291698, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0005313191874358747, 0.0, 0.00016533814161379112, 0.0,
        0.0, 0.0, 0.0, 0.0, 0.0004179171803251336, 0.0017290828234722833, 0.0, 0.0020827005846636437, 0.0, 0.0,
        8.826982764996862, 23.19243343998926, 0.0, 95.1080498811086, 0.9863978034400682, 0.9834382792465353,
        0.0012286405048278493, 171.2667255897307, 0.9807858872435379, 0.0, 0.0, 0.0, 0.0005130064588990679, 0.0,
        0.00010854057858411537,
    ]
}

/// An image as three planes of linear-light sRGB (0…1), and its alpha (0…1) if it has one.
struct LinearPlanes {
    var width: Int
    var height: Int
    var planes: [[Float]]
    var alpha: [Float]?

    init(width: Int, height: Int, planes: [[Float]], alpha: [Float]? = nil) {
        self.width = width
        self.height = height
        self.planes = planes
        self.alpha = alpha
    }

    init(_ image: VipsImage) throws(ImgfnError) {
        var image = image
        if image.interpretation != VIPS_INTERPRETATION_sRGB {
            image = try image.derive("convert to sRGB") { cv_colourspace($0, $1, VIPS_INTERPRETATION_sRGB) }
        }
        // 8-bit images (every decoded file) go through a table; others (a float reference)
        // through the curve itself.
        let eightBit = image.bandFormat == VIPS_FORMAT_UCHAR
        if !eightBit && image.bandFormat != VIPS_FORMAT_FLOAT {
            image = try image.derive("convert to float") { cv_cast($0, $1, VIPS_FORMAT_FLOAT) }
        }
        var size = 0
        guard let memory = vips_image_write_to_memory(image.pointer, &size) else {
            throw ImgfnError(.corruptImage, "cannot decode: \(VipsError.take())")
        }
        defer { g_free(memory) }
        let (width, height, bands) = (image.width, image.height, image.bands)
        let count = width * height
        var planes = [[Float]](repeating: [Float](repeating: 0, count: count), count: 3)
        var alpha: [Float]?
        let hasAlpha = bands == 4 || bands == 2
        if hasAlpha { alpha = [Float](repeating: 0, count: count) }
        func fill(_ sample: (Int) -> Float, linear: (Float) -> Float) {
            for c in 0..<3 {
                let band = bands > 2 ? c : 0  // grey: one band for all three
                planes[c].withUnsafeMutableBufferPointer { out in
                    for p in 0..<count { out[p] = linear(sample(p * bands + band)) }
                }
            }
            if hasAlpha {
                for p in 0..<count { alpha![p] = Swift.min(Swift.max(sample(p * bands + bands - 1) / 255, 0), 1) }
            }
        }
        if eightBit {
            let samples = memory.bindMemory(to: UInt8.self, capacity: count * bands)
            let table = Self.linearTable
            fill({ Float(samples[$0]) }, linear: { table[Int($0)] })
        } else {
            let samples = memory.bindMemory(to: Float.self, capacity: count * bands)
            fill({ samples[$0] }, linear: Self.linear)
        }
        self.init(width: width, height: height, planes: planes, alpha: alpha)
    }

    /// sRGB's transfer curve, from 0…255 to linear 0…1.
    static func linear(_ value: Float) -> Float {
        let x = Swift.min(Swift.max(value / 255, 0), 1)
        return x <= 0.04045 ? x / 12.92 : pow((x + 0.055) / 1.055, 2.4)
    }

    static let linearTable: [Float] = (0..<256).map { linear(Float($0)) }

    /// Blended onto a grey of linear value `background`, opaque.
    func blended(onto background: Float) -> LinearPlanes {
        guard let alpha else { return self }
        var copy = self
        copy.alpha = nil
        for c in 0..<3 {
            for p in 0..<alpha.count { copy.planes[c][p] = alpha[p] * planes[c][p] + (1 - alpha[p]) * background }
        }
        return copy
    }

    /// Half the size (rounded up), each pixel the mean of its 2×2 block (edge pixels repeated).
    func halved() -> LinearPlanes {
        let w = (width + 1) / 2
        let h = (height + 1) / 2
        var out = [[Float]](repeating: [Float](repeating: 0, count: w * h), count: 3)
        for c in 0..<3 {
            planes[c].withUnsafeBufferPointer { src in
                out[c].withUnsafeMutableBufferPointer { dst in
                    for y in 0..<h {
                        let y0 = 2 * y * width
                        let y1 = Swift.min(2 * y + 1, height - 1) * width
                        for x in 0..<w {
                            let x0 = 2 * x
                            let x1 = Swift.min(2 * x + 1, width - 1)
                            dst[y * w + x] = 0.25 * (src[y0 + x0] + src[y0 + x1] + src[y1 + x0] + src[y1 + x1])
                        }
                    }
                }
            }
        }
        return LinearPlanes(width: w, height: h, planes: out)
    }
}

/// The norms of one scale: `ssim` [channel × 2 + norm], `edge` [channel × 4 + (ringing 0/1, blur 2/3)].
struct ScaleStatistics {
    var ssim = [Double](repeating: 0, count: 6)
    var edge = [Double](repeating: 0, count: 12)

    static let radius = 5
    /// Gaussian σ 1.5 over ±5 px (the package's `truncate=3.33`), normalised.
    static let kernel: [Float] = {
        let raw = (-radius...radius).map { exp(-Double($0 * $0) / (2 * 1.5 * 1.5)) }
        let total = raw.reduce(0, +)
        return raw.map { Float($0 / total) }
    }()

    /// Rows stream through: each row of both images is converted to XYB and blurred
    /// horizontally into a ring of 11 rows, and once the ring holds a row's vertical
    /// neighbourhood its vertical blur, SSIM and edge terms are summed. Memory beyond the
    /// linear planes is a few dozen rows.
    init(_ a: LinearPlanes, _ b: LinearPlanes) {
        let (w, h, r) = (a.width, a.height, Self.radius)
        let ringRows = 2 * r + 1
        let kernel = Self.kernel
        // Per channel and ring slot, 7 rows: the horizontal blurs of x1, x2, x1², x2², x1·x2,
        // then x1 and x2 themselves.
        let perChannel = 7 * ringRows * w
        var ring = [Float](repeating: 0, count: 3 * perChannel)
        var xyb = [Float](repeating: 0, count: 6 * w)  // X, Y, B of a, then of b
        var products = [Float](repeating: 0, count: 5 * w)
        var vertical = [Float](repeating: 0, count: 5 * w)
        var sums = [Double](repeating: 0, count: 18)  // per channel: ssim L1, L4; ringing L1, L4; blur L1, L4
        ring.withUnsafeMutableBufferPointer { ring in
            xyb.withUnsafeMutableBufferPointer { xyb in
                products.withUnsafeMutableBufferPointer { p in
                    vertical.withUnsafeMutableBufferPointer { v in
                        let ring = ring.baseAddress!
                        let (xyb, p, v) = (xyb.baseAddress!, p.baseAddress!, v.baseAddress!)
                        for row in 0..<(h + r) {
                            if row < h {
                                let slot = row % ringRows
                                Self.xybRow(a, row: row, into: xyb)
                                Self.xybRow(b, row: row, into: xyb + 3 * w)
                                for c in 0..<3 {
                                    let u = xyb + c * w
                                    let t = xyb + (3 + c) * w
                                    for x in 0..<w {
                                        p[2 * w + x] = u[x] * u[x]
                                        p[3 * w + x] = t[x] * t[x]
                                        p[4 * w + x] = u[x] * t[x]
                                    }
                                    let channel = ring + c * perChannel
                                    Self.blurRow(u, width: w, kernel: kernel, into: channel + slot * w)
                                    Self.blurRow(t, width: w, kernel: kernel, into: channel + (ringRows + slot) * w)
                                    for q in 2..<5 {
                                        Self.blurRow(
                                            p + q * w, width: w, kernel: kernel,
                                            into: channel + (q * ringRows + slot) * w)
                                    }
                                    (channel + (5 * ringRows + slot) * w).update(from: u, count: w)
                                    (channel + (6 * ringRows + slot) * w).update(from: t, count: w)
                                }
                            }
                            let y = row - r
                            guard y >= 0 else { continue }
                            for c in 0..<3 {
                                let channel = ring + c * perChannel
                                // Vertical blur of row y, mirrored at the top and bottom (… b a | a b …);
                                // the mirrored rows are still in the ring.
                                v.update(repeating: 0, count: 5 * w)
                                for k in -r...r {
                                    let weight = kernel[k + r]
                                    let slot = Self.mirrored(y + k, count: h) % ringRows
                                    for q in 0..<5 {
                                        let src = channel + (q * ringRows + slot) * w
                                        let dst = v + q * w
                                        for x in 0..<w { dst[x] += weight * src[x] }
                                    }
                                }
                                let slot = y % ringRows
                                let img1 = channel + (5 * ringRows + slot) * w
                                let img2 = channel + (6 * ringRows + slot) * w
                                var s = (Float(0), Float(0), Float(0), Float(0), Float(0), Float(0))
                                for x in 0..<w {
                                    let mu1 = v[x]
                                    let mu2 = v[w + x]
                                    let numM = 1 - (mu1 - mu2) * (mu1 - mu2)
                                    let numS = 2 * (v[4 * w + x] - mu1 * mu2) + 0.0009
                                    let denS = (v[2 * w + x] - mu1 * mu1) + (v[3 * w + x] - mu2 * mu2) + 0.0009
                                    let d = Swift.max(1 - numM * numS / denS, 0)
                                    let d2 = d * d
                                    s.0 += d
                                    s.1 += d2 * d2
                                    let ratio = (1 + abs(img2[x] - mu2)) / (1 + abs(img1[x] - mu1)) - 1
                                    let ringing = Swift.max(ratio, 0)
                                    let blur = Swift.max(-ratio, 0)
                                    let r2 = ringing * ringing
                                    let b2 = blur * blur
                                    s.2 += ringing
                                    s.3 += r2 * r2
                                    s.4 += blur
                                    s.5 += b2 * b2
                                }
                                sums[c * 6] += Double(s.0)
                                sums[c * 6 + 1] += Double(s.1)
                                sums[c * 6 + 2] += Double(s.2)
                                sums[c * 6 + 3] += Double(s.3)
                                sums[c * 6 + 4] += Double(s.4)
                                sums[c * 6 + 5] += Double(s.5)
                            }
                        }
                    }
                }
            }
        }
        let n = Double(w * h)
        for c in 0..<3 {
            ssim[c * 2] = sums[c * 6] / n
            ssim[c * 2 + 1] = pow(sums[c * 6 + 1] / n, 0.25)
            edge[c * 4] = sums[c * 6 + 2] / n
            edge[c * 4 + 1] = pow(sums[c * 6 + 3] / n, 0.25)
            edge[c * 4 + 2] = sums[c * 6 + 4] / n
            edge[c * 4 + 3] = pow(sums[c * 6 + 5] / n, 0.25)
        }
    }

    /// JPEG XL's opsin absorbance matrix (rows sum to 1) and bias.
    static let opsin: [(Float, Float, Float)] = [
        (0.30, 1 - 0.078 - 0.30, 0.078),
        (0.23, 1 - 0.078 - 0.23, 0.078),
        (0.24342268924547819, 0.20476744424496821, 1 - 0.24342268924547819 - 0.20476744424496821),
    ]
    static let bias: Float = 0.0037930732552754493
    static let biasRoot = cubeRoot(0.0037930732552754493)

    /// One row of XYB, made positive as the metric does: X, Y and B at `out`, `out + width`,
    /// `out + 2 × width`.
    static func xybRow(_ image: LinearPlanes, row: Int, into out: UnsafeMutablePointer<Float>) {
        let (m00, m01, m02) = opsin[0]
        let (m10, m11, m12) = opsin[1]
        let (m20, m21, m22) = opsin[2]
        let (bias, biasRoot) = (Self.bias, Self.biasRoot)
        let (w, start) = (image.width, row * image.width)
        image.planes[0].withUnsafeBufferPointer { red in
            image.planes[1].withUnsafeBufferPointer { green in
                image.planes[2].withUnsafeBufferPointer { blue in
                    for x in 0..<w {
                        let (r, g, b) = (red[start + x], green[start + x], blue[start + x])
                        let l = cubeRoot(Swift.max(m00 * r + m01 * g + m02 * b + bias, 0)) - biasRoot
                        let m = cubeRoot(Swift.max(m10 * r + m11 * g + m12 * b + bias, 0)) - biasRoot
                        let s = cubeRoot(Swift.max(m20 * r + m21 * g + m22 * b + bias, 0)) - biasRoot
                        out[x] = 0.5 * (l - m) * 14 + 0.42
                        out[w + x] = 0.5 * (l + m) + 0.01
                        out[2 * w + x] = s - 0.5 * (l + m) + 0.55
                    }
                }
            }
        }
    }

    /// ∛x for x ≥ 0: an exponent-third first guess, then Newton steps (relative error below
    /// 1e-7 over the metric's range, bias 0.0038 … ~1). Several times faster than `cbrt`.
    @inline(__always)
    static func cubeRoot(_ x: Float) -> Float {
        guard x > 0 else { return 0 }
        var y = Float(bitPattern: x.bitPattern / 3 + 709_921_077)
        for _ in 0..<3 { y = (2 * y + x / (y * y)) * (1.0 / 3) }
        return y
    }

    /// `i` mirrored into 0..<count (… b a | a b …).
    static func mirrored(_ i: Int, count: Int) -> Int {
        var i = i
        while i < 0 || i >= count { i = i < 0 ? -i - 1 : 2 * count - i - 1 }
        return i
    }

    /// Horizontal Gaussian of one row; pixels beyond either end count as zero.
    static func blurRow(
        _ src: UnsafePointer<Float>, width w: Int, kernel: [Float], into dst: UnsafeMutablePointer<Float>
    ) {
        let r = radius
        for x in 0..<w { dst[x] = 0 }
        kernel.withUnsafeBufferPointer { k in
            // Tap by tap over the whole row: the inner loop is contiguous, so it vectorises.
            for t in 0...(2 * r) {
                let offset = t - r
                let weight = k[t]
                let from = Swift.max(0, -offset)
                let to = Swift.min(w, w - offset)
                guard from < to else { continue }
                for x in from..<to { dst[x] += weight * src[x + offset] }
            }
        }
    }
}
