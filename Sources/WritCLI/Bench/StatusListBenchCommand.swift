public import ArgumentParser
import Foundation
import WritBroker
import WritToken

/// `writ bench status-list`: what a Token Status List of a million live tokens costs to build, send and read.
public struct StatusListBenchCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "status-list",
        abstract: "Time building, signing and reading a Token Status List of a million tokens, and report its size.",
        discussion: """
            Builds the list the broker serves (one bit per token, --revoked of them set at random), compresses it
            with ZLIB at the highest level, signs it as a statuslist+jwt, and reads it back as a relying party
            does (signature, inflate, one bit). Medians of --rounds rounds:
              .build/release/writ bench status-list --tokens 1048576 --revoked 0.01 --rounds 7
            """
    )

    @Option(help: "Tokens in the list.")
    var tokens = StatusListService.listSize

    @Option(help: "The fraction of them revoked.")
    var revoked = 0.01

    @Option(help: "Rounds; the median is reported.")
    var rounds = 7

    public init() {}

    public func run() async throws {
        guard tokens > 0, (0...1).contains(revoked), rounds > 0 else {
            throw ValidationError("--tokens > 0, --revoked in 0...1 and --rounds > 0")
        }
        var generator = SystemRandomNumberGenerator()
        var indices = Set<Int>()
        let count = Int(Double(tokens) * revoked)
        while indices.count < count { indices.insert(Int.random(in: 0..<tokens, using: &generator)) }
        let sorted = indices.sorted()
        let key = SigningKey(id: "bench", privateKey: .generate(.es256))
        let uri = "https://broker.example/v1/status-lists/bench.0"
        var build: [Double] = []
        var read: [Double] = []
        var token = ""
        var compressedSize = 0
        for _ in 0..<rounds {
            let started = ContinuousClock.now
            var list = StatusList(count: tokens)
            for index in sorted { list.set(StatusList.Status.invalid.rawValue, at: index) }
            let content = StatusListToken(
                uri: uri,
                issuer: "https://broker.example",
                issuedAt: Date(),
                expiresAt: Date().addingTimeInterval(3600),
                timeToLive: 30,
                list: list
            )
            token = try content.signed(with: key)
            build.append(Self.milliseconds(ContinuousClock.now - started))
            compressedSize = list.compressed().count

            let reading = ContinuousClock.now
            let checked = try StatusListToken.verified(
                token,
                uri: uri,
                issuer: "https://broker.example",
                now: Date(),
                lookup: { _ in key.verificationKey }
            )
            guard let probe = sorted.first, checked.list.status(at: probe) == 1 else {
                throw CLIError("the list read back does not hold a revoked token's bit")
            }
            read.append(Self.milliseconds(ContinuousClock.now - reading))
        }
        print("tokens: \(tokens), revoked: \(count) (\(revoked * 100)%), rounds: \(rounds)")
        print("packed list:              \(Self.kibibytes((tokens + 7) / 8))")
        print("compressed (ZLIB, lst):   \(Self.kibibytes(compressedSize))")
        print("signed statuslist+jwt:    \(Self.kibibytes(token.utf8.count))")
        print("build (bits, compress, sign), median:  \(Self.format(Self.median(build))) ms")
        print("read (verify, inflate, one bit), median: \(Self.format(Self.median(read))) ms")
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    static func kibibytes(_ bytes: Int) -> String { String(format: "%.1f KiB (%d bytes)", Double(bytes) / 1024, bytes) }

    static func format(_ value: Double) -> String { String(format: "%.2f", value) }
}
