public import WritToken

/// One line of a usage report: how often one token did one thing at one resource server, allowed or refused,
/// between `first` and `last` (seconds since the epoch).
public struct UsageRecord: WireMessage {
    /// `outcome` for a use the verifier allowed; a refusal carries its code (`insufficient_authorization`, ...).
    public static let allowed = "allowed"
    /// The largest count one record may carry.
    public static let maximumCount: Int64 = 1 << 30

    /// `txn`: the task; nil when the refusal came before the token could be read.
    public var task: String?
    /// `jti`: the token.
    public var token: String?
    /// `client_id`: the workload the token was issued to.
    public var workload: String?
    /// The action asked for, when the resource server named one.
    public var action: String?
    /// The resource type, when named.
    public var resourceType: String?
    /// The resource identifier, when named (at most 256 characters; longer ones are cut).
    public var identifier: String?
    /// `allowed`, or the refusal's code.
    public var outcome: String
    /// How many times.
    public var count: Int
    /// The first and the last time, in seconds since the epoch.
    public var first: Int64
    public var last: Int64

    /// A record.
    public init(
        task: String? = nil,
        token: String? = nil,
        workload: String? = nil,
        action: String? = nil,
        resourceType: String? = nil,
        identifier: String? = nil,
        outcome: String,
        count: Int,
        first: Int64,
        last: Int64
    ) {
        self.task = task
        self.token = token
        self.workload = workload
        self.action = action
        self.resourceType = resourceType
        self.identifier = identifier
        self.outcome = outcome
        self.count = count
        self.first = first
        self.last = last
    }

    /// Reads a record.
    public init(from object: WireObject) throws(WireError) {
        task = try object.optionalString("txn")
        token = try object.optionalString("jti")
        workload = try object.optionalString("client_id")
        action = try object.optionalString("action")
        resourceType = try object.optionalString("resource_type")
        identifier = try object.optionalString("identifier")
        outcome = try object.string("outcome")
        let count = try object.integer("count")
        guard count > 0, count <= Self.maximumCount else {
            throw .wrongType(at: object.child("count"), expected: "a count from 1 to \(Self.maximumCount)")
        }
        self.count = Int(count)
        first = try object.integer("first")
        last = try object.integer("last")
    }

    /// The record as JSON.
    public var json: JSONValue {
        var members: [String: JSONValue] = [
            "outcome": .string(outcome),
            "count": .integer(Int64(count)),
            "first": .integer(first),
            "last": .integer(last),
        ]
        if let task { members["txn"] = .string(task) }
        if let token { members["jti"] = .string(token) }
        if let workload { members["client_id"] = .string(workload) }
        if let action { members["action"] = .string(action) }
        if let resourceType { members["resource_type"] = .string(resourceType) }
        if let identifier { members["identifier"] = .string(identifier) }
        return .object(members)
    }
}

/// `POST /v1/usage`: what a resource server's verifier allowed and refused since its last report.
public struct UsageReport: WireMessage {
    /// The most records one report may carry.
    public static let maximumRecords = 10_000

    /// The audience the reporting verifier checks tokens for; one of the resource server's own.
    public var audience: String
    /// The records.
    public var records: [UsageRecord]
    /// Records the verifier could not keep since its last report (its buffer was full); counted, never lost
    /// silently.
    public var dropped: Int

    /// A report.
    public init(audience: String, records: [UsageRecord], dropped: Int = 0) {
        self.audience = audience
        self.records = records
        self.dropped = dropped
    }

    /// Reads a report.
    public init(from object: WireObject) throws(WireError) {
        audience = try object.string("audience")
        records = try object.array("records")
        guard records.count <= Self.maximumRecords else {
            throw .wrongType(at: object.child("records"), expected: "at most \(Self.maximumRecords) records")
        }
        let dropped = try object.optionalInteger("dropped") ?? 0
        guard dropped >= 0, dropped <= 1 << 40 else {
            throw .wrongType(at: object.child("dropped"), expected: "a count")
        }
        self.dropped = Int(dropped)
    }

    /// The report as JSON.
    public var json: JSONValue {
        .object([
            "audience": .string(audience),
            "records": .array(records.map(\.json)),
            "dropped": .integer(Int64(dropped)),
        ])
    }
}

/// The answer to a usage report: how many records the broker took in.
public struct UsageReportResponse: WireMessage {
    /// Records accepted.
    public var accepted: Int

    /// A response.
    public init(accepted: Int) { self.accepted = accepted }

    /// Reads a response.
    public init(from object: WireObject) throws(WireError) {
        accepted = Int(try object.integer("accepted"))
    }

    /// The response as JSON.
    public var json: JSONValue { .object(["accepted": .integer(Int64(accepted))]) }
}
