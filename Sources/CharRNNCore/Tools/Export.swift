// Exports: NumPy .npz (a zip of .npy arrays, stored uncompressed) of a
// checkpoint's weights, for numpy.load.
import CZlib

public enum NPZ {
    /// The header of a .npy file (format 1.0) of `shape` (C order), `descr`
    /// the NumPy type ("<f4"); the data follows it.
    public static func npyHeader(descr: String, shape: [Int]) -> [UInt8] {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(dims), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let len = UInt16(header.utf8.count)
        out += [UInt8(len & 0xFF), UInt8(len >> 8)]
        out += Array(header.utf8)
        return out
    }

    /// The bytes of one .npy file (format 1.0).
    static func npy(_ tensor: Tensor) -> [UInt8] {
        let descr: String
        switch tensor.dtype {
        case .F32: descr = "<f4"
        case .F16: descr = "<f2"
        case .U8: descr = "|u1"
        case .U16: descr = "<u2"
        case .U32: descr = "<u4"
        case .I32: descr = "<i4"
        }
        return npyHeader(descr: descr, shape: tensor.shape) + tensor.bytes
    }

    /// A zip archive of NAME.npy entries, stored (no compression).
    public static func archive(_ arrays: [(String, Tensor)]) throws -> [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
        func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
        for (name, tensor) in arrays {
            let data = npy(tensor)
            if data.count >= Int(UInt32.max) || out.count >= Int(UInt32.max) {
                throw CharRNNError("\(name) is too large for an .npz without zip64", hint: "export --format safetensors instead")
            }
            let crc = data.withUnsafeBufferPointer { Int(crc32(0, $0.baseAddress, UInt32($0.count))) }
            let fileName = Array((name + ".npy").utf8)
            let offset = out.count
            // Local file header.
            out += le32(0x04034b50) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0x21)
            out += le32(crc) + le32(data.count) + le32(data.count) + le16(fileName.count) + le16(0)
            out += fileName
            out += data
            // Central directory entry.
            central += le32(0x02014b50) + le16(20) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0x21)
            central += le32(crc) + le32(data.count) + le32(data.count) + le16(fileName.count) + le16(0) + le16(0)
            central += le16(0) + le16(0) + le32(0) + le32(offset)
            central += fileName
        }
        let centralOffset = out.count
        out += central
        out += le32(0x06054b50) + le16(0) + le16(0) + le16(arrays.count) + le16(arrays.count)
        out += le32(central.count) + le32(centralOffset) + le16(0)
        return out
    }

    /// The weights under PyTorch's names, plus `vocab` (the symbols' code
    /// points or byte values, by id).
    public static func export(_ checkpoint: Checkpoint) throws -> [UInt8] {
        var arrays: [(String, Tensor)] = []
        for view in checkpoint.layout.views {
            let values = Array(checkpoint.params[view.offset..<(view.offset + view.count)])
            arrays.append((view.name, Tensor(floats: values, shape: view.shape)))
        }
        let symbols = checkpoint.vocab.symbols
        let bytes = symbols.withUnsafeBytes { Array($0) }
        arrays.append(("vocab", Tensor(dtype: .U32, shape: [symbols.count], bytes: bytes)))
        return try archive(arrays)
    }
}
