import Foundation
import HTTPTypes
import Hummingbird
import MCP
import NIOCore
import WritToken
import WritVerifier
import WritVerifierHummingbird

/// The tools, and the authorisation of each call: a `tool` authorization detail whose identifier is the tool's
/// name and whose action is `call`.
struct ToolCatalogue: Sendable {
    /// A tool and what it does with its arguments.
    struct Entry: Sendable {
        let name: String
        let description: String
        let inputSchema: Value
        let run: @Sendable ([String: Value]) -> String
    }

    static let documents: [String: String] = [
        "public/reports/q3": "Q3: revenue up 12%.",
        "public/faq/refunds": "Refunds are paid within 14 days.",
        "public/faq/shipping": "Orders ship within 2 working days.",
    ]

    static let tools: [Entry] = [
        Entry(
            name: "search",
            description: "Finds documents whose text holds every word of the query.",
            inputSchema: [
                "type": "object", "properties": ["query": ["type": "string"]], "required": ["query"],
            ],
            run: { arguments in
                let words = (arguments["query"]?.stringValue ?? "").lowercased().split(separator: " ")
                let hits = documents.filter { _, text in words.allSatisfy { text.lowercased().contains($0) } }
                return hits.keys.sorted().joined(separator: "\n")
            }
        ),
        Entry(
            name: "read_document",
            description: "Returns a document's text.",
            inputSchema: ["type": "object", "properties": ["id": ["type": "string"]], "required": ["id"]],
            run: { arguments in documents[arguments["id"]?.stringValue ?? ""] ?? "no such document" }
        ),
        Entry(
            name: "send_email",
            description: "Sends an email.",
            inputSchema: [
                "type": "object",
                "properties": ["to": ["type": "string"], "subject": ["type": "string"], "body": ["type": "string"]],
                "required": ["to", "subject", "body"],
            ],
            run: { arguments in "queued for \(arguments["to"]?.stringValue ?? "-")" }
        ),
    ]

    /// The scope value that stands for calling a tool.
    static func scope(for tool: String) -> String { "tools:" + tool }

    /// The requirement of calling a tool.
    static func requirement(_ tool: String) -> WritRequirement {
        WritRequirement(action: "call", resource: Resource(type: "tool", identifier: tool))
    }

    let verifier: TokenVerifier

    /// Whether the verified token covers calling a tool.
    func allows(_ access: VerifiedAccess, _ tool: String) -> Bool {
        let needed = Self.requirement(tool)
        return (try? verifier.authorize(access, needed.action, on: needed.resource)) != nil
    }

    /// One HTTP request to the MCP endpoint, its token already verified by the middleware: a `tools/call` the
    /// token does not cover is refused before any MCP handling; anything else goes to an MCP server made for
    /// this request, whose handlers see only this request's token.
    func serve(
        _ request: Request,
        context: MCPToolsServer.Context,
        middleware: WritAuthorizationMiddleware<MCPToolsServer.Context>
    ) async throws -> Response {
        guard let access = context.writAccess else { return Response(status: .unauthorized) }
        var request = request
        let body = try await request.collectBody(upTo: 1 << 20)
        let bytes = Array(buffer: body)
        let dpop = request.headers[.authorization]?.lowercased().hasPrefix("dpop ") == true
        // A tool the catalogue does not hold is the MCP server's to refuse (unknown tool); only a real tool has a
        // scope to name.
        if let tool = Self.calledTool(bytes), Self.tools.contains(where: { bytesEqual($0.name, tool) }),
            !allows(access, tool)
        {
            return middleware.forbidden(
                "the token does not allow calling the tool \(tool.prefix(64))",
                scope: Self.scope(for: tool),
                dpop: dpop
            )
        }
        let server = Server(
            name: "writ-example-tools",
            version: "1.0.0",
            capabilities: .init(tools: .init(listChanged: false))
        )
        let catalogue = self
        await server.withMethodHandler(ListTools.self) { _ in
            ListTools.Result(
                tools: Self.tools.filter { catalogue.allows(access, $0.name) }.map {
                    Tool(name: $0.name, description: $0.description, inputSchema: $0.inputSchema)
                }
            )
        }
        await server.withMethodHandler(CallTool.self) { parameters in
            // Checked again here: the call the handler runs is the one authorised.
            guard catalogue.allows(access, parameters.name),
                let tool = Self.tools.first(where: { bytesEqual($0.name, parameters.name) })
            else { throw MCPError.invalidParams("the token does not allow calling \(parameters.name)") }
            return CallTool.Result(content: [
                .text(text: tool.run(parameters.arguments ?? [:]), annotations: nil, _meta: nil)
            ])
        }
        let transport = StatelessHTTPServerTransport(
            validationPipeline: StandardValidationPipeline(validators: [
                AcceptHeaderValidator(mode: .jsonOnly), ContentTypeValidator(), ProtocolVersionValidator(),
            ])
        )
        try await server.start(transport: transport)
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { $0 + ", " + field.value } ?? field.value
        }
        let answer = await transport.handleRequest(
            MCP.HTTPRequest(
                method: request.method.rawValue,
                headers: headers,
                body: bytes.isEmpty ? nil : Data(bytes),
                path: request.uri.path
            )
        )
        await server.stop()
        var fields = HTTPFields()
        for (name, value) in answer.headers {
            if let name = HTTPField.Name(name) { fields[name] = value }
        }
        return Response(
            status: HTTPTypes.HTTPResponse.Status(code: answer.statusCode),
            headers: fields,
            body: answer.bodyData.map { ResponseBody(byteBuffer: ByteBuffer(bytes: $0)) } ?? ResponseBody()
        )
    }

    /// The tool a JSON-RPC `tools/call` request names; nil for any other message (or one that does not parse,
    /// which the MCP server refuses on its own).
    static func calledTool(_ body: [UInt8]) -> String? {
        guard let message = try? StrictJSON(maximumDepth: 64).parse(bytes: body).objectValue,
            message["method"]?.stringValue == "tools/call"
        else { return nil }
        // A call without a name is the MCP server's to refuse (invalid params), not a tool to authorise.
        return message["params"]?.objectValue?["name"]?.stringValue
    }
}
