import Foundation
import Glibc

// The paper's workload: random alphanumeric keys and values, uniform or hot-cold key choice,
// a get:put mix. Keys are computed from their index (no table of a million strings in memory).

/// Monotonic clock in nanoseconds.
@inline(__always)
func benchNow() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// SplitMix64: small, fast, good enough to pick keys and operations.
struct BenchRNG {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    @inline(__always)
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in 0..<n.
    @inline(__always)
    mutating func below(_ n: Int) -> Int {
        Int(next().multipliedFullWidth(by: UInt64(n)).high)
    }

    /// Uniform in [0, 1).
    @inline(__always)
    mutating func unit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }
}

let benchAlphabet: [UInt8] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

/// `count` distinct alphanumeric keys of `size` characters, key(i) computed on demand.
///
/// The first min(size, 10) characters are the base-62 digits of an affine permutation of i modulo
/// 62^d (a bijection: the keys are distinct); the remaining characters come from a hash of i. The
/// same (size, seed) gives the same key for the same index in every run and for every `count`, so
/// a database preloaded with 1,000,000 keys contains the 4000-key set, and an ascending entries
/// sweep only has to add the new keys.
struct BenchKeySpace: Sendable {
    let size: Int
    let count: Int
    let seed: UInt64
    private let digits: Int
    private let modulus: UInt64
    private let multiplier: UInt64
    private let offset: UInt64
    /// Every key, made once, when there are at most `cachedMax`: a measured operation then makes
    /// no key string of its own (a 128-byte key cost the bench client 0.5 µs per read, 5 % of its
    /// CPU with 8 x 32 reads in flight, counted as the client's).
    private var cached: [String]?
    /// Every key's znode path under one parent, made once per key space and shared by all of a
    /// point's ZooKeeper sessions (`withZnodePaths`); nil: made per operation.
    private var znodePaths: (parent: String, paths: [String])?

    /// Key spaces up to this size are made once (100,000 keys of 128 bytes: about 15 MiB).
    static let cachedMax = 100_000

    /// Distinct keys of this length that exist: 62^size (saturating).
    static func capacity(keySize: Int) -> Int {
        var c = 1
        for _ in 0..<min(keySize, 10) { c *= 62 }
        return keySize > 10 ? Int.max : c
    }

    init(size: Int, count: Int, seed: UInt64) {
        precondition(size >= 1 && count >= 1 && count <= BenchKeySpace.capacity(keySize: size))
        self.size = size
        self.count = count
        self.seed = seed
        digits = min(size, 10)
        var m: UInt64 = 1
        for _ in 0..<digits { m *= 62 }
        modulus = m
        // Coprime to 62^d = 2^d * 31^d: odd and not a multiple of 31.
        var a = (0x5851_F42D_4C95_7F2D ^ seed) % m
        if a < 2 { a = 3 }
        if a % 2 == 0 { a += 1 }
        while a % 31 == 0 || a >= m { a = (a + 2) % m; if a % 2 == 0 { a += 1 } }
        multiplier = a
        var r = BenchRNG(seed: seed ^ 0xA076_1D64_78BD_642F)
        offset = r.next() % m
        if count <= Self.cachedMax { cached = (0..<count).map { make($0) } }
    }

    /// This key space with every znode path under `parent` made once (when its keys are).
    func withZnodePaths(parent: String) -> BenchKeySpace {
        guard cached != nil else { return self }
        var space = self
        space.znodePaths = (parent, (0..<count).map { parent + "/" + key($0) })
        return space
    }

    /// The znode of key `index` under `parent`.
    func znodePath(_ index: Int, parent: String) -> String {
        if let znodePaths, znodePaths.parent == parent { return znodePaths.paths[index] }
        return parent + "/" + key(index)
    }

    /// The key of `index` (0 ..< count).
    func key(_ index: Int) -> String {
        if let cached { return cached[index] }
        return make(index)
    }

