/// An opaque 8-bit sRGB colour.
public struct RGBColour: Sendable, Equatable, Codable {
    public var red: UInt8, green: UInt8, blue: UInt8

    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    public static let white = RGBColour(red: 255, green: 255, blue: 255)
    public static let black = RGBColour(red: 0, green: 0, blue: 0)

    /// Parses `#rgb`, `#rrggbb` (the `#` is optional), `white` or `black`.
    public init?(parsing text: String) {
        switch text.lowercased() {
        case "white": self = .white
        case "black": self = .black
        default:
            var hex = Substring(text)
            if hex.hasPrefix("#") { hex = hex.dropFirst() }
            guard hex.allSatisfy(\.isHexDigit) else { return nil }
            if hex.count == 3 { hex = Substring(hex.flatMap { [$0, $0] }) }
            guard hex.count == 6, let value = UInt32(hex, radix: 16) else { return nil }
            self.init(red: UInt8(value >> 16 & 0xFF), green: UInt8(value >> 8 & 0xFF), blue: UInt8(value & 0xFF))
        }
    }
}
