/// The release and the git commit of this build, for `--version` of both executables.
public enum ChainVersion {
    /// The release number; raised by hand when a release is cut.
    public static let number = "0.16.0"

    /// The commit the binary was built from (abbreviated hash, "-modified" when Sources/ or
    /// Package.swift differed from it), or "unknown" when git or the repository was not there;
    /// written at build time by the GitCommit plugin (Plugins/GitCommit).
    public static let commit = gitCommit

    /// What `<program> --version` prints, e.g. `chainkv 0.16.0 (commit abc1234)`.
    public static func line(_ program: String) -> String {
        "\(program) \(number) (commit \(commit))"
    }
}
