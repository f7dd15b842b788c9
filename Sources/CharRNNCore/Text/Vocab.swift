// The vocabulary: which symbols (Unicode scalars or bytes) the model knows,
// their ids (ordered by code point) and counts; its TSV file format.

public enum TextUnit: String, Sendable {
    case char
    case byte
}

public struct Vocab: Equatable, Sendable {
    public var unit: TextUnit
    /// Symbol of each id: a Unicode scalar value, or a byte value.
    public private(set) var symbols: [UInt32]
    /// How often each symbol occurred in the text the vocab was built from.
    public var counts: [Int]
    /// symbol value -> id, -1 when absent (dense; size = max symbol + 1).
    private var idTable: [Int32]

    public static let header = "# charrnn vocab v1 unit="

    public init(unit: TextUnit, symbols: [UInt32], counts: [Int]) {
        precondition(symbols.count == counts.count)
        self.unit = unit
        self.symbols = symbols
        self.counts = counts
        let size = Int(symbols.max().map { $0 + 1 } ?? 0)
        var table = [Int32](repeating: -1, count: size)
        for (id, s) in symbols.enumerated() { table[Int(s)] = Int32(id) }
        idTable = table
    }

    public var count: Int { symbols.count }

    public static func == (a: Vocab, b: Vocab) -> Bool {
        a.unit == b.unit && a.symbols == b.symbols && a.counts == b.counts
    }

    @inline(__always)
    public func id(of symbol: UInt32) -> Int? {
        let s = Int(symbol)
        if s < idTable.count {
            let id = idTable[s]
            if id >= 0 { return Int(id) }
        }
        return nil
    }

    /// The dtype of a tokens tensor for this vocab.
    public var tokenDType: DType {
        count <= 256 ? .U8 : (count <= 65536 ? .U16 : .U32)
    }

    /// Builds the vocab of a text, ids ordered by code point (or byte).
    /// Symbols seen fewer than `minCount` times are left out.
    public static func build(from bytes: UnsafeBufferPointer<UInt8>, unit: TextUnit, name: String, minCount: Int = 1) throws -> Vocab {
        var tally: [Int]
        switch unit {
        case .byte:
            tally = [Int](repeating: 0, count: 256)
            for b in bytes { tally[Int(b)] += 1 }
        case .char:
            tally = [Int](repeating: 0, count: 0x110000)
            try tally.withUnsafeMutableBufferPointer { t in
                try UTF8Scan.forEachScalar(bytes, name: name) { s, _ in t[Int(s)] += 1 }
            }
        }
        var symbols: [UInt32] = []
        var counts: [Int] = []
        for (s, c) in tally.enumerated() where c > 0 && c >= minCount {
            symbols.append(UInt32(s))
            counts.append(c)
        }
        return Vocab(unit: unit, symbols: symbols, counts: counts)
    }

    // MARK: Text form

    /// How a symbol is written in the vocab file (escaped).
    public func escaped(_ symbol: UInt32) -> String {
        switch symbol {
        case 0x0A: return "\\n"
        case 0x09: return "\\t"
        case 0x0D: return "\\r"
        case 0x5C: return "\\\\"
        default: break
        }
        switch unit {
        case .byte:
            if symbol >= 0x20 && symbol < 0x7F { return String(UnicodeScalar(UInt8(symbol))) }
            let hex = String(symbol, radix: 16, uppercase: true)
            return "\\x" + (hex.count < 2 ? "0" + hex : hex)
        case .char:
            let scalar = Unicode.Scalar(symbol)!
            if Vocab.needsEscape(scalar) {
                let hex = String(symbol, radix: 16, uppercase: true)
                return "\\u{" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + "}"
            }
            return String(Character(scalar))
        }
    }

