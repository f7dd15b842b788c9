// Shared by the fuzz targets: run a call that may reject its input with a
// CharRNNError (fine) but must never trap, crash or throw anything else.
import CharRNNCore

/// Runs `body`; a CharRNNError means "input rejected" (nil). Any other
/// error is a finding: the process aborts so libFuzzer records the input.
@inline(never)
public func accepting<T>(_ body: () throws -> T) -> T? {
    do {
        return try body()
    } catch is CharRNNError {
        return nil
    } catch {
        fatalError("not a CharRNNError: \(type(of: error)): \(error)")
    }
}

/// A property the code under test must keep; a violation is a finding.
@inline(never)
public func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("property violated: \(message())") }
}

/// The bytes libFuzzer hands over, as a Swift array.
public func fuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// `accepting` for calls that return nothing: true when they succeed.
@inline(never)
public func succeeds(_ body: () throws -> Void) -> Bool {
    accepting(body) != nil
}