    private func make(_ index: Int) -> String {
        let (hi, lo) = multiplier.multipliedFullWidth(by: UInt64(index))
        let product = modulus.dividingFullWidth((hi, lo)).remainder
        var v = product &+ offset
        if v >= modulus || v < product { v = v &- modulus }
        return String(unsafeUninitializedCapacity: size) { buffer in
            var x = v
            for j in 0..<digits {
                buffer[j] = benchAlphabet[Int(x % 62)]
                x /= 62
            }
            if size > digits {
                var r = BenchRNG(seed: seed &+ UInt64(index) &* 0xD6E8_FEB8_6659_FD93)
                var bits = r.next()
                var left = 10
                for j in digits..<size {
                    if left == 0 { bits = r.next(); left = 10 }
                    buffer[j] = benchAlphabet[Int(bits % 62)]
                    bits /= 62
                    left -= 1
                }
            }
            return size
        }
    }
}

/// A few random alphanumeric values of one size, used round-robin (a million 1 KiB values would
/// not fit in the client's memory, and their content does not matter to either server).
struct BenchValuePool: Sendable {
    let values: [[UInt8]]
    init(size: Int, count: Int = 64, seed: UInt64) {
        var r = BenchRNG(seed: seed ^ UInt64(size) &* 0x9E37_79B9)
        values = (0..<count).map { _ in (0..<size).map { _ in benchAlphabet[r.below(62)] } }
    }
    @inline(__always)
    func value(_ i: Int) -> [UInt8] { values[i % values.count] }
}

enum BenchDistribution: String, Codable, Sendable, CaseIterable {
    case uniform
    /// 90 % of the requests go to 10 % of the keys.
    case hotcold

    @inline(__always)
    func pick(_ rng: inout BenchRNG, count: Int) -> Int {
        switch self {
        case .uniform:
            return rng.below(count)
        case .hotcold:
            let hot = max(1, count / 10)
            if hot == count || rng.below(10) < 9 { return rng.below(hot) }
            return hot + rng.below(count - hot)
        }
    }
}

/// A get:put ratio such as 90:10.
struct BenchMix: Codable, Sendable, Hashable, CustomStringConvertible {
    var get: Int
    var put: Int
    static let paper: [BenchMix] = [BenchMix(get: 0, put: 100), BenchMix(get: 50, put: 50), BenchMix(get: 75, put: 25), BenchMix(get: 90, put: 10), BenchMix(get: 100, put: 0)]
    var description: String { "\(get):\(put)" }
    var getFraction: Double { Double(get) / Double(get + put) }

    init(get: Int, put: Int) { self.get = get; self.put = put }

    init?(parsing s: Substring) {
        let parts = s.split(separator: ":")
        guard parts.count == 2, let g = Int(parts[0]), let p = Int(parts[1]), g >= 0, p >= 0, g + p > 0 else { return nil }
        get = g
        put = p
    }
}

/// A (key size, value size) pair.
struct BenchSizes: Codable, Sendable, Hashable, CustomStringConvertible {
    var key: Int
    var value: Int
    /// The design paper's sizes.
    static let paper: [BenchSizes] = [BenchSizes(key: 2, value: 16), BenchSizes(key: 4, value: 64), BenchSizes(key: 16, value: 256), BenchSizes(key: 64, value: 1024)]
    var description: String { "\(key)/\(value)" }

    init(key: Int, value: Int) { self.key = key; self.value = value }

    /// "128:1024", "128/1024" or "(16,256)" (the caller turns the tuple form into "16:256").
    init?(parsing s: Substring) {
        let cleaned = s.filter { !"() ".contains($0) }
        let parts = cleaned.split(whereSeparator: { $0 == ":" || $0 == "/" || $0 == "x" })
        guard parts.count == 2, let k = Int(parts[0]), let v = Int(parts[1]), k >= 1, k <= 1024, v >= 0, v <= 1 << 20 else { return nil }
        key = k
        value = v
    }
}