    /// Control, format, separator (other than space), private-use and
    /// unassigned scalars are written as \u{XXXX} so the file stays readable.
    static func needsEscape(_ s: Unicode.Scalar) -> Bool {
        if s.value == 0x20 { return false }
        switch s.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .spaceSeparator,
             .privateUse, .unassigned, .surrogate:
            return true
        default:
            return false
        }
    }

    /// A symbol for messages: the character itself where printable, and its
    /// code point (U+0041 or byte 0x41).
    public func describe(_ symbol: UInt32) -> String {
        switch unit {
        case .byte:
            let hex = String(symbol, radix: 16, uppercase: true)
            return "byte 0x" + (hex.count < 2 ? "0" + hex : hex)
        case .char:
            let hex = String(symbol, radix: 16, uppercase: true)
            let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            if let s = Unicode.Scalar(symbol), !Vocab.needsEscape(s), symbol != 0x0A, symbol != 0x09 {
                return "'\(String(Character(s)))' (\(code))"
            }
            return "'\(escaped(symbol))' (\(code))"
        }
    }

    /// The vocab file text.
    public var tsv: String {
        var out = Vocab.header + unit.rawValue + "\n"
        for (id, s) in symbols.enumerated() {
            out += "\(id)\t\(counts[id])\t\(escaped(s))\n"
        }
        return out
    }

    /// Parses vocab file text; errors name the line.
    public static func parse(_ text: String, name: String) throws -> Vocab {
        // Split on LF scalars (a String's "\r\n" is one Character), and drop
        // a CR before the LF: files edited on Windows still read.
        var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
            var scalars = String.UnicodeScalarView(line)
            if scalars.last == "\r" { scalars.removeLast() }
            return Substring(String(scalars))
        }
        if lines.last == "" { lines.removeLast() }
        guard let first = lines.first, first.hasPrefix(header) else {
            throw CharRNNError("\(name) is not a charrnn vocab file (the first line must be '\(header)char' or '\(header)byte')",
                               hint: "make one with rnn-vocab")
        }
        guard let unit = TextUnit(rawValue: String(first.dropFirst(header.count))) else {
            throw CharRNNError("\(name): line 1: unknown unit '\(first.dropFirst(header.count))'", hint: "use unit=char or unit=byte")
        }
        var entries: [(id: Int, count: Int, symbol: UInt32, line: Int)] = []
        for (index, line) in lines.enumerated().dropFirst() {
            let lineNumber = index + 1
            if line.hasPrefix("#") { continue }
            let fields = line.split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
            func bad(_ what: String) -> CharRNNError {
                CharRNNError("\(name): line \(lineNumber): \(what)", hint: "each line is id<TAB>count<TAB>symbol; remake the file with rnn-vocab")
            }
            guard fields.count == 3 else { throw bad("expected 3 tab-separated fields, found \(fields.count)") }
            guard let id = Int(fields[0]), id >= 0 else { throw bad("'\(fields[0])' is not an id") }
            guard let count = Int(fields[1]), count >= 0 else { throw bad("'\(fields[1])' is not a count") }
            guard let symbol = unescape(Substring(fields[2]), unit: unit) else {
                throw bad("'\(fields[2])' is not exactly one \(unit == .char ? "character" : "byte") (escapes: \\n \\t \\r \\\\ \(unit == .char ? "\\u{XXXX}" : "\\xHH"))")
            }
            entries.append((id, count, symbol, lineNumber))
        }
        if entries.isEmpty {
            throw CharRNNError("\(name) lists no symbols", hint: "make the vocab from some text with rnn-vocab")
        }
        var symbols = [UInt32](repeating: 0, count: entries.count)
        var counts = [Int](repeating: 0, count: entries.count)
        var idLine = [Int](repeating: 0, count: entries.count)
        var symbolLine: [UInt32: Int] = [:]
        for e in entries {
            guard e.id < entries.count else {
                throw CharRNNError("\(name): line \(e.line): id \(e.id) is out of range (ids must run 0..\(entries.count - 1))",
                                   hint: "number the symbols 0, 1, 2, ... without gaps")
            }
            if idLine[e.id] != 0 {
                throw CharRNNError("\(name): line \(e.line): duplicate id \(e.id) (first on line \(idLine[e.id]))",
                                   hint: "each id must appear once")
            }
            if let prev = symbolLine[e.symbol] {
                throw CharRNNError("\(name): line \(e.line): duplicate symbol \(Vocab(unit: unit, symbols: [], counts: []).describe(e.symbol)) (first on line \(prev))",
                                   hint: "each symbol must appear once")
            }
            idLine[e.id] = e.line
            symbolLine[e.symbol] = e.line
            symbols[e.id] = e.symbol
            counts[e.id] = e.count
        }
        return Vocab(unit: unit, symbols: symbols, counts: counts)
    }

    static func unescape(_ field: Substring, unit: TextUnit) -> UInt32? { Escapes.single(field, unit: unit) }

    /// The bytes of the symbol with id `id` (UTF-8 for a character).
    public func bytes(of id: Int) -> [UInt8] {
        unit == .byte ? [UInt8(symbols[id])] : UTF8Scan.encode(symbols[id])
    }
}
