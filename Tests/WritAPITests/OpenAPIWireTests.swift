import Foundation
import Testing
import WritAPI
import WritToken
import Yams

/// Holds the wire types to `docs/openapi.yaml`: every route of the document has its types, and each type's
/// examples carry exactly the document's property names, its required ones, with matching JSON types.
@Suite("The wire types against the OpenAPI document")
struct OpenAPIWireTests {
    /// Where the wire and the document disagree, by schema location: the members the broker sends that the
    /// document does not list (none today). Each listed one is asserted to still disagree, so a fix to either
    /// side must remove its line here.
    static let knownDrift: [String: Set<String>] = [:]

    // Read once and never written: the YAML as Foundation values, which are not Sendable.
    nonisolated(unsafe) static let document: [String: Any] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/openapi.yaml")
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return ((try? Yams.load(yaml: text)) as? [String: Any]) ?? [:]
    }()

    static var schemas: [String: Any] {
        (document["components"] as? [String: Any])?["schemas"] as? [String: Any] ?? [:]
    }

    static func operations() -> [String: [String: Any]] {
        var operations: [String: [String: Any]] = [:]
        for (path, item) in document["paths"] as? [String: [String: Any]] ?? [:] {
            let shared = item["parameters"] as? [Any] ?? []
            for (method, value) in item where method != "parameters" {
                guard var operation = value as? [String: Any] else { continue }
                operation["parameters"] = shared + (operation["parameters"] as? [Any] ?? [])
                operations["\(method.uppercased()) \(path)"] = operation
            }
        }
        return operations
    }

    @Test("the document was read")
    func documentRead() {
        #expect(Self.operations().count >= 20)
        #expect(Self.schemas["Task"] != nil)
    }

    @Test("every operation of the document has wire types, and every wire route is in the document")
    func routes() {
        let documented = Set(Self.operations().keys)
        let typed = Set(WireRoutes.all.map { "\($0.method) \($0.path)" })
        #expect(documented == typed)
        #expect(typed.count == WireRoutes.all.count, "a route is listed twice")
    }

    @Test("each documented answer has the wire type's kind of body: JSON, text, events or nothing")
    func responseKinds() throws {
        for route in WireRoutes.all {
            let name = "\(route.method) \(route.path)"
            let responses = Self.operations()[name]?["responses"] as? [String: Any] ?? [:]
            for (status, value) in responses {
                let response = try #require(Self.resolve(value))
                let content = response["content"] as? [String: Any] ?? [:]
                guard let code = Int(status), code < 400 else {
                    #expect(Self.isErrorSchema(content), "\(name) \(status) is not the Error schema")
                    continue
                }
                let body = route.responses[code]
                #expect(body != nil, "\(name) answers \(status) in the document but has no wire type for it")
                switch body {
                case .json?: #expect(content["application/json"] != nil, "\(name) \(status): not JSON")
                case .text?: #expect(content["text/plain"] != nil, "\(name) \(status): not text")
                case .signedJWT(let type)?: #expect(content[type] != nil, "\(name) \(status): not \(type)")
                case .events?: #expect(content["text/event-stream"] != nil, "\(name) \(status): not events")
                case .empty?: #expect(content.isEmpty, "\(name) \(status): has a body")
                default: break
                }
            }
            for code in route.responses.keys {
                #expect(responses[String(code)] != nil, "\(name) has a wire type for \(code), undocumented")
            }
        }
    }

    @Test("every wire type's examples carry exactly the document's members, the required ones, of its types")
    func bodies() throws {
        var checker = Checker()
        for route in WireRoutes.all {
            let name = "\(route.method) \(route.path)"
            let operation = try #require(Self.operations()[name])
            if case .json(let type) = route.request {
                let schema =
                    (((operation["requestBody"] as? [String: Any])?["content"] as? [String: Any])?[
                        "application/json"
                    ] as? [String: Any])?["schema"]
                checker.check(type, against: schema, at: "\(name) request")
            }
            let responses = operation["responses"] as? [String: Any] ?? [:]
            for (code, body) in route.responses {
                let content = Self.resolve(responses[String(code)])?["content"] as? [String: Any]
                switch body {
                case .json(let type):
                    let schema = (content?["application/json"] as? [String: Any])?["schema"]
                    checker.check(type, against: schema, at: "\(name) \(code)")
                case .events(let events):
                    let documented =
                        (content?["text/event-stream"] as? [String: Any])?["x-writ-events"] as? [String: Any]
                    #expect(Set(documented?.keys.map { $0 } ?? []) == Set(events.keys), "\(name): event names")
                    for (event, type) in events {
                        checker.check(type, against: documented?[event], at: "\(name) \(event)")
                    }
                default: break
                }
            }
        }
        checker.check(ErrorResponse.self, against: ["$ref": "#/components/schemas/Error"], at: "errors")
        for problem in checker.problems { Issue.record(Comment(rawValue: problem)) }
        for (location, seen) in checker.seen {
            let documented = checker.documented[location] ?? []
            let extra = seen.subtracting(documented)
            #expect(extra == Self.knownDrift[location] ?? [], "\(location): members the document does not list")
            #expect(documented.subtracting(seen).isEmpty, "\(location): documented members no example sends")
        }
        for location in Self.knownDrift.keys where !location.hasSuffix(" form") {
            #expect(checker.seen[location] != nil, "\(location) is listed as drifting but was never checked")
        }
    }

    @Test("every form and query has exactly the document's parameters")
    func parameters() throws {
        for route in WireRoutes.all {
            let name = "\(route.method) \(route.path)"
            let operation = try #require(Self.operations()[name])
            switch route.request {
            case .form(let type):
                let example = try #require(ParameterExamples.example(of: type), "\(type) has no example")
                let schema = try #require(
                    (((operation["requestBody"] as? [String: Any])?["content"] as? [String: Any])?[
                        "application/x-www-form-urlencoded"
                    ] as? [String: Any])?["schema"] as? [String: Any]
                )
                let documented = Set((schema["properties"] as? [String: Any] ?? [:]).keys)
                let sent = Set(example.parameters.map(\.0))
                #expect(sent.subtracting(documented) == Self.knownDrift["\(name) form"] ?? [], "\(name) form")
                #expect(documented.subtracting(sent).isEmpty, "\(name): documented parameters not sent")
                for required in schema["required"] as? [String] ?? [] {
                    #expect(throws: WireError.self, "\(name): \(required) is required") {
                        var parameters = Dictionary(uniqueKeysWithValues: example.parameters)
                        parameters[required] = nil
                        _ = try type.init(parameters: parameters)
                    }
                }
            case .query(let type):
                let example = try #require(ParameterExamples.example(of: type), "\(type) has no example")
                let documented = Set(
                    (operation["parameters"] as? [Any] ?? []).compactMap { Self.resolve($0) }
                        .filter { $0["in"] as? String == "query" }.compactMap { $0["name"] as? String }
                )
                #expect(Set(example.parameters.map(\.0)) == documented, "\(name) query")
                let decoded = try type.init(parameters: Dictionary(uniqueKeysWithValues: example.parameters))
                #expect(decoded.parameters.map(\.0) == example.parameters.map(\.0))
            default:
                let queries = (operation["parameters"] as? [Any] ?? []).compactMap { Self.resolve($0) }
                    .filter { $0["in"] as? String == "query" }
                #expect(queries.isEmpty, "\(name) has query parameters but no query type")
            }
        }
    }

    @Test("introspection requires of an active answer exactly what every active answer sends")
    func introspectionCondition() throws {
        let schema = try #require(Self.schemas["Introspection"] as? [String: Any])
        let condition = (schema["if"] as? [String: Any])?["properties"] as? [String: Any]
        #expect((condition?["active"] as? [String: Any])?["const"] as? Bool == true)
        let required = Set(((schema["then"] as? [String: Any])?["required"] as? [String]) ?? [])
        let answers = WireExamples.examples(of: IntrospectionResponse.self).compactMap { $0.json.objectValue }
        let active = answers.filter { $0["active"] == .bool(true) }
        #expect(active.count >= 2)
        let alwaysSent = active.dropFirst().reduce(Set(active.first?.keys.map { $0 } ?? [])) {
            $0.intersection($1.keys)
        }
        #expect(required == alwaysSent.subtracting(["active"]))
        let inactiveLimit = (schema["else"] as? [String: Any])?["maxProperties"] as? Int
        for answer in answers where answer["active"] == .bool(false) {
            #expect(inactiveLimit == 1 && answer.count == 1, "an inactive answer is only active")
        }
    }

    @Test("the check fails when a type and the document disagree")
    func checkerCatchesDisagreement() {
        var checker = Checker()
        let body: JSONValue = .object(["last": .string("4"), "time": .integer(1), "extra": .bool(true)])
        checker.check(json: body, schema: ["$ref": "#/components/schemas/Heartbeat"], location: "test")
        #expect(checker.problems.contains { $0.contains("last") && $0.contains("integer") })
        #expect(checker.seen["Heartbeat"]?.contains("extra") == true)
        var missing = Checker()
        missing.check(json: .object(["last": .integer(1)]), schema: ["$ref": "#/components/schemas/Heartbeat"])
        #expect(missing.problems.contains { $0.contains("time") && $0.contains("required") })
    }

    static func isErrorSchema(_ content: [String: Any]) -> Bool {
        let schema = (content["application/json"] as? [String: Any])?["schema"] as? [String: Any]
        return schema?["$ref"] as? String == "#/components/schemas/Error"
    }

    /// A `$ref` followed to what it names (components only).
    static func resolve(_ value: Any?) -> [String: Any]? {
        guard let object = value as? [String: Any] else { return nil }
        guard let reference = object["$ref"] as? String else { return object }
        let parts = reference.split(separator: "/").dropFirst().map(String.init)
        var current: Any? = document
        for part in parts { current = (current as? [String: Any])?[part] }
        return resolve(current)
    }

    /// Walks examples against schemas, collecting problems and, per schema location, the member names seen and
    /// documented.
    struct Checker {
        var problems: [String] = []
        var seen: [String: Set<String>] = [:]
        var documented: [String: Set<String>] = [:]

        mutating func check(_ type: any WireValue.Type, against schema: Any?, at location: String) {
            let examples = WireExamples.examples(of: type)
            if examples.isEmpty { problems.append("\(type) has no example") }
            if schema == nil { problems.append("\(location): no schema in the document") }
            for example in examples { check(json: example.json, schema: schema, location: location) }
        }

        mutating func check(json value: JSONValue, schema: Any?, location: String = "$") {
            guard let raw = schema as? [String: Any] else { return }
            var location = location
            if let reference = raw["$ref"] as? String {
                location = String(reference.split(separator: "/").last ?? "")
            }
            guard let schema = OpenAPIWireTests.resolve(raw) else { return }
            var properties: [String: Any] = schema["properties"] as? [String: Any] ?? [:]
            var required = Set(schema["required"] as? [String] ?? [])
            for part in schema["allOf"] as? [Any] ?? [] {
                guard let piece = OpenAPIWireTests.resolve(part) else { continue }
                properties.merge(piece["properties"] as? [String: Any] ?? [:]) { first, _ in first }
                required.formUnion(piece["required"] as? [String] ?? [])
            }
            checkType(value, schema, location)
            if let constant = schema["const"], !matches(value, constant) {
                problems.append("\(location): \(JSONWriter.string(value)) is not \(constant)")
            }
            if let choices = schema["enum"] as? [Any], !choices.contains(where: { matches(value, $0) }) {
                problems.append("\(location): \(JSONWriter.string(value)) is not one of \(choices)")
            }
            if case .array(let elements) = value, let items = schema["items"] {
                for element in elements { check(json: element, schema: items, location: location + "[]") }
            }
            guard case .object(let members) = value else { return }
            for name in required where members[name] == nil {
                problems.append("\(location): required member \(name) is missing")
            }
            // A schema that lists no properties (a free-form object) has no names to hold a type to.
            guard !properties.isEmpty else { return }
            seen[location, default: []].formUnion(members.keys)
            documented[location, default: []].formUnion(properties.keys)
            for (name, member) in members {
                check(json: member, schema: properties[name], location: "\(location).\(name)")
            }
        }

        mutating func checkType(_ value: JSONValue, _ schema: [String: Any], _ location: String) {
            let types: [String]
            if let one = schema["type"] as? String {
                types = [one]
            } else if let several = schema["type"] as? [String] {
                types = several
            } else if schema["properties"] != nil || schema["allOf"] != nil {
                types = ["object"]
            } else {
                return
            }
            let actual: [String]
            switch value {
            case .null: actual = ["null"]
            case .bool: actual = ["boolean"]
            case .integer: actual = ["integer", "number"]
            case .double: actual = ["number"]
            case .string: actual = ["string"]
            case .array: actual = ["array"]
            case .object: actual = ["object"]
            }
            if Set(types).isDisjoint(with: actual) {
                problems.append("\(location): \(JSONWriter.string(value)) must be \(types.joined(separator: " or "))")
            }
        }

        func matches(_ value: JSONValue, _ expected: Any) -> Bool {
            switch value {
            case .string(let text): return expected as? String == text
            case .integer(let number): return (expected as? Int).map { Int64($0) } == number
            case .bool(let flag): return expected as? Bool == flag
            default: return false
            }
        }
    }
}
