// A small, fast, serialisable PRNG (xoshiro256**, seeded by splitmix64):
// the same seed gives the same initialisation and dropout masks everywhere.

public struct RNG: Equatable, Sendable {
    public var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var s = seed
        func splitmix() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    public init(state: [UInt64]) {
        precondition(state.count == 4)
        self.state = (state[0], state[1], state[2], state[3])
    }

    public var stateArray: [UInt64] { [state.0, state.1, state.2, state.3] }

    public static func == (a: RNG, b: RNG) -> Bool { a.stateArray == b.stateArray }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    @inline(__always)
    func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func uniform() -> Double {
        Double(next() >> 11) * (1.0 / 9007199254740992.0)
    }

    /// Uniform Float in [0, 1) with 24 random bits.
    @inline(__always)
    public mutating func uniformFloat() -> Float {
        Float(next() >> 40) * (1.0 / 16777216.0)
    }

    /// Uniform integer in 0..<n.
    public mutating func below(_ n: Int) -> Int {
        Int(uniform() * Double(n)) % n
    }
}

/// Which rows of the global minibatch a network holds, when the batch is
/// split across processes (data-parallel training): its rows are
/// [offset, offset + its batch) of `global`.
public struct BatchShare: Equatable, Sendable {
    public var global: Int
    public var offset: Int
    public init(global: Int, offset: Int) {
        self.global = global
        self.offset = offset
    }
}

/// Draws one layer's dropout decisions, time-major (T, batch, H), in the
/// stream order of the whole minibatch, and calls `keep(i, kept)` for the
/// elements of this network's rows (i in its own (T, batch, H) layout). A
/// share of the batch thus gets exactly the decisions the single process
/// would have made for those rows, and every process's stream stays in step.
@inline(__always)
public func drawDropout(rng: inout RNG, keepProbability: Float, steps T: Int, batch B: Int, width H: Int,
                 share: BatchShare?, _ keep: (Int, Bool) -> Void) {
    guard let share, share.global != B else {
        for i in 0..<(T * B * H) { keep(i, rng.uniformFloat() < keepProbability) }
        return
    }
    for t in 0..<T {
        for b in 0..<share.global {
            let local = b - share.offset
            if local >= 0 && local < B {
                let base = (t * B + local) * H
                for j in 0..<H { keep(base + j, rng.uniformFloat() < keepProbability) }
            } else {
                for _ in 0..<H { _ = rng.next() }
            }
        }
    }
}
