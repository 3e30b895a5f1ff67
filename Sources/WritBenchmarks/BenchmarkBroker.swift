import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import WritToken

/// The broker calls the signal benchmarks make: one request with a bearer credential and a JSON or form body,
/// its JSON answer, or a failure naming the route and the status; and a bearer task of the benchmark policy's
/// load generator with its token.
struct BenchmarkBroker: Sendable {
    let base: String
    let http: HTTPClient

    struct Failed: Error, CustomStringConvertible {
        let description: String
    }

    /// The task body the benchmark policy permits the load generator, with bearer tokens.
    static let taskBody = """
        {"type":"load-test","bearer":true,"authorization_details":[{"type":"fixture","locations":\
        ["https://bench.example.org"],"identifier":"fixtures/one","actions":["read"]}]}
        """

    func send(
        _ path: String,
        method: HTTPMethod = .POST,
        bearer: String? = nil,
        json: String? = nil,
        form: String? = nil
    ) async throws -> [String: JSONValue] {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        } else if let form {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: form))
        }
        let response = try await http.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard (200..<300).contains(response.status.code) else {
            throw Failed(description: "\(path) answered \(response.status.code): \(String(buffer: body).prefix(300))")
        }
        return (try? StrictJSON().parse(String(buffer: body)).objectValue) ?? [:]
    }

    /// A new task of the load generator and a bearer token of it for `https://bench.example.org`.
    func taskWithToken(_ assertion: String) async throws -> (task: String, token: String) {
        let task = try await send("/v1/tasks", bearer: assertion, json: Self.taskBody)
        guard let id = task["id"]?.stringValue else { throw Failed(description: "no task: \(task)") }
        let issued = try await send(
            "/v1/token",
            form: "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange"
                + "&audience=https%3A%2F%2Fbench.example.org&task_id=\(id)"
                + "&actor_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt&actor_token=\(assertion)"
        )
        guard let token = issued["access_token"]?.stringValue else { throw Failed(description: "no token: \(issued)") }
        return (id, token)
    }
}
