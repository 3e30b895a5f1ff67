public import WritToken

/// `GET /v1/admin/tasks/{id}`: a task and every task below it (parents before children), and the tokens
/// issued for them.
public struct TaskTreeResponse: WireMessage {
    /// The tasks, the one asked for first.
    public var tasks: [TaskBody]
    /// The tokens issued for them.
    public var tokens: [IssuedTokenBody]
    /// The broker's time, in seconds since the epoch.
    public var time: Int64

    /// A tree.
    public init(tasks: [TaskBody], tokens: [IssuedTokenBody], time: Int64) {
        self.tasks = tasks
        self.tokens = tokens
        self.time = time
    }

    /// Reads a tree.
    public init(from object: WireObject) throws(WireError) {
        tasks = try object.array("tasks")
        tokens = try object.array("tokens")
        time = try object.integer("time")
    }

    /// The tree as JSON.
    public var json: JSONValue {
        .object(["tasks": .values(tasks), "tokens": .values(tokens), "time": .integer(time)])
    }
}

/// What the broker records of a token it issued (never the token), and whether it is revoked.
public struct IssuedTokenBody: WireMessage {
    /// How the token is bound to its holder.
    public enum Binding: String, Sendable, Hashable, CaseIterable {
        /// Not bound.
        case bearer
        /// To a DPoP key.
        case dpop
        /// To the client's certificate.
        case mtls
    }

    /// The token's id.
    public var jti: String
    /// Its task.
    public var taskID: String
    /// The workload it was issued to.
    public var workload: String
    /// Its subject.
    public var sub: String
    /// Its audience.
    public var aud: String
    /// When it was issued, in seconds since the epoch.
    public var iat: Int64
    /// When it expires.
    public var exp: Int64
    /// How it is bound.
    public var binding: Binding
    /// Whether its task closed or a revocation names it.
    public var revoked: Bool

    /// A token record.
    public init(
        jti: String,
        taskID: String,
        workload: String,
        sub: String,
        aud: String,
        iat: Int64,
        exp: Int64,
        binding: Binding,
        revoked: Bool
    ) {
        self.jti = jti
        self.taskID = taskID
        self.workload = workload
        self.sub = sub
        self.aud = aud
        self.iat = iat
        self.exp = exp
        self.binding = binding
        self.revoked = revoked
    }

    /// Reads a token record.
    public init(from object: WireObject) throws(WireError) {
        jti = try object.string("jti")
        taskID = try object.string("task_id")
        workload = try object.string("workload")
        sub = try object.string("sub")
        aud = try object.string("aud")
        iat = try object.integer("iat")
        exp = try object.integer("exp")
        binding = try object.enumeration("binding")
        revoked = try object.bool("revoked")
    }

    /// The record as JSON.
    public var json: JSONValue {
        .object([
            "jti": .string(jti), "task_id": .string(taskID), "workload": .string(workload), "sub": .string(sub),
            "aud": .string(aud), "iat": .integer(iat), "exp": .integer(exp), "binding": .string(binding.rawValue),
            "revoked": .bool(revoked),
        ])
    }
}
