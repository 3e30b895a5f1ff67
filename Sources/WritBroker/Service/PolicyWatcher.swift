public import Foundation
public import Logging
public import ServiceLifecycle
import UnixSignals
import WritPolicy

/// Reloads the policy directory when a file in it changes, or on SIGHUP. A reload is all or nothing: a set
/// with any error is rejected and logged, and the policies in force stay.
public struct PolicyWatcher: Service {
    let broker: Broker
    let directory: URL
    let interval: Duration
    let logger: Logger

    /// A watcher of `directory`.
    public init(broker: Broker, directory: URL, interval: Duration = .seconds(1), logger: Logger) {
        self.broker = broker
        self.directory = directory
        self.interval = interval
        self.logger = logger
    }

    /// A fingerprint of the directory: every policy file's name, size and modification time.
    static func fingerprint(_ directory: URL) -> String {
        let files = (try? PolicyLoader.files(in: directory)) ?? []
        return files.map { url in
            let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            let size = (attributes?[.size] as? NSNumber)?.intValue ?? 0
            return "\(url.lastPathComponent):\(modified):\(size)"
        }.joined(separator: "|")
    }

    /// Loads the directory and installs it if valid; returns whether it was installed.
    @discardableResult
    public func reload(reason: String) -> Bool {
        switch PolicyLoader.load(directory: directory) {
        case .success(let set):
            broker.install(set)
            logger.info("policies reloaded", metadata: ["rules": "\(set.rules.count)", "trigger": "\(reason)"])
            return true
        case .failure(let errors):
            logger.error(
                "policy reload rejected; the previous policies stay in force",
                metadata: ["trigger": "\(reason)", "problems": "\(errors.description)"]
            )
            return false
        }
    }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
                    reload(reason: "SIGHUP")
                }
            }
            group.addTask {
                var seen = Self.fingerprint(directory)
                while !Task.isShuttingDownGracefully && !Task.isCancelled {
                    do {
                        try await Task.sleep(for: interval)
                    } catch {
                        break
                    }
                    let now = Self.fingerprint(directory)
                    if now != seen {
                        seen = now
                        reload(reason: "file change")
                    }
                }
            }
            await group.waitForAll()
        }
    }
}
