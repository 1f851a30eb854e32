import Metrics
import Prometheus

/// swift-metrics to Prometheus, as `PrometheusMetricsFactory` does, plus what that factory cannot
/// pass on: the `# HELP` text and the timer buckets of each family in `ServerMetrics.families`.
/// (swift-prometheus 2.4 takes help text only through its registry's `make...(descriptor:)` calls;
/// its swift-metrics factory registers every metric with none.) Metrics of other labels get
/// swift-prometheus's defaults and no HELP line.
public struct ChainMetricsFactory: MetricsFactory {
    private let plain: PrometheusMetricsFactory
    private let families: [String: MetricFamily]

    public init(registry: PrometheusCollectorRegistry) {
        plain = PrometheusMetricsFactory(registry: registry)
        families = Dictionary(uniqueKeysWithValues: ServerMetrics.families.map { ($0.name, $0) })
    }

    private var registry: PrometheusCollectorRegistry { plain.registry }

    /// The family's name as it is (no namespace or unit appended) with its help text.
    private func descriptor(_ family: MetricFamily) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: family.name, unitName: "", helpText: family.help)
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        guard let family = families[label] else { return plain.makeCounter(label: label, dimensions: dimensions) }
        return registry.makeCounter(descriptor: descriptor(family), labels: dimensions)
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        guard let family = families[label] else { return plain.makeFloatingPointCounter(label: label, dimensions: dimensions) }
        return registry.makeCounter(descriptor: descriptor(family), labels: dimensions)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard let family = families[label] else { return plain.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate) }
        guard aggregate else { return registry.makeGauge(descriptor: descriptor(family), labels: dimensions) }
        return registry.makeValueHistogram(descriptor: descriptor(family), labels: dimensions, buckets: plain.defaultValueHistogramBuckets)
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        guard let family = families[label] else { return plain.makeMeter(label: label, dimensions: dimensions) }
        return registry.makeGauge(descriptor: descriptor(family), labels: dimensions)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        guard let family = families[label] else { return plain.makeTimer(label: label, dimensions: dimensions) }
        return registry.makeDurationHistogram(descriptor: descriptor(family), labels: dimensions,
                                              buckets: family.buckets ?? plain.defaultDurationHistogramBuckets)
    }

    public func destroyCounter(_ handler: any CounterHandler) { plain.destroyCounter(handler) }
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { plain.destroyFloatingPointCounter(handler) }
    public func destroyRecorder(_ handler: any RecorderHandler) { plain.destroyRecorder(handler) }
    public func destroyMeter(_ handler: any MeterHandler) { plain.destroyMeter(handler) }
    public func destroyTimer(_ handler: any TimerHandler) { plain.destroyTimer(handler) }
}
