import Hummingbird
import WritToken

/// The task routes: a workload's own tasks, and the admin API's view of all of them.
enum TaskRoutes {
    static func create(_ call: RouteCall) async throws -> Response {
        guard case .workload(let identity) = call.caller else {
            throw BrokerError(.forbidden, "only workloads begin tasks")
        }
        let descriptor = try TaskDescriptor(json: try await call.jsonBody())
        let task = try await call.broker.tasks.create(descriptor, by: identity)
        return JSONResponse.make(task.json, status: .created, headers: [.location: "/v1/tasks/\(task.id)"])
    }

    static func fetch(_ call: RouteCall) async throws -> Response {
        JSONResponse.make(try await call.broker.tasks.fetch(id: try call.taskID(), for: call.caller).json)
    }

    static func heartbeat(_ call: RouteCall) async throws -> Response {
        JSONResponse.make(try await call.broker.tasks.heartbeat(taskID: try call.taskID(), by: call.caller).json)
    }

    static func complete(_ call: RouteCall) async throws -> Response { try await close(call, .complete) }

    static func abort(_ call: RouteCall) async throws -> Response { try await close(call, .abort) }

    private static func close(_ call: RouteCall, _ event: TaskEvent) async throws -> Response {
        let closure = try await call.broker.tasks.close(taskID: try call.taskID(), event, by: call.caller)
        return JSONResponse.make(
            .object([
                "state": .string(closure.state.rawValue),
                "tasks_closed": .array(closure.tasks.map(JSONValue.string)),
                "revocations": .array(closure.revocations.map(\.json)),
                "sequence": .integer(Int64(closure.revocations.map(\.sequence).max() ?? 0)),
            ])
        )
    }

    static func list(_ call: RouteCall) async throws -> Response {
        let query = call.request.uri.queryParameters
        var filter = TaskFilter()
        for name in ["workload", "user", "audience", "state"] {
            if let value = query.get(name), value.utf8.count > 2048 {
                throw BrokerError(.invalidRequest, "\(name) is longer than 2048 bytes")
            }
        }
        filter.workload = query.get("workload")
        filter.user = query.get("user")
        filter.audience = query.get("audience")
        if let state = query.get("state") {
            guard let parsed = TaskState(rawValue: state) else {
                throw BrokerError(.invalidRequest, "state must be open, completed, aborted or expired")
            }
            filter.state = parsed
        }
        filter.limit = Int(try call.query("limit", in: 1...1000) ?? 100)
        let tasks = try await call.broker.tasks.list(matching: filter)
        return JSONResponse.make(
            .object([
                "tasks": .array(tasks.prefix(filter.limit).map(\.json)), "has_more": .bool(tasks.count > filter.limit),
                "time": .integer(call.broker.clock.now.numericDate),
            ])
        )
    }

    static func tree(_ call: RouteCall) async throws -> Response {
        let tree = try await call.broker.tasks.tree(id: try call.taskID())
        return JSONResponse.make(
            .object([
                "tasks": .array(tree.tasks.map(\.json)),
                "tokens": .array(
                    tree.tokens.map { entry in
                        guard case .object(var members) = entry.token.json else { return entry.token.json }
                        members["revoked"] = .bool(entry.revoked)
                        return .object(members)
                    }
                ),
                "time": .integer(call.broker.clock.now.numericDate),
            ])
        )
    }

    static func workloads(_ call: RouteCall) async throws -> Response {
        JSONResponse.make(.object(["workloads": .array(try await call.broker.tasks.workloads().map(\.json))]))
    }
}
