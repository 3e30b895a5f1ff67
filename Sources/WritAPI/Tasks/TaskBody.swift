public import WritToken

/// A task as the broker answers with it: `POST /v1/tasks`, `GET /v1/tasks/{id}`, its heartbeat, and the
/// operators' views. Times are whole seconds since the epoch.
public struct TaskBody: WireMessage {
    /// Where a task is.
    public enum State: String, Sendable, Hashable, CaseIterable {
        /// Running; tokens may be issued.
        case open
        /// Completed by its workload.
        case completed
        /// Aborted by its workload, an operator, a revocation or its parent closing.
        case aborted
        /// Past its deadline, or it missed its heartbeats.
        case expired
    }

    /// How the acting workload proved its identity.
    public enum Attestation: String, Sendable, Hashable, CaseIterable {
        /// A JWT-SVID.
        case jwtSVID = "jwt-svid"
        /// An X.509-SVID over mutual TLS.
        case x509SVID = "x509-svid"
        /// An OIDC workload token.
        case oidc = "oidc"
    }

    /// The task id (`txn` in its tokens).
    public var id: String
    /// The parent task, for a sub-task.
    public var parentID: String?
    /// The root of the task's tree.
    public var rootID: String
    /// 0 for a root task, the parent's plus one for a sub-task.
    public var depth: Int64
    /// The SPIFFE ID of the workload that acts in the task.
    public var workload: String
    /// The workloads that delegated to it, nearest first.
    public var actors: [String]
    /// Who created it.
    public var createdBy: String
    /// How the acting workload proved its identity.
    public var attestation: Attestation
    /// The user the task is for.
    public var user: String?
    /// The task type.
    public var type: String
    /// The stated purpose.
    public var purpose: String?
    /// What the policy granted.
    public var grant: GrantBody
    /// Where the task is.
    public var state: State
    /// Why it closed, when it did.
    public var reason: String?
    /// When it was created.
    public var createdAt: Int64
    /// When it expires at the latest.
    public var deadline: Int64
    /// Seconds between promised heartbeats.
    public var heartbeatInterval: Int64?
    /// The last heartbeat.
    public var lastHeartbeat: Int64?
    /// When it closed.
    public var closedAt: Int64?
    /// `true` when the token endpoint made it for one token (sent only then).
    public var implicit: Bool?

    /// A task with its required members; set the others as needed.
    public init(
        id: String,
        rootID: String,
        depth: Int64,
        workload: String,
        actors: [String],
        createdBy: String,
        attestation: Attestation,
        type: String,
        grant: GrantBody,
        state: State,
        createdAt: Int64,
        deadline: Int64
    ) {
        self.id = id
        self.rootID = rootID
        self.depth = depth
        self.workload = workload
        self.actors = actors
        self.createdBy = createdBy
        self.attestation = attestation
        self.type = type
        self.grant = grant
        self.state = state
        self.createdAt = createdAt
        self.deadline = deadline
    }

    /// Reads a task.
    public init(from object: WireObject) throws(WireError) {
        id = try object.string("id")
        parentID = try object.optionalString("parent_id")
        rootID = try object.string("root_id")
        depth = try object.integer("depth")
        workload = try object.string("workload")
        actors = try object.strings("actors")
        createdBy = try object.string("created_by")
        attestation = try object.enumeration("attestation")
        user = try object.optionalString("user")
        type = try object.string("type")
        purpose = try object.optionalString("purpose")
        grant = try object.value("grant")
        state = try object.enumeration("state")
        reason = try object.optionalString("reason")
        createdAt = try object.integer("created_at")
        deadline = try object.integer("deadline")
        heartbeatInterval = try object.optionalInteger("heartbeat_interval")
        lastHeartbeat = try object.optionalInteger("last_heartbeat")
        closedAt = try object.optionalInteger("closed_at")
        implicit = try object.optionalBool("implicit")
    }

    /// The task's members, for bodies that add to them (``TaskSummaryBody``).
    var members: WireMembers {
        var members = WireMembers()
        members["id"] = .string(id)
        members["parent_id"] = parentID.json
        members["root_id"] = .string(rootID)
        members["depth"] = .integer(depth)
        members["workload"] = .string(workload)
        members["actors"] = .strings(actors)
        members["created_by"] = .string(createdBy)
        members["attestation"] = .string(attestation.rawValue)
        members["user"] = user.json
        members["type"] = .string(type)
        members["purpose"] = purpose.json
        members["grant"] = grant.json
        members["state"] = .string(state.rawValue)
        members["reason"] = reason.json
        members["created_at"] = .integer(createdAt)
        members["deadline"] = .integer(deadline)
        members["heartbeat_interval"] = heartbeatInterval.json
        members["last_heartbeat"] = lastHeartbeat.json
        members["closed_at"] = closedAt.json
        members["implicit"] = implicit.json
        return members
    }

    /// The task as JSON.
    public var json: JSONValue { members.json }
}
