import Foundation
import WritPolicy
import WritToken

/// How a baseline is kept in the store: one JSON document per workload and task type.
extension UsageBaseline {
    /// The stored document.
    package var storedJSON: String {
        let uses: [JSONValue] = uses.sorted { $0.key < $1.key }.map { use, seen in
            .object([
                "audience": .string(use.audience), "type": .string(use.resourceType), "action": .string(use.action),
                "prefix": .string(use.prefix), "allowed": .integer(Int64(seen.allowed)),
                "refused": .integer(Int64(seen.refused)), "last": .integer(seen.lastSeen),
            ])
        }
        let document: JSONValue = .object([
            "tasks": .integer(Int64(tasks)),
            "updated": .integer(updated),
            "requests": .array(requestsPerTask.map { .integer(Int64($0)) }),
            "refusals": .array(refusalsPerTask.map { .integer(Int64($0)) }),
            "tokens": .array(tokensPerTask.map { .integer(Int64($0)) }),
            "subtasks": .array(subtasksPerTask.map { .integer(Int64($0)) }),
            "uses": .array(uses),
        ])
        return JSONWriter.string(document)
    }

    /// A baseline from its stored document; a damaged document is an error, never a silent default.
    static func stored(workload: String, taskType: String, json text: String) throws -> UsageBaseline {
        let damaged = StoredBaselineError(workload: workload, taskType: taskType)
        guard case .object(let document) = try? StrictJSON().parse(text) else { throw damaged }
        func integer(_ value: JSONValue?) throws -> Int64 {
            guard case .integer(let number)? = value else { throw damaged }
            return number
        }
        func integers(_ value: JSONValue?) throws -> [Int] {
            guard case .array(let items)? = value else { throw damaged }
            return try items.map { Int(try integer($0)) }
        }
        var baseline = UsageBaseline(workload: workload, taskType: taskType, now: try integer(document["updated"]))
        baseline.tasks = Int(try integer(document["tasks"]))
        baseline.requestsPerTask = try integers(document["requests"])
        baseline.refusalsPerTask = try integers(document["refusals"])
        baseline.tokensPerTask = try integers(document["tokens"])
        baseline.subtasksPerTask = try integers(document["subtasks"])
        guard case .array(let uses)? = document["uses"] else { throw damaged }
        for case .object(let item) in uses {
            guard let audience = item["audience"]?.stringValue, let type = item["type"]?.stringValue,
                let action = item["action"]?.stringValue, let prefix = item["prefix"]?.stringValue
            else { throw damaged }
            let use = Use(audience: audience, resourceType: type, action: action, prefix: prefix)
            baseline.uses[use] = Seen(
                allowed: Int(try integer(item["allowed"])),
                refused: Int(try integer(item["refused"])),
                lastSeen: try integer(item["last"])
            )
        }
        return baseline
    }
}

/// A stored baseline that does not read back.
struct StoredBaselineError: Error, CustomStringConvertible {
    let workload: String
    let taskType: String
    var description: String { "the usage baseline of \(workload) / \(taskType) is damaged in the store" }
}
