import ArgumentParser
import WritCLI

/// The `writ` executable: all verbs live in WritCLI.
@main
struct Writ {
    static func main() async {
        await WritCommand.main(nil)
    }
}
