import ArgumentParser
import Foundation
import WritCLI

/// The `writ` executable: all verbs live in WritCLI. A verb that cannot run (a ``CLIError``: a missing key
/// file, bad configuration) exits 2, as every verb's documented exit codes say; the rest is ArgumentParser's.
@main
struct Writ {
    static func main() async {
        do {
            var command = try WritCommand.parseAsRoot(nil)
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let error as CLIError {
            FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
            exit(2)
        } catch {
            WritCommand.exit(withError: error)
        }
    }
}
