// Inputs that crashed the fuzz-tensorfile harness (Fuzz/, `make fuzz`): each
// must now be rejected with a CharRNNError by the same calls the harness
// makes. The files are in Fixtures/fuzz/ (made by Fuzz/make-regressions.py);
// their framed copies are also seeds in Fuzz/corpus/tensorfile/.
@testable import CharRNNCore
@testable import CharRNNOpenCL
@testable import CharRNNCLI
import Foundation
import XCTest

final class FuzzRegressionTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent("fuzz")

    func fixture(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: Self.folder.appendingPathComponent(name)))
    }

    /// What fuzz-tensorfile does with an input: read it, load it as a
    /// checkpoint, and (had it loaded) save it again.
    func loadCheckpoint(_ bytes: [UInt8]) throws -> TensorFile {
        let file = try TensorFile.read(from: MemorySource(bytes), name: "input")
        let checkpoint = try Checkpoint(file: file, name: "input")
        return checkpoint.tensorFile
    }

    // Checkpoint(file:) built the parameter layout from the config before
    // checking it against the tensors: sizes that overflow trapped.
    func testConfigSizesThatOverflowAreErrors() throws {
        assertThrowsCharRNNError(["rnn_size 4611686018427387904", "out of range"]) {
            try loadCheckpoint(try fixture("ckpt-lstm-rnn-size-overflow.safetensors"))
        }
        assertThrowsCharRNNError(["rnn.weight_ih_l0", "expected F32 [4611686018427387904, 26]"]) {
            try loadCheckpoint(try fixture("ckpt-rnn-size-overflow.safetensors"))
        }
        assertThrowsCharRNNError(["missing 'encoder.weight'"]) {
            try loadCheckpoint(try fixture("ckpt-embedding-size-overflow.safetensors"))
        }
    }

    // ... and sizes that fit asked for the whole parameter block (terabytes),
    // or built a billion-layer layout, before looking at a tensor.
    func testHugeConfigSizesFailFast() throws {
        assertThrowsCharRNNError(["rnn.weight_ih_l0", "expected F32 [1000000000, 26]"]) {
            try loadCheckpoint(try fixture("ckpt-rnn-size-huge.safetensors"))
        }
        assertThrowsCharRNNError(["missing 'rnn.weight_ih_l1'"]) {
            try loadCheckpoint(try fixture("ckpt-num-layers-huge.safetensors"))
        }
    }

    // Carried state of the wrong width loaded, and saving the checkpoint
    // again trapped in Tensor's shape/bytes precondition.
    func testStateOfTheWrongWidthIsAnError() throws {
        assertThrowsCharRNNError(["'state.h_l0' has shape [1, 5]", "expected [batch, 4]"]) {
            try loadCheckpoint(try fixture("ckpt-state-width.safetensors"))
        }
    }

    // The check walks the same weights as the layout, so that once it
    // passes, ParamLayout's arithmetic is on shapes the file really holds.
    func testForEachWeightMatchesTheLayout() throws {
        for cell in CellKind.allCases {
            for (layers, embedding) in [(1, 0), (3, 0), (2, 5)] {
                let config = ModelConfig(cell: cell, rnnSize: 7, numLayers: layers, embeddingSize: embedding,
                                         dropout: 0, vocabSize: 11)
                var walked: [(String, [Int])] = []
                try config.forEachWeight(name: "c") { walked.append(($0, $1)) }
                let views = ParamLayout(config).views
                XCTAssertEqual(walked.map(\.0), views.map(\.name))
                XCTAssertEqual(walked.map(\.1), views.map(\.shape))
            }
        }
    }

    // The fixtures' base, unchanged, still loads and saves.
    func testTheUncorruptedBaseLoads() throws {
        let file = try loadCheckpoint(try fixture("ckpt-base.safetensors"))
        XCTAssertNotNil(file["decoder.weight"])
    }
}
