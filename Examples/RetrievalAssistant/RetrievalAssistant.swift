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
///
/// As a sub-agent, it works on a task another agent delegated to it instead of beginning one, and with
/// `--until-refused SECONDS` keeps reading its first document until the resource server refuses it (as it
/// does once the delegating agent's task closes):
///
///     writ-example-assistant --join TASK_ID --workload-token JWT --read public/reports/q3 --until-refused 20
@main
struct RetrievalAssistant {
    static func main() async throws {
        if CommandLine.arguments.contains("--help") || CommandLine.arguments.contains("-h") {
            print(
                """
                usage: writ-example-assistant --broker URL --documents URL --workload-token JWT [--user-token JWT]
                           --read DOCUMENT [--read …] [--stray DOCUMENT …] [--audience URL]
                           [--join TASK_ID] [--until-refused SECONDS]
                Prints one JSON line per step; exits 1 when the broker refuses the task.
                """
            )
            return
        }
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
        let join = take("--join").first
        let untilRefused = take("--until-refused").first.flatMap(Double.init)

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
        @Sendable func read(_ document: String, kind: String, task: AgentTask) async throws -> UInt {
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
            return response.status.code
        }
        @Sendable func work(_ task: AgentTask) async throws {
            print(line(["step": join == nil ? "task" : "joined", "task": task.id]))
            for (document, kind) in reads.map({ ($0, "read") }) + strays.map({ ($0, "stray") }) {
                _ = try await read(document, kind: kind, task: task)
            }
            guard let seconds = untilRefused, let document = reads.first else { return }
            let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
            while ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                if try await read(document, kind: "again", task: task) != 200 { return }
            }
        }
        var refused = false
        do {
            if let join {
                try await agent.withDelegatedTask(join) { task in try await work(task) }
            } else {
                try await agent.withTask(descriptor) { task in try await work(task) }
            }
        } catch let error as WritAgentError {
            print(line(["step": "refused", "error": error.description]))
            refused = true
        }
        try await http.shutdown()
        await agent.shutdown()
        if refused { exit(1) }
    }

    static func line(_ fields: [String: String]) -> String {
        JSONWriter.string(.object(fields.mapValues { .string($0) }))
    }
}
