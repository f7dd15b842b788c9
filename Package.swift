// swift-tools-version:6.0
// charrnn: character-level RNN language models (char-rnn / torch-rnn) in Swift.
import PackageDescription

// libxsmm exists for x86-64 only; elsewhere the kernels go without it.
#if arch(x86_64)
let xsmm: [Target.Dependency] = ["CXSMM"]
#else
let xsmm: [Target.Dependency] = []
#endif

let package = Package(
    name: "charrnn",
    products: [
        .library(name: "CharRNNCore", targets: ["CharRNNCore"]),
        .executable(name: "rnn-vocab", targets: ["rnn-vocab"]),
        .executable(name: "rnn-encode", targets: ["rnn-encode"]),
        .executable(name: "rnn-train", targets: ["rnn-train"]),
        .executable(name: "rnn-sample", targets: ["rnn-sample"]),
        .executable(name: "rnn-ckpt", targets: ["rnn-ckpt"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Protocol buffers for the ONNX export (its onnx.pb.swift was generated
        // with this version's protoc-gen-swift).
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // System libraries, found through pkg-config (Debian: zlib1g-dev, libopenblas-dev, ocl-icd-opencl-dev, libclblast-dev).
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "COpenCL", path: "Sources/COpenCL", pkgConfig: "OpenCL",
                       providers: [.apt(["ocl-icd-opencl-dev", "opencl-headers"])]),
        // CLBlast, the tuned OpenCL BLAS, for the GEMMs of the OpenCL backend (Debian: libclblast-dev).
        // libxsmm: JIT small matrix products for the host's instruction set (Debian:
        // libxsmm-dev, x86-64 only), one of the per-step product kernels.
        .systemLibrary(name: "CXSMM", path: "Sources/CXSMM", pkgConfig: "libxsmm",
                       providers: [.apt(["libxsmm-dev"])]),
        .systemLibrary(name: "CCLBlast", path: "Sources/CCLBlast", pkgConfig: "clblast",
                       providers: [.apt(["libclblast-dev"])]),
        // Small C helpers: CPU features, signal flags, and the vectorised kernels
        // (built for every instruction set, chosen at run time; libxsmm's JIT
        // products beside them on x86-64).
        .target(name: "CSupport", dependencies: xsmm, path: "Sources/CSupport",
                exclude: ["kernels_impl.h", "kernels_table.h"],
                // sqrtf without errno lets the optimiser loops vectorise; AVX-512
                // code in 512-bit registers (the AVX-512 kernels only).
                cSettings: [.unsafeFlags(["-fno-math-errno", "-mprefer-vector-width=512"])]),
        // The core: text, tensor files, the model and its CPU backend, training,
        // sampling, checkpoints. No command line, no printing, no exit statuses,
        // no environment: configuration comes in as values (ARCHITECTURE.md).
        .target(name: "CharRNNCore", dependencies: ["CZlib", "COpenBLAS", "CSupport"], path: "Sources/CharRNNCore"),
        // The OpenCL backend: the core's network over OpenCL kernels and CLBlast.
        .target(name: "CharRNNOpenCL", dependencies: ["CharRNNCore", "COpenCL", "CCLBlast"], path: "Sources/CharRNNOpenCL"),
        // What the five tools share: options, reporters, exit statuses, the
        // environment, the --device choice.
        .target(name: "CharRNNCLI",
                dependencies: ["CharRNNCore", "CharRNNOpenCL", "CSupport",
                               .product(name: "ArgumentParser", package: "swift-argument-parser")],
                path: "Sources/CharRNNCLI"),
        // rnn-ckpt export --format onnx: the model as an ONNX graph, written
        // through swift-protobuf (onnx.pb.swift generated from onnx.proto).
        .target(name: "CharRNNONNX",
                dependencies: ["CharRNNCore", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                path: "Sources/CharRNNONNX"),
        .executableTarget(name: "rnn-vocab", dependencies: ["CharRNNCLI"], path: "Sources/rnn-vocab"),
        .executableTarget(name: "rnn-encode", dependencies: ["CharRNNCLI"], path: "Sources/rnn-encode"),
        .executableTarget(name: "rnn-train", dependencies: ["CharRNNCLI"], path: "Sources/rnn-train"),
        .executableTarget(name: "rnn-sample", dependencies: ["CharRNNCLI"], path: "Sources/rnn-sample"),
        .executableTarget(name: "rnn-ckpt", dependencies: ["CharRNNCLI", "CharRNNONNX"], path: "Sources/rnn-ckpt"),
        .testTarget(name: "CharRNNTests", dependencies: ["CharRNNCore", "CharRNNOpenCL", "CharRNNCLI", "CharRNNONNX", "CSupport",
                                   .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                    path: "Tests/CharRNNTests", exclude: ["Fixtures"]),
    ],
    // Swift 5 mode: the numerical code shares buffers across threads by design.
    swiftLanguageModes: [.v5]
)
