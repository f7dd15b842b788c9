// swift-tools-version:5.4
// libFuzzer targets for charrnn's parsers. A separate package so that the
// main package's `swift build` / `swift test` never build them. Build and
// run with `make fuzz` (see the README in this folder), which passes
// -sanitize=fuzzer,address to every Swift module, CharRNNCore included, so the
// fuzzer sees the library's coverage.
import PackageDescription

// Tools version 5.4 on purpose: from 5.5 on, SwiftPM links executables with
// `main` renamed from `<module>_main` (testable executables), which clashes
// with libFuzzer's own main(). Each target is one file defining
// LLVMFuzzerTestOneInput with @_cdecl, compiled with -parse-as-library.
let flags: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]
let charRNN: Target.Dependency = .product(name: "CharRNNCore", package: "charrnn")

let package = Package(
    name: "charrnn-fuzz",
    dependencies: [
        .package(name: "charrnn", path: ".."),
    ],
    targets: [
        .target(name: "FuzzSupport", dependencies: [charRNN], path: "Sources/FuzzSupport"),
        .executableTarget(name: "fuzz-tensorfile", dependencies: [charRNN, "FuzzSupport"], path: "Sources/fuzz-tensorfile",
                          swiftSettings: flags),
        .executableTarget(name: "fuzz-vocab", dependencies: [charRNN, "FuzzSupport"], path: "Sources/fuzz-vocab",
                          swiftSettings: flags),
        .executableTarget(name: "fuzz-utf8", dependencies: [charRNN, "FuzzSupport"], path: "Sources/fuzz-utf8",
                          swiftSettings: flags),
    ]
)
