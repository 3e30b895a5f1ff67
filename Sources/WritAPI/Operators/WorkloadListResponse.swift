public import WritToken

/// `GET /v1/admin/workloads`: workloads with tasks on record, most recently active first.
public struct WorkloadListResponse: WireMessage {
    /// The workloads.
    public var workloads: [WorkloadActivityBody]

    /// A list.
    public init(workloads: [WorkloadActivityBody]) { self.workloads = workloads }

    /// Reads a list.
    public init(from object: WireObject) throws(WireError) { workloads = try object.array("workloads") }

    /// The list as JSON.
    public var json: JSONValue { .object(["workloads": .values(workloads)]) }
}

/// A workload as operators see it.
public struct WorkloadActivityBody: WireMessage {
    /// Its SPIFFE ID.
    public var workload: String
    /// Its open tasks.
    public var openTasks: Int64
    /// Its tasks on record, open or closed.
    public var tasks: Int64
    /// Its usable tokens.
    public var liveTokens: Int64
    /// When it last began a task, in seconds since the epoch.
    public var lastTaskAt: Int64?

    /// A workload's activity.
    public init(workload: String, openTasks: Int64, tasks: Int64, liveTokens: Int64, lastTaskAt: Int64? = nil) {
        self.workload = workload
        self.openTasks = openTasks
        self.tasks = tasks
        self.liveTokens = liveTokens
        self.lastTaskAt = lastTaskAt
    }

    /// Reads a workload's activity.
    public init(from object: WireObject) throws(WireError) {
        workload = try object.string("workload")
        openTasks = try object.integer("open_tasks")
        tasks = try object.integer("tasks")
        liveTokens = try object.integer("live_tokens")
        lastTaskAt = try object.optionalInteger("last_task_at")
    }

    /// The activity as JSON.
    public var json: JSONValue {
        var members = WireMembers()
        members["workload"] = .string(workload)
        members["open_tasks"] = .integer(openTasks)
        members["tasks"] = .integer(tasks)
        members["live_tokens"] = .integer(liveTokens)
        members["last_task_at"] = lastTaskAt.json
        return members.json
    }
}
