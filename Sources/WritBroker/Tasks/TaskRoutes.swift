import Hummingbird
import WritAPI
import WritToken

/// The task routes: a workload's own tasks, and the admin API's view of all of them.
enum TaskRoutes {
    static func create(_ call: RouteCall) async throws -> Response {
        guard case .workload(let identity) = call.caller else {
            throw BrokerError(.forbidden, "only workloads begin tasks")
        }
        let descriptor = try TaskDescriptor(try await call.body(TaskRequest.self))
        let task = try await call.broker.tasks.create(descriptor, by: identity)
        return JSONResponse.make(task.wire.json, status: .created, headers: [.location: "/v1/tasks/\(task.id)"])
    }

    static func fetch(_ call: RouteCall) async throws -> Response {
        JSONResponse.make(try await call.broker.tasks.fetch(id: try call.taskID(), for: call.caller).wire.json)
    }

    static func heartbeat(_ call: RouteCall) async throws -> Response {
        JSONResponse.make(try await call.broker.tasks.heartbeat(taskID: try call.taskID(), by: call.caller).wire.json)
    }

    static func complete(_ call: RouteCall) async throws -> Response { try await close(call, .complete) }

    static func abort(_ call: RouteCall) async throws -> Response { try await close(call, .abort) }

    private static func close(_ call: RouteCall, _ event: TaskEvent) async throws -> Response {
        let closure = try await call.broker.tasks.close(taskID: try call.taskID(), event, by: call.caller)
        return JSONResponse.make(closure.wire.json)
    }

    static func list(_ call: RouteCall) async throws -> Response {
        let query = try call.query(TaskListQuery.self)
        for (name, value) in [("workload", query.workload), ("user", query.user), ("audience", query.audience)] {
            if let value, value.utf8.count > 2048 {
                throw BrokerError(.invalidRequest, "\(name) is longer than 2048 bytes")
            }
        }
        var filter = TaskFilter()
        filter.workload = query.workload
        filter.user = query.user
        filter.audience = query.audience
        filter.state = query.state.flatMap { TaskState(rawValue: $0.rawValue) }
        filter.limit = Int(try RouteCall.check(query.limit, name: "limit", in: 1...1000) ?? 100)
        let tasks = try await call.broker.tasks.list(matching: filter)
        let response = TaskListResponse(
            tasks: tasks.prefix(filter.limit).map(\.wire),
            hasMore: tasks.count > filter.limit,
            time: call.broker.clock.now.numericDate
        )
        return JSONResponse.make(response.json)
    }

    static func tree(_ call: RouteCall) async throws -> Response {
        let tree = try await call.broker.tasks.tree(id: try call.taskID())
        return JSONResponse.make(tree.wire(time: call.broker.clock.now).json)
    }

    static func workloads(_ call: RouteCall) async throws -> Response {
        let workloads = try await call.broker.tasks.workloads()
        return JSONResponse.make(WorkloadListResponse(workloads: workloads.map(\.wire)).json)
    }
}
