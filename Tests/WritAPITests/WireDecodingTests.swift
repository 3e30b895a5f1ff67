import Testing
import WritAPI
import WritToken

/// Requests are read strictly and responses tolerantly, and every refusal says what is wrong where.
@Suite("Reading wire bodies")
struct WireDecodingTests {
    static let detail = #"{"type":"document","actions":["read"],"locations":["https://docs.example.org"]}"#

    @Test("a request with a member its type does not have is refused, naming the member")
    func unknownRequestMember() throws {
        let body = #"{"type":"t","authorization_details":[\#(Self.detail)],"max_durations":60}"#
        let error = #expect(throws: WireError.self) { try TaskRequest(requestBody: Array(body.utf8)) }
        #expect(error?.code == .unknownMember)
        #expect(error?.path == "$.max_durations")
        #expect(error?.description.contains("max_durations") == true)
    }

    @Test("a response with a member its type does not have is read, the member ignored")
    func unknownResponseMember() throws {
        let body = #"{"last":4,"time":1800000000,"next_feature":{"x":1}}"#
        let heartbeat = try RevocationHeartbeat(responseBody: Array(body.utf8))
        #expect(heartbeat == RevocationHeartbeat(last: 4, time: 1_800_000_000))
    }

    @Test("a response without a required member is refused, naming it")
    func missingResponseMember() throws {
        let error = #expect(throws: WireError.self) {
            try RevocationPageResponse(responseBody: Array(#"{"revocations":[],"last":0,"time":1}"#.utf8))
        }
        #expect(error?.code == .missingMember)
        #expect(error?.path == "$.has_more")
    }

    @Test("a member of the wrong type is refused with its path and the type it must have")
    func wrongType() throws {
        let body = #"{"kind":"issued_before","before":"yesterday"}"#
        let error = #expect(throws: WireError.self) { try RevocationRequest(requestBody: Array(body.utf8)) }
        #expect(error?.code == .wrongType)
        #expect(error?.message == "$.before must be an integer")
    }

    @Test("an element deep in a body is named by its path")
    func nestedPath() throws {
        let body = #"{"workloads":[{"workload":"a","open_tasks":1,"tasks":2,"live_tokens":"3"}]}"#
        let error = #expect(throws: WireError.self) { try WorkloadListResponse(responseBody: Array(body.utf8)) }
        #expect(error?.path == "$.workloads[0].live_tokens")
    }

    @Test("a value outside a closed set is refused, naming it")
    func unknownEnumerationValue() throws {
        let error = #expect(throws: WireError.self) {
            try RevocationRequest(requestBody: Array(#"{"kind":"everything"}"#.utf8))
        }
        #expect(error?.code == .invalidValue)
        #expect(error?.description.contains("everything") == true)
    }

    @Test("duplicate members and excessive depth are refused before any type sees them")
    func strictJSON() throws {
        let duplicate = #expect(throws: WireError.self) {
            try RevocationLiftRequest(requestBody: Array(#"{"reason":"a","reason":"b"}"#.utf8))
        }
        #expect(duplicate?.code == .notJSON)
        let deep =
            "{\"reason\":\"r\",\"x\":" + String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
            + "}"
        let tooDeep = #expect(throws: WireError.self) { try RevocationLiftRequest(requestBody: Array(deep.utf8)) }
        #expect(tooDeep?.code == .notJSON)
    }

    @Test("a feed entry with a member the profile does not know is refused in a request, read in a response")
    func revocationStrictness() throws {
        let entry: JSONValue = .object([
            "seq": .integer(3), "kind": .string("task"), "id": .string("tsk_1"), "revoked_at": .integer(10),
            "retain_until": .integer(20), "extra": .bool(true),
        ])
        #expect(try Revocation(json: entry, mode: .response).sequence == 3)
        let error = #expect(throws: WireError.self) { try Revocation(json: entry, mode: .request) }
        #expect(error?.path == "$.extra")
    }

    @Test("an inactive introspection answer is only active; an active one carries the token's claims")
    func introspection() throws {
        #expect(IntrospectionResponse.inactive.json == .object(["active": .bool(false)]))
        let inactive = try IntrospectionResponse(responseBody: Array(#"{"active":false}"#.utf8))
        #expect(inactive.claims == nil)
        let active = try IntrospectionResponse(json: WireExamples.introspection.json, mode: .response)
        #expect(active == WireExamples.introspection)
    }

    @Test("a task summary reads the task's members and its counts from one object, and refuses others")
    func summary() throws {
        let summary = WireExamples.summary
        #expect(try TaskSummaryBody(json: summary.json, mode: .request) == summary)
        guard case .object(var members) = summary.json else {
            Issue.record("not an object")
            return
        }
        members["tokenz"] = .integer(1)
        #expect(throws: WireError.self) { try TaskSummaryBody(json: .object(members), mode: .request) }
    }

    @Test("query and form parameters are percent-encoded, and numbers are digits only")
    func parameters() throws {
        let query = TaskListQuery(user: "alice smith", state: .open, limit: 5)
        #expect(query.query == "?user=alice%20smith&state=open&limit=5")
        #expect(throws: WireError.self) { try RevocationPageQuery(parameters: ["after": "-1"]) }
        #expect(throws: WireError.self) { try RevocationPageQuery(parameters: ["limit": "1e3"]) }
        #expect(try RevocationPageQuery(parameters: ["after": "7", "other": "x"]) == RevocationPageQuery(after: 7))
        #expect(WireRoutes.path("/v1/tasks/{id}/complete", ["id": "a/b"]) == "/v1/tasks/a%2Fb/complete")
    }

    @Test("secrets in requests and answers never print")
    func redaction() {
        var exchange = TokenEndpointForm(taskID: "tsk_1", audience: "https://docs.example.org")
        exchange.actorToken = "eyJsecret"
        #expect(!"\(exchange)".contains("eyJsecret"))
        #expect(!"\(WireExamples.token)".contains(WireExamples.token.accessToken))
        #expect(!"\(IntrospectionRequest(token: "eyJsecret"))".contains("eyJsecret"))
    }

    @Test("every example survives a round trip in both modes", arguments: WireExamples.all.indices)
    func roundTrip(index: Int) throws {
        let example = WireExamples.all[index]
        for mode in [WireMode.request, .response] {
            let decoded = try type(of: example).init(json: example.json, mode: mode)
            #expect(decoded.json == example.json, "\(type(of: example))")
        }
    }
}
