public import WritToken

/// `GET /v1/admin/tasks`: tasks, newest first, with their token counts.
public struct TaskListResponse: WireMessage {
    /// The tasks.
    public var tasks: [TaskSummaryBody]
    /// Whether more tasks match than the limit.
    public var hasMore: Bool
    /// The broker's time, in seconds since the epoch.
    public var time: Int64

    /// A list.
    public init(tasks: [TaskSummaryBody], hasMore: Bool, time: Int64) {
        self.tasks = tasks
        self.hasMore = hasMore
        self.time = time
    }

    /// Reads a list.
    public init(from object: WireObject) throws(WireError) {
        tasks = try object.array("tasks")
        hasMore = try object.bool("has_more")
        time = try object.integer("time")
    }

    /// The list as JSON.
    public var json: JSONValue {
        .object(["tasks": .values(tasks), "has_more": .bool(hasMore), "time": .integer(time)])
    }
}

/// A task as operators list it: the task's members and how many tokens it was issued and still has live.
public struct TaskSummaryBody: WireMessage {
    /// The task.
    public var task: TaskBody
    /// Tokens issued for it.
    public var tokens: Int64
    /// Those still usable.
    public var liveTokens: Int64

    /// A summary.
    public init(task: TaskBody, tokens: Int64, liveTokens: Int64) {
        self.task = task
        self.tokens = tokens
        self.liveTokens = liveTokens
    }

    /// Reads a summary: the task's members and the two counts, in one object.
    public init(from object: WireObject) throws(WireError) {
        tokens = try object.integer("tokens")
        liveTokens = try object.integer("live_tokens")
        task = try TaskBody(from: object)
    }

    /// The summary as JSON.
    public var json: JSONValue {
        var members = task.members
        members["tokens"] = .integer(tokens)
        members["live_tokens"] = .integer(liveTokens)
        return members.json
    }
}

/// The query of `GET /v1/admin/tasks`.
public struct TaskListQuery: WireParameters {
    /// Only tasks this workload (SPIFFE ID) acts in.
    public var workload: String?
    /// Only tasks for this user.
    public var user: String?
    /// Only tasks in this state.
    public var state: TaskBody.State?
    /// Only tasks whose grant names this resource server.
    public var audience: String?
    /// At most this many (1 to 1000; 100 when absent).
    public var limit: UInt64?

    /// A query.
    public init(
        workload: String? = nil,
        user: String? = nil,
        state: TaskBody.State? = nil,
        audience: String? = nil,
        limit: UInt64? = nil
    ) {
        self.workload = workload
        self.user = user
        self.state = state
        self.audience = audience
        self.limit = limit
    }

    /// Reads the query.
    public init(parameters: [String: String]) throws(WireError) {
        workload = parameters["workload"]
        user = parameters["user"]
        if let text = parameters["state"] {
            guard let state = TaskBody.State(rawValue: text) else {
                throw .invalidValue(at: "state", "must be open, completed, aborted or expired")
            }
            self.state = state
        }
        audience = parameters["audience"]
        limit = try WireParameter.number(parameters, "limit")
    }

    /// The query's parameters.
    public var parameters: [(String, String)] {
        let all: [(String, String?)] = [
            ("workload", workload), ("user", user), ("state", state?.rawValue), ("audience", audience),
            ("limit", limit.map { String($0) }),
        ]
        return all.compactMap { name, value in value.map { (name, $0) } }
    }
}
