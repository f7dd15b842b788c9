// The one escape language of charrnn's text: vocabulary files (charrnn-files(5))
// and option strings (--stop, --separator, --lines) write \n, \t, \r, \\,
// \u{XXXX} (a Unicode scalar, 1 to 6 hex digits) and \xHH (a byte).

public enum Escapes {
    /// One unit of escaped text: a Unicode scalar (literal or \u{...}) or a
    /// byte (\xHH); nil for a backslash that starts no known escape.
    public enum Piece: Equatable {
        case scalar(UInt32)
        case byte(UInt8)
    }

    /// The escape at `i` (a backslash) and the index after it, or nil.
    static func escape(_ s: [Unicode.Scalar], at i: Int) -> (Piece, Int)? {
        guard i + 1 < s.count else { return nil }
        switch s[i + 1] {
        case "n": return (.scalar(0x0A), i + 2)
        case "t": return (.scalar(0x09), i + 2)
        case "r": return (.scalar(0x0D), i + 2)
        case "\\": return (.scalar(0x5C), i + 2)
        case "x":
            guard i + 3 < s.count else { return nil }
            let hex = String(String.UnicodeScalarView(s[(i + 2)...(i + 3)]))
            guard hex.allSatisfy(\.isHexDigit), let v = UInt8(hex, radix: 16) else { return nil }
            return (.byte(v), i + 4)
        case "u":
            guard i + 2 < s.count, s[i + 2] == "{", let close = s[(i + 3)...].firstIndex(of: "}") else { return nil }
            let hex = String(String.UnicodeScalarView(s[(i + 3)..<close]))
            guard !hex.isEmpty, hex.count <= 6, hex.allSatisfy(\.isHexDigit), let v = UInt32(hex, radix: 16),
                  Unicode.Scalar(v) != nil else { return nil }
            return (.scalar(v), close + 1)
        default:
            return nil
        }
    }

    /// The pieces of `text`; a backslash that starts no known escape is
    /// taken literally (so `a\qb` stays as written).
    public static func pieces(_ text: String) -> [Piece] {
        let s = Array(text.unicodeScalars)
        var out: [Piece] = []
        var i = 0
        while i < s.count {
            if s[i] == "\\", let (piece, next) = escape(s, at: i) {
                out.append(piece)
                i = next
            } else {
                out.append(.scalar(s[i].value))
                i += 1
            }
        }
        return out
    }

    /// The bytes `text` stands for: scalars as UTF-8, \xHH as the byte.
    public static func bytes(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        for p in pieces(text) {
            switch p {
            case .scalar(let v): out += UTF8Scan.encode(v)
            case .byte(let b): out.append(b)
            }
        }
        return out
    }

    /// Exactly one piece written with only the forms the vocabulary file
    /// allows for `unit` (characters: \u{...}; bytes: \xHH and ASCII), or nil.
    static func single(_ field: Substring, unit: TextUnit) -> UInt32? {
        let s = Array(field.unicodeScalars)
        guard let first = s.first else { return nil }
        if first != "\\" {
            guard s.count == 1 else { return nil }
            if unit == .byte && first.value >= 0x80 { return nil }
            return first.value
        }
        guard let (piece, next) = escape(s, at: 0), next == s.count else { return nil }
        switch (piece, unit) {
        case (.scalar(let v), .char): return v
        case (.scalar(let v), .byte):
            // \n \t \r \\ only: other scalars are written \xHH in a byte vocab.
            return [0x0A, 0x09, 0x0D, 0x5C].contains(v) && s[1] != "u" ? v : nil
        case (.byte(let b), .byte): return UInt32(b)
        case (.byte, .char): return nil
        }
    }
}
