// Which OpenBLAS core type a tool asks for, given what OpenBLAS detected
// and what the CPU supports.
@testable import CharRNNCore
@testable import CharRNNOpenCL
@testable import CharRNNCLI
import XCTest
import COpenBLAS

final class OpenBLASSetupTests: XCTestCase {
    func recommend(_ detected: String, avx2: Bool = false, avx512: Bool = false, bf16: Bool = false) -> String? {
        OpenBLAS.recommendedCoreType(detected: detected, avx2: avx2, avx512: avx512, avx512bf16: bf16)
    }

    func testMisdetectedAVX512CPUGetsAVX512Kernels() {
        XCTAssertEqual(recommend("Prescott", avx2: true, avx512: true, bf16: true), "Cooperlake")
        XCTAssertEqual(recommend("Prescott", avx2: true, avx512: true, bf16: false), "SkylakeX")
        XCTAssertEqual(recommend("prescott", avx2: true, avx512: true), "SkylakeX", "names compare without case")
        XCTAssertEqual(recommend("Nehalem", avx2: true, avx512: true), "SkylakeX")
        XCTAssertEqual(recommend("Haswell", avx2: true, avx512: true), "SkylakeX", "AVX2 kernels on an AVX-512 CPU")
        XCTAssertEqual(recommend("Unknown", avx2: true, avx512: true, bf16: true), "Cooperlake")
    }

    func testGoodDetectionIsLeftAlone() {
        XCTAssertNil(recommend("Haswell", avx2: true))
        XCTAssertNil(recommend("Zen", avx2: true))
        XCTAssertNil(recommend("SkylakeX", avx2: true, avx512: true))
        XCTAssertNil(recommend("SKYLAKEX", avx2: true, avx512: true))
        XCTAssertNil(recommend("Cooperlake", avx2: true, avx512: true, bf16: true))
        XCTAssertNil(recommend("SapphireRapids", avx2: true, avx512: true, bf16: true))
        XCTAssertNil(recommend("SkylakeX", avx2: true, avx512: true, bf16: true), "SkylakeX kernels are already AVX-512")
    }

    func testAVX2CPU() {
        XCTAssertEqual(recommend("Prescott", avx2: true), "Haswell")
        XCTAssertEqual(recommend("Sandybridge", avx2: true), "Haswell")
        XCTAssertEqual(recommend("Core2", avx2: true), "Haswell")
    }

    func testNoAVX() {
        XCTAssertNil(recommend("Prescott"))
        XCTAssertNil(recommend("Sandybridge"))
        XCTAssertNil(recommend("Unknown"))
    }

    func testDescribeNamesTheKernels() {
        let line = OpenBLASSetup.describe()
        XCTAssertTrue(line.hasPrefix("OpenBLAS kernels: \(OpenBLAS.coreName) ("), line)
        let threads = Int(openblas_get_num_threads())
        XCTAssertTrue(line.hasSuffix(" \(threads) thread\(threads == 1 ? "" : "s")"), line)
        XCTAssertFalse(OpenBLAS.coreName.isEmpty)
        XCTAssertNotEqual(OpenBLAS.coreName, "unknown")
    }
}
