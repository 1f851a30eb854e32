import ArgumentParser

/// `chainkv bench`: the design paper's evaluation as a load generator, against chainkv or a
/// ZooKeeper ensemble; `bench chart` and `bench report` turn its JSON results into SVG figures and
/// a markdown summary.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput and latency of chainkv (or ZooKeeper) under the paper's workloads.",
        discussion: """
        `chainkv bench [run] ...` measures; `chainkv bench chart` draws SVG figures from its JSON;
        `chainkv bench report` writes a markdown summary. scripts/bench runs the whole evaluation.
        `chainkv bench failover` kills chain roles and the ZooKeeper leader under load and reports the
        unavailability (scripts/bench-failover runs it).

        Examples:
          chainkv bench --clients 32 --mix 0:100              # 32 closed-loop writers
          chainkv bench --clients 8 --pipeline 64 --mix 100:0 # 64 reads in flight on each of 8
          chainkv bench --target zookeeper --mix 0:100        # $CHAINKV_ZK or 127.0.0.1:2181-2183
          chainkv bench --sweep clients --json-file c.json
          chainkv bench chart --x clients --out c.svg c.json

        Exit codes: 0 done, 1 bench failover: a kill was not measured cleanly, 2 usage error,
        3 runtime error (target unreachable, a file unreadable).
        """,
        subcommands: [BenchRun.self, BenchChart.self, BenchReport.self, BenchFailover.self, BenchAPI.self],
        defaultSubcommand: BenchRun.self
    )
}

extension BenchTargetKind: ExpressibleByArgument {}
