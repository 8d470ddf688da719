import ArgumentParser
import CLISupport
import FoundationEssentials
import ImageRequests

struct Sign: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign an imgproxy-style path for imgfn serve (and imgproxy).",
        discussion: """
            Prints /SIGNATURE/PATH: PATH is what follows the signature, from its slash, e.g. \
            /rs:fill:300:200/plain/local:///uploads/a.jpg@webp. The key and salt come from \
            IMGFN_SIGNING_KEY and IMGFN_SIGNING_SALT (hex; with comma-separated pairs the first \
            signs), IMGFN_SIGNATURE_SIZE truncates as the server does. Exit status 64 when they \
            are missing or not hex.
            """
    )

    @Argument(help: "The path after the signature, starting with /.")
    var path: String

    func validate() throws {
        guard path.hasPrefix("/") else { throw ValidationError("the path must start with /") }
    }

    func run() throws {
        let signing: URLSigning?
        do {
            signing = try RequestSettings.signing(environment: ProcessInfo.processInfo.environment)
        } catch {
            throw ExitStatus.report(error, subject: "IMGFN_SIGNING_KEY")
        }
        guard let signing else {
            printError("imgfn: sign: set IMGFN_SIGNING_KEY and IMGFN_SIGNING_SALT (hex)")
            throw ExitCode(ExitStatus.usage)
        }
        print("/\(signing.sign(path))\(path)")
    }
}
