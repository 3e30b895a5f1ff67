import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import WritAgent
import WritToken

/// An example agent: a retrieval assistant that, for a user, begins a task naming the documents it will
/// read, reads them with bound tokens, and — to show what Writ stops — tries one step the task does not
/// cover, as a prompt-injected agent would. Prints one JSON line per step.
///
///     writ-example-assistant --broker URL --documents URL --workload-token JWT --user-token JWT \
///         --read departments/hr/handbook/leave [--read …] [--stray departments/finance/payroll/2026-11]
@main
struct RetrievalAssistant {
    static func main() async throws {
        var arguments = Array(CommandLine.arguments.dropFirst())
        func take(_ name: String) -> [String] {
            var values: [String] = []
            while let index = arguments.firstIndex(of: name), index + 1 < arguments.count {
                values.append(arguments[index + 1])
                arguments.removeSubrange(index...(index + 1))
            }
            return values
        }
        let broker = take("--broker").first ?? "http://127.0.0.1:8080"
        let documents = take("--documents").first ?? "http://127.0.0.1:9090"
        let workloadToken = take("--workload-token").first ?? ""
        let userToken = take("--user-token").first
        let reads = take("--read")
        let strays = take("--stray")
        let audience = take("--audience").first ?? "https://docs.example.org"

        let agent = WritAgent(configuration: .init(broker: broker, identity: .jwt { workloadToken }))
        let http = HTTPClient(eventLoopGroup: .singletonMultiThreadedEventLoopGroup)
        let descriptor = AgentTaskDescriptor(
            type: "answer-question",
            purpose: "answer the user's question from the documents it names",
            authorizationDetails: reads.map {
                AuthorizationDetail(type: "document", actions: ["read"], locations: [audience], identifier: $0)
            },
            userAssertion: userToken
        )
        do {
            try await agent.withTask(descriptor) { task in
                print(line(["step": "task", "task": task.id]))
                for (document, kind) in reads.map({ ($0, "read") }) + strays.map({ ($0, "stray") }) {
                    var request = HTTPClientRequest(url: documents + "/documents/" + document)
                    try await task.authorize(&request, audience: audience)
                    let response = try await http.execute(request, timeout: .seconds(10))
                    let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
                    print(
                        line([
                            "step": kind, "document": document, "status": String(response.status.code),
                            "body": body.trimmingCharacters(in: .whitespacesAndNewlines),
                        ])
                    )
                }
            }
        } catch let error as WritAgentError {
            print(line(["step": "refused", "error": error.description]))
        }
        try await http.shutdown()
        await agent.shutdown()
    }

    static func line(_ fields: [String: String]) -> String {
        JSONWriter.string(.object(fields.mapValues { .string($0) }))
    }
}
