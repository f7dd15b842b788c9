// Strict UTF-8 decoding over raw bytes, reporting the byte offset of the
// first invalid sequence (overlong forms, surrogates, values past U+10FFFF,
// stray continuation bytes, sequences cut off at the end).

public enum UTF8Scan {
    /// Calls `body(scalar, byteOffset)` for each scalar. Throws on invalid
    /// UTF-8, naming the offset; `name` is the input's name for messages.
    @inline(__always)
    public static func forEachScalar(_ bytes: UnsafeBufferPointer<UInt8>, name: String,
                                     _ body: (UInt32, Int) throws -> Void) throws {
        let n = bytes.count
        var i = 0
        while i < n {
            let b0 = bytes[i]
            if b0 < 0x80 {
                try body(UInt32(b0), i)
                i += 1
                continue
            }
            let (scalar, length) = decodeMultibyte(bytes, at: i)
            if length == 0 { throw invalid(bytes, at: i, name: name) }
            try body(scalar, i)
            i += length
        }
    }

    /// Decodes the multi-byte sequence at `i`; length 0 when invalid.
    @inline(__always)
    static func decodeMultibyte(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> (UInt32, Int) {
        let n = bytes.count
        let b0 = bytes[i]
        @inline(__always) func cont(_ k: Int) -> UInt32? {
            guard i + k < n else { return nil }
            let b = bytes[i + k]
            return (b & 0xC0) == 0x80 ? UInt32(b & 0x3F) : nil
        }
        switch b0 {
        case 0xC2...0xDF:
            guard let c1 = cont(1) else { return (0, 0) }
            return ((UInt32(b0 & 0x1F) << 6) | c1, 2)
        case 0xE0...0xEF:
            guard let c1 = cont(1), let c2 = cont(2) else { return (0, 0) }
            let v = (UInt32(b0 & 0x0F) << 12) | (c1 << 6) | c2
            if v < 0x800 || (v >= 0xD800 && v <= 0xDFFF) { return (0, 0) }
            return (v, 3)
        case 0xF0...0xF4:
            guard let c1 = cont(1), let c2 = cont(2), let c3 = cont(3) else { return (0, 0) }
            let v = (UInt32(b0 & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3
            if v < 0x10000 || v > 0x10FFFF { return (0, 0) }
            return (v, 4)
        default:
            return (0, 0)
        }
    }

    static func invalid(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int, name: String) -> CharRNNError {
        let b0 = bytes[i]
        let what: String
        switch b0 {
        case 0x80...0xBF: what = "a stray continuation byte"
        case 0xC0, 0xC1: what = "an overlong encoding"
        case 0xF5...0xFF: what = "a byte that never appears in UTF-8"
        default:
            var expected = 2
            if b0 >= 0xE0 { expected = 3 }
            if b0 >= 0xF0 { expected = 4 }
            // Cut off: too few bytes left, and those left all continue it.
            let cutOff = i + expected > bytes.count && (i + 1..<bytes.count).allSatisfy { (bytes[$0] & 0xC0) == 0x80 }
            if cutOff { what = "a sequence cut off by the end of the input" }
            else { what = "an invalid sequence (overlong, surrogate, or bad continuation)" }
        }
        let hex = String(b0, radix: 16, uppercase: true)
        return CharRNNError("\(name): invalid UTF-8 at byte offset \(i) (0x\(hex.count == 1 ? "0" + hex : hex), \(what))",
                            hint: "convert the text to UTF-8 (e.g. iconv), or use --bytes to model raw bytes")
    }

    /// The UTF-8 bytes of one scalar value.
    public static func encode(_ v: UInt32) -> [UInt8] {
        switch v {
        case 0..<0x80: return [UInt8(v)]
        case 0x80..<0x800: return [UInt8(0xC0 | (v >> 6)), UInt8(0x80 | (v & 0x3F))]
        case 0x800..<0x10000:
            return [UInt8(0xE0 | (v >> 12)), UInt8(0x80 | ((v >> 6) & 0x3F)), UInt8(0x80 | (v & 0x3F))]
        default:
            return [UInt8(0xF0 | (v >> 18)), UInt8(0x80 | ((v >> 12) & 0x3F)),
                    UInt8(0x80 | ((v >> 6) & 0x3F)), UInt8(0x80 | (v & 0x3F))]
        }
    }
}
